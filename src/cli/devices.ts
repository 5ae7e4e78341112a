/**
 * `devices [--json]`: lists the compute backends this machine can use: the HIP backend's GPUs
 * (name, architecture, memory, compute units, warp size) or why it is unavailable in plain
 * words ("no GPU found (<why>)", library not built, a chip the build has no code object for:
 * "gfx1103 not in this build: rebuild with --offload-arch gfx1103"), the WebGPU adapter, and
 * the CPU.
 *
 * @module
 */
import type { Backend, BackendProbe } from "../core/backend.ts";
import { createCpuBackend } from "../backends/cpu/backend.ts";
import { createHipBackend } from "../backends/hip/backend.ts";
import { createWebGpuBackend } from "../backends/webgpu/backend.ts";
import { formatBytes } from "../gguf/describe.ts";
import { formatFlags, parseArgs, UsageError } from "./args.ts";
import { type Command, type CommandIO, registerCommand } from "./command.ts";

const FLAGS = {
  json: { type: "boolean", description: "print one JSON object instead of text" },
} as const;

/** What `devices` reports for one backend. */
export interface BackendReport {
  readonly backend: string;
  readonly probe: BackendProbe;
}

/** Probes each backend (probe never throws). */
export async function probeBackends(backends: readonly Backend[]): Promise<BackendReport[]> {
  const out: BackendReport[] = [];
  for (const b of backends) out.push({ backend: b.name, probe: await b.probe() });
  return out;
}

/** Text lines for the reports. */
export function formatReports(reports: readonly BackendReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    if (!r.probe.available) {
      lines.push(`${r.backend}: unavailable: ${r.probe.reason ?? "no reason given"}`);
      continue;
    }
    lines.push(`${r.backend}: ${r.probe.devices.length} device(s)`);
    for (const d of r.probe.devices) {
      const extra = [
        d.arch,
        d.computeUnits !== undefined ? `${d.computeUnits} CUs` : undefined,
        d.warpSize !== undefined ? `warp ${d.warpSize}` : undefined,
      ].filter((x) => x !== undefined).join(", ");
      lines.push(
        `  [${d.id}] ${d.name}${extra ? ` (${extra})` : ""}: ` +
          `${formatBytes(d.freeMemory)} free of ${formatBytes(d.totalMemory)}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** The command. */
export const devicesCommand: Command = {
  name: "devices",
  summary: "list GPUs and CPU the backends can use",
  usage: `devices [--json]\n${formatFlags(FLAGS)}`,
  async run(argv: string[], io: CommandIO): Promise<number> {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) {
      throw new UsageError(`devices takes no arguments`, { actual: positionals.join(" ") });
    }
    const hip = createHipBackend();
    const webgpu = createWebGpuBackend();
    const reports = await probeBackends([hip, webgpu, createCpuBackend()]);
    hip.dispose();
    webgpu.dispose();
    io.stdout(
      flags.json ? JSON.stringify({ backends: reports }, null, 2) + "\n" : formatReports(reports),
    );
    return 0;
  },
};

registerCommand(devicesCommand);
