/**
 * Calls as they stream: in the text of an answer's call region, each `"name": "...",` followed
 * by `"arguments"` (or Llama 3's `"parameters"`) starts a call (every family's call JSON has
 * this shape, and the tool grammar writes the name first), and the arguments value's text is
 * released as it grows, until the value closes. This is what streamed `delta.tool_calls`
 * carry: the name once, then pieces of the arguments text (their concatenation is the
 * arguments JSON as the model wrote it).
 *
 * @module
 */

/** A piece of a call: its name when it first appears, then arguments text. */
export interface CallDelta {
  /** The call's position in the answer (0, 1, ...). */
  index: number;
  /** Set on the call's first delta. */
  name?: string;
  arguments: string;
}

const CALL_HEAD = /"name"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"(?:arguments|parameters)"\s*:\s*/g;

/** Incremental scanner over a growing text. */
export class CallScanner {
  #calls = 0;
  /** Where to look for the next call head. */
  #seek = -1;
  /** Inside an arguments value: where it starts, how far it is scanned and shown. */
  #args: { pos: number; shown: number; depth: number; str: boolean; esc: boolean } | undefined;

  /** The new deltas of `text` (the answer so far), reading calls from `from` on. */
  scan(text: string, from: number): CallDelta[] {
    if (this.#seek < 0) this.#seek = from;
    const out: CallDelta[] = [];
    for (;;) {
      if (!this.#args) {
        CALL_HEAD.lastIndex = this.#seek;
        const m = CALL_HEAD.exec(text);
        if (!m) return out;
        let name: string;
        try {
          name = JSON.parse(`"${m[1]}"`);
        } catch {
          name = m[1];
        }
        out.push({ index: this.#calls, name, arguments: "" });
        const start = m.index + m[0].length;
        this.#args = { pos: start, shown: start, depth: 0, str: false, esc: false };
      }
      const a = this.#args;
      let end = -1;
      for (; a.pos < text.length; a.pos++) {
        const c = text[a.pos];
        if (a.pos === a.shown && a.depth === 0 && !a.str && /\s/.test(c)) {
          a.shown = a.pos + 1; // whitespace before the value is not part of it
          continue;
        }
        if (a.str) {
          if (a.esc) a.esc = false;
          else if (c === "\\") a.esc = true;
          else if (c === '"') {
            a.str = false;
            if (a.depth === 0) end = a.pos + 1;
          }
        } else if (c === '"') a.str = true;
        else if (c === "{" || c === "[") a.depth++;
        else if (c === "}" || c === "]") {
          if (a.depth === 0) end = a.pos; // a bare value ended by its container
          else if (--a.depth === 0) end = a.pos + 1;
        } else if (c === "," && a.depth === 0) end = a.pos;
        if (end >= 0) break;
      }
      const upto = end >= 0 ? end : a.pos;
      const piece = text.slice(a.shown, upto);
      if (piece !== "") out.push({ index: this.#calls, arguments: piece });
      a.shown = upto;
      if (end < 0) return out;
      this.#args = undefined;
      this.#seek = end;
      this.#calls++;
    }
  }

  /** Calls started so far. */
  get started(): number {
    return this.#calls + (this.#args ? 1 : 0);
  }
}
