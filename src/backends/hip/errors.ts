/**
 * Maps a native status plus rf_last_error's facts to the project's typed errors: out of
 * memory becomes OutOfMemoryError, a rejected argument or program InvalidArgumentError, and
 * every other failure BackendError (BACKEND_UNAVAILABLE when no device is usable, else
 * BACKEND_CALL_FAILED). The facts always name the failed call and the GPU runtime error.
 *
 * @module
 */
import {
  BackendError,
  InvalidArgumentError,
  OutOfMemoryError,
  type RocmForgeError,
} from "../../core/errors.ts";
import { RfStatus } from "./ffi/symbols.ts";

/** What rf_last_error reports. */
export interface NativeErrorDetail {
  /** rf_status of the failure. */
  readonly status: number;
  /** Full message, "<call>: <what happened>". */
  readonly message: string;
  /** The failed call (a GPU runtime call such as "hipMalloc(scratch)" or an rf_* entry). */
  readonly call: string;
  /** GPU runtime error name ("hipErrorOutOfMemory", "cudaErrorMemoryAllocation"), or "". */
  readonly gpuError: string;
  /** GPU runtime error code, 0 when the failure was not a runtime call. */
  readonly gpuCode: number;
  /** Bytes involved (allocation size), 0 when none. */
  readonly bytes: number;
}

/** Name of an rf_status code. */
export function statusName(status: number): string {
  const e = Object.entries(RfStatus).find(([, v]) => v === status);
  return e ? e[0] : `STATUS_${status}`;
}

/** The typed error for a failed native call `fn` (the rf_* function that returned it). */
export function nativeError(fn: string, d: NativeErrorDetail): RocmForgeError {
  const facts = {
    call: d.call || fn,
    function: fn,
    status: statusName(d.status),
    gpuError: d.gpuError,
    gpuCode: d.gpuCode,
    bytes: d.bytes,
  };
  const msg = `${fn} failed: ${d.message || statusName(d.status)}`;
  switch (d.status) {
    case RfStatus.OOM:
      return new OutOfMemoryError(msg, facts);
    case RfStatus.INVALID:
      return new InvalidArgumentError(msg, facts);
    case RfStatus.NO_DEVICE:
      return new BackendError("BACKEND_UNAVAILABLE", msg, facts);
    default:
      return new BackendError("BACKEND_CALL_FAILED", msg, facts);
  }
}
