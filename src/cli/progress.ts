/**
 * Progress on stderr for long CLI steps (model load, pull): a bar redrawn in place on a
 * terminal, plain lines otherwise (one per phase, so logs stay short).
 *
 * @module
 */
import { formatBytes } from "../gguf/describe.ts";
import type { CommandIO } from "./command.ts";

/** One progress report: a phase name and, when known, done/total (bytes unless `unit`). */
export interface ProgressReport {
  readonly phase: string;
  readonly loaded: number;
  readonly total: number;
  readonly unit?: "bytes" | "layers";
  /** The backend receiving weights, and its tensors done / in all (model load). */
  readonly backend?: string;
  readonly tensors?: number;
  readonly tensorsTotal?: number;
}

const amount = (n: number, unit: ProgressReport["unit"]) =>
  unit === "layers" ? `${n} layers` : formatBytes(n);

/** Draws progress to `io.stderr`; call `done()` at the end (clears the bar's line). */
export class ProgressView {
  private lastPhase = "";
  private lastKey = "";
  private lastDraw = 0;
  private drawn = false;
  constructor(
    private readonly io: CommandIO,
    private readonly label: string,
    private readonly width = 30,
  ) {}

  private get tty(): boolean {
    return this.io.tty?.stderr ?? false;
  }

  /** Reports progress. */
  update(p: ProgressReport): void {
    if (!this.tty) {
      const key = `${p.phase}/${p.backend ?? ""}`;
      if (key !== this.lastKey && p.phase !== "done") {
        const on = p.backend ? ` on ${p.backend}` : "";
        const size = p.total > 0 ? ` (${amount(p.total, p.unit)})` : "";
        this.io.stderr(`${this.label}: ${p.phase}${on}${size}\n`);
      }
      this.lastKey = key;
      return;
    }
    const t = performance.now();
    const final = p.total > 0 && p.loaded >= p.total;
    if (p.phase === this.lastPhase && !final && t - this.lastDraw < 80) return;
    this.lastPhase = p.phase;
    this.lastDraw = t;
    this.io.stderr(`\r\x1b[2K${this.line(p)}`);
    this.drawn = true;
  }

  /** The bar's text, e.g. `load [#######-------] 45% weights 280.0 MiB / 620.0 MiB`. */
  line(p: ProgressReport): string {
    if (!(p.total > 0)) return `${this.label} ${p.phase}...`;
    const f = Math.min(1, Math.max(0, p.loaded / p.total));
    const full = Math.round(f * this.width);
    const bar = "#".repeat(full) + "-".repeat(this.width - full);
    const on = p.backend ? ` on ${p.backend}` : "";
    const tensors = p.tensorsTotal ? ` (${p.tensors ?? 0}/${p.tensorsTotal} tensors)` : "";
    return `${this.label} [${bar}] ${(f * 100).toFixed(0).padStart(3)}% ${p.phase}${on} ${
      amount(p.loaded, p.unit)
    } / ${amount(p.total, p.unit)}${tensors}`;
  }

  /** Ends the display (on a terminal: clears the bar). */
  done(): void {
    if (this.tty && this.drawn) this.io.stderr("\r\x1b[2K");
    this.drawn = false;
  }
}
