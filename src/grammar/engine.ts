/**
 * The pushdown matcher of llama.cpp's llama-grammar.cpp (advance_stack, accept, match_char,
 * match_partial_char) over interned data so that every step is memoized:
 *
 * - a stack is a persistent linked list of element positions; each (top, rest) pair is
 *   interned to a node id (0 = the empty stack, i.e. the grammar is complete);
 * - a state is the sorted set of stacks whose tops are terminals, interned to a state id
 *   (0 = dead: no stack left);
 * - `accept(state, codePoint)` and `canComplete(state, partial UTF-8)` are cached per state.
 *
 * States repeat constantly while decoding (every character inside a JSON string leads back
 * to the same state), so after warm-up a step is one Map lookup. The tables only grow; a
 * grammar that keeps creating new stacks (unbounded nesting) stops with GRAMMAR_LIMIT.
 *
 * @module
 */
import type { CompiledGrammar } from "./compile.ts";
import { GrammarError } from "./errors.ts";
import {
  ALT,
  CHAR,
  CHAR_ALT,
  CHAR_ANY,
  CHAR_NOT,
  CHAR_RNG_UPPER,
  END,
  RULE_REF,
  TOKEN,
  TOKEN_NOT,
} from "./ir.ts";

/** Most interned stack nodes / states before GRAMMAR_LIMIT (each costs a few dozen bytes). */
const MAX_NODES = 1 << 22;
const MAX_STATES = 1 << 20;

/** Interned stacks and states of one compiled grammar (shared by all its matchers). */
export class GrammarEngine {
  readonly grammar: CompiledGrammar;
  #pos = new Int32Array(1024);
  #parent = new Int32Array(1024);
  #nodes = 1;
  readonly #nodeIds = new Map<number, number>();
  readonly #advanced: (Int32Array | undefined)[] = [undefined];
  readonly #stateStacks: Int32Array[] = [new Int32Array(0)];
  readonly #stateIds = new Map<string, number>([["", 0]]);
  #accepting = new Uint8Array(1024);
  /** Per-state non-ASCII transitions and partial-character answers (small-integer keys). */
  readonly #uni: (Map<number, number> | undefined)[] = [];
  readonly #partial: (Map<number, boolean> | undefined)[] = [];
  /** Per-state ASCII transitions (-1 = not computed yet): the hot path of mask walks. */
  readonly #ascii: (Int32Array | undefined)[] = [];
  /** Per-state transitions on whole tokens (stacks topped by `<[id]>` / `!<[id]>`). */
  readonly #tok: (Map<number, number> | undefined)[] = [];
  /** Per state: [type, id] of each token-topped stack (empty array: none). */
  readonly #tokTops: (Int32Array | undefined)[] = [];
  /** The state before any input. */
  readonly initial: number;

  constructor(grammar: CompiledGrammar) {
    this.grammar = grammar;
    const { type, ruleStart } = grammar;
    const acc = new Set<number>();
    let p = ruleStart[grammar.root];
    for (;;) {
      this.#advanceInto(type[p] === END || type[p] === ALT ? 0 : this.#node(p, 0), acc);
      while (type[p] !== END && type[p] !== ALT) p++;
      if (type[p] === ALT) p++;
      else break;
    }
    this.initial = this.#state(acc);
  }

  /** Number of interned stack nodes and states (for tests and limits). */
  get sizes(): { nodes: number; states: number } {
    return { nodes: this.#nodes, states: this.#stateStacks.length };
  }

  /** True when some stack of `state` is empty (the input so far is a complete match). */
  isAccepting(state: number): boolean {
    return this.#accepting[state] === 1;
  }

  /** The state after code point `cp` (0 when no stack accepts it). */
  accept(state: number, cp: number): number {
    if (state === 0) return 0;
    if (cp < 128) {
      let row = this.#ascii[state];
      if (row === undefined) {
        row = new Int32Array(128).fill(-1);
        this.#ascii[state] = row;
      }
      const v = row[cp];
      if (v >= 0) return v;
      return (row[cp] = this.#acceptNew(state, cp));
    }
    let map = this.#uni[state];
    if (map === undefined) {
      map = new Map();
      this.#uni[state] = map;
    }
    const hit = map.get(cp);
    if (hit !== undefined) return hit;
    const out = this.#acceptNew(state, cp);
    map.set(cp, out);
    return out;
  }

  #acceptNew(state: number, cp: number): number {
    const { type, value } = this.grammar;
    const acc = new Set<number>();
    for (const s of this.#stateStacks[state]) {
      if (s === 0) continue;
      const t0 = type[this.#pos[s]];
      if (t0 === TOKEN || t0 === TOKEN_NOT) continue; // matched as whole tokens only
      const next = matchChar(type, value, this.#pos[s], cp);
      if (next < 0) continue;
      const rest = this.#parent[s];
      const t = type[next];
      this.#advanceInto(t === END || t === ALT ? rest : this.#node(next, rest), acc);
    }
    return this.#state(acc);
  }

  /** [type, id] pairs of the token-topped stacks of `state` (cached). */
  tokenTops(state: number): Int32Array {
    let tops = this.#tokTops[state];
    if (tops === undefined) {
      const { type, value } = this.grammar;
      const out: number[] = [];
      for (const s of this.#stateStacks[state]) {
        const p = this.#pos[s];
        if (s !== 0 && (type[p] === TOKEN || type[p] === TOKEN_NOT)) out.push(type[p], value[p]);
      }
      tops = Int32Array.from(out);
      this.#tokTops[state] = tops;
    }
    return tops;
  }

  /** The state after whole token `id` through the token-topped stacks only (0: none match). */
  acceptToken(state: number, id: number): number {
    if (state === 0 || this.tokenTops(state).length === 0) return 0;
    let map = this.#tok[state];
    if (map === undefined) {
      map = new Map();
      this.#tok[state] = map;
    }
    const hit = map.get(id);
    if (hit !== undefined) return hit;
    const { type } = this.grammar;
    const acc = new Set<number>();
    for (const s of this.#stateStacks[state]) {
      const p = this.#pos[s];
      if (s === 0 || (type[p] !== TOKEN && type[p] !== TOKEN_NOT)) continue;
      if ((this.grammar.value[p] === id) !== (type[p] === TOKEN)) continue;
      const rest = this.#parent[s];
      const t = type[p + 1];
      this.#advanceInto(t === END || t === ALT ? rest : this.#node(p + 1, rest), acc);
    }
    const out = this.#state(acc);
    map.set(id, out);
    return out;
  }

  /** The state holding the stacks of both `a` and `b`. */
  union(a: number, b: number): number {
    if (a === 0 || a === b) return b;
    if (b === 0) return a;
    return this.#state(new Set([...this.#stateStacks[a], ...this.#stateStacks[b]]));
  }

  /**
   * Whether some completion of a partial UTF-8 sequence (decoded bits `value`, `remain`
   * continuation bytes still missing) could be accepted in `state`.
   */
  canComplete(state: number, value: number, remain: number): boolean {
    if (state === 0) return false;
    let map = this.#partial[state];
    if (map === undefined) {
      map = new Map();
      this.#partial[state] = map;
    }
    const key = value * 4 + remain;
    const hit = map.get(key);
    if (hit !== undefined) return hit;
    let ok = false;
    const { type, value: val } = this.grammar;
    for (const s of this.#stateStacks[state]) {
      if (s !== 0 && matchPartial(type, val, this.#pos[s], value, remain)) {
        ok = true;
        break;
      }
    }
    map.set(key, ok);
    return ok;
  }

  #node(pos: number, parent: number): number {
    const key = pos * 0x100000000 + parent;
    let id = this.#nodeIds.get(key);
    if (id !== undefined) return id;
    id = this.#nodes++;
    if (id >= MAX_NODES) {
      throw new GrammarError("GRAMMAR_LIMIT", `grammar stacks exceed ${MAX_NODES} nodes`, {
        expected: MAX_NODES,
      });
    }
    if (id >= this.#pos.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.#pos = grow(this.#pos);
      this.#parent = grow(this.#parent);
    }
    this.#pos[id] = pos;
    this.#parent[id] = parent;
    this.#nodeIds.set(key, id);
    return id;
  }

  /** Adds to `out` every stack reachable from `node` whose top is a terminal (memoized). */
  #advanceInto(node: number, out: Set<number>): void {
    let done = this.#advanced[node];
    if (done === undefined) {
      const found = new Set<number>();
      const seen = new Set<number>();
      const todo = [node];
      const { type, value, ruleStart } = this.grammar;
      while (todo.length > 0) {
        const cur = todo.pop()!;
        if (seen.has(cur)) continue;
        seen.add(cur);
        if (cur === 0) {
          found.add(0);
          continue;
        }
        const p = this.#pos[cur];
        if (type[p] !== RULE_REF) {
          found.add(cur);
          continue;
        }
        let rest = this.#parent[cur];
        const after = type[p + 1];
        if (after !== END && after !== ALT) rest = this.#node(p + 1, rest);
        let sub = ruleStart[value[p]];
        for (;;) {
          const t = type[sub];
          todo.push(t === END || t === ALT ? rest : this.#node(sub, rest));
          while (type[sub] !== END && type[sub] !== ALT) sub++;
          if (type[sub] === ALT) sub++;
          else break;
        }
      }
      done = Int32Array.from(found);
      this.#advanced[node] = done;
    }
    for (const s of done) out.add(s);
  }

  #state(stacks: Set<number>): number {
    if (stacks.size === 0) return 0;
    const sorted = Int32Array.from(stacks).sort();
    const key = sorted.join(",");
    let id = this.#stateIds.get(key);
    if (id !== undefined) return id;
    id = this.#stateStacks.length;
    if (id >= MAX_STATES) {
      throw new GrammarError("GRAMMAR_LIMIT", `grammar states exceed ${MAX_STATES}`, {
        expected: MAX_STATES,
      });
    }
    this.#stateStacks.push(sorted);
    this.#stateIds.set(key, id);
    if (id >= this.#accepting.length) {
      const b = new Uint8Array(this.#accepting.length * 2);
      b.set(this.#accepting);
      this.#accepting = b;
    }
    this.#accepting[id] = sorted[0] === 0 ? 1 : 0;
    return id;
  }
}

/** llama_grammar_match_char: the position after the class at `p` if `cp` matches, else -1. */
function matchChar(type: Uint8Array, value: Int32Array, p: number, cp: number): number {
  const t0 = type[p];
  const positive = t0 === CHAR || t0 === CHAR_ANY;
  let found = false;
  do {
    if (type[p + 1] === CHAR_RNG_UPPER) {
      found = found || (value[p] <= cp && cp <= value[p + 1]);
      p += 2;
    } else if (type[p] === CHAR_ANY) {
      found = true;
      p += 1;
    } else {
      found = found || value[p] === cp;
      p += 1;
    }
  } while (type[p] === CHAR_ALT);
  return found === positive ? p : -1;
}

/** llama_grammar_match_partial_char. */
function matchPartial(
  type: Uint8Array,
  value: Int32Array,
  p: number,
  partial: number,
  remain: number,
): boolean {
  const t0 = type[p];
  const positive = t0 === CHAR || t0 === CHAR_ANY;
  if (t0 !== CHAR && t0 !== CHAR_ANY && t0 !== CHAR_NOT) return false;
  if (remain === 1 && partial < 2) return false;
  let low = partial << (remain * 6);
  const high = low | ((1 << (remain * 6)) - 1);
  if (low === 0) {
    if (remain === 2) low = 1 << 11;
    else if (remain === 3) low = 1 << 16;
  }
  do {
    if (type[p + 1] === CHAR_RNG_UPPER) {
      if (value[p] <= high && low <= value[p + 1]) return positive;
      p += 2;
    } else if (type[p] === CHAR_ANY) {
      return true;
    } else {
      if (low <= value[p] && value[p] <= high) return positive;
      p += 1;
    }
  } while (type[p] === CHAR_ALT);
  return !positive;
}
