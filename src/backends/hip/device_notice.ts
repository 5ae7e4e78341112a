/**
 * Plain reasons why the HIP backend cannot run, for `devices` and the load notice: no GPU at
 * all ("no GPU found (...)"), or a chip the library has no code object for ("AMD Radeon RX
 * 7600 (gfx1103): gfx1103 not in this build ...: rebuild with --offload-arch gfx1103").
 *
 * @module
 */
import { BackendError } from "../../core/errors.ts";
import { missingCodeObject, processorOf } from "./code_objects.ts";
import type { NativeErrorDetail } from "./errors.ts";
import { RfStatus } from "./ffi/symbols.ts";

/** GPU runtime errors that mean there is no usable GPU (none present, or no driver for it). */
const NO_GPU_ERRORS = /NoDevice|InsufficientDriver|NoDriver|DriverMismatch/;

/** "no GPU found (<why>)" when rf_init's failure `d` means no GPU is usable, else undefined. */
export function noGpuReason(d: NativeErrorDetail): string | undefined {
  if (d.status !== RfStatus.NO_DEVICE && !NO_GPU_ERRORS.test(d.gpuError)) return undefined;
  const what =
    (d.call && d.message.startsWith(`${d.call}: `) ? d.message.slice(d.call.length + 2) : d.message)
      .replace(` (${d.gpuError})`, ""); // HIP 5.2's error string is the name again
  if (!d.gpuError) return "no GPU found (the GPU runtime reports no devices)";
  const driver = /InsufficientDriver|NoDriver|DriverMismatch/.test(d.gpuError)
    ? "the GPU driver is missing or older than the runtime: "
    : "";
  return `no GPU found (${driver}${what || d.gpuError})`;
}

/** The BACKEND_UNAVAILABLE error for noGpuReason, or undefined when `d` is another failure. */
export function noGpuError(d: NativeErrorDetail): BackendError | undefined {
  const reason = noGpuReason(d);
  if (!reason) return undefined;
  return new BackendError("BACKEND_UNAVAILABLE", reason, {
    call: d.call,
    gpuError: d.gpuError,
    gpuCode: d.gpuCode,
  });
}

/**
 * The BACKEND_UNAVAILABLE error for device `name` (architecture `arch`, e.g.
 * "gfx1103" or "gfx90a:sramecc+:xnack-") when `processors` (the AMD targets the library has
 * code objects for) lack it; undefined when the library can run on it.
 */
export function codeObjectError(
  name: string,
  arch: string,
  processors: readonly string[],
): BackendError | undefined {
  const missing = missingCodeObject(arch, processors);
  if (!missing) return undefined;
  return new BackendError("BACKEND_UNAVAILABLE", `${name} (${processorOf(arch)}): ${missing}`, {
    expected: processors.join(","),
    actual: processorOf(arch),
  });
}
