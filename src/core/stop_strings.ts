/**
 * Stop-string detection over streamed text: text that could still be the start of a stop
 * string is held back until it is known not to be.
 *
 * @module
 */

/** Incremental stop-string matcher. */
export class StopMatcher {
  private pending = "";
  constructor(private readonly stops: readonly string[]) {}

  /**
   * Adds text; returns the text safe to emit and whether a stop string was found (the
   * stop string and anything after it are dropped).
   */
  push(text: string): { emit: string; stopped: boolean } {
    this.pending += text;
    let cut = -1;
    for (const s of this.stops) {
      if (!s) continue;
      const i = this.pending.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      const emit = this.pending.slice(0, cut);
      this.pending = "";
      return { emit, stopped: true };
    }
    let hold = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, this.pending.length); k > hold; k--) {
        if (this.pending.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    const emit = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { emit, stopped: false };
  }

  /** Text held back at the end of generation. */
  flush(): string {
    const p = this.pending;
    this.pending = "";
    return p;
  }
}
