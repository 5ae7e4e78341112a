/**
 * Which tokens a grammar allows next. One token is checked by walking its bytes through the
 * memoized engine; the full mask walks the vocabulary trie once, pruning every subtree whose
 * prefix is rejected (or ends in a character no stack can complete). Masks are cached per
 * grammar position, because decoding revisits the same positions constantly (each character
 * inside a JSON string returns to the same state). EOG tokens are allowed only when the
 * input so far is a complete match.
 *
 * @module
 */
import type { GrammarEngine } from "./engine.ts";
import { TOKEN } from "./ir.ts";
import { type MatchPoint, stepByte, UTF8_LEN, viable } from "./matcher.ts";
import type { TokenTrie } from "./token_trie.ts";

/** Full masks kept per filter (each is vocabSize/8 bytes: 19 KB for a 150k vocabulary). */
const MASK_CACHE = 256;

/** Token admissibility for one grammar over one vocabulary trie. */
export class TokenFilter {
  readonly #masks = new Map<number, Uint32Array>();
  readonly #scratch: MatchPoint = { state: 0, partial: 0, remain: 0 };
  readonly #st: Int32Array;
  readonly #pv: Int32Array;
  readonly #pn: Int32Array;
  /** Full masks computed so far (for benchmarks and tests). */
  fullMasks = 0;

  constructor(readonly engine: GrammarEngine, readonly trie: TokenTrie) {
    const d = trie.maxDepth + 1;
    this.#st = new Int32Array(d);
    this.#pv = new Int32Array(d);
    this.#pn = new Int32Array(d);
  }

  /** Whether token `id` may follow position `at`. */
  allows(at: MatchPoint, id: number): boolean {
    const t = this.trie;
    if (t.eog[id]) return at.remain === 0 && this.engine.isAccepting(at.state);
    const b = t.bytes[id];
    if (b.length === 0 || b[0] === 0) return false;
    if (at.remain === 0 && this.engine.acceptToken(at.state, id) !== 0) return true;
    const s = this.#scratch;
    s.state = at.state;
    s.partial = at.partial;
    s.remain = at.remain;
    for (let i = 0; i < b.length; i++) if (!stepByte(this.engine, s, b[i])) return false;
    return viable(this.engine, s);
  }

  /** Bitset of the allowed tokens at `at` (bit id of word id >> 5); cached per position. */
  mask(at: MatchPoint): Uint32Array {
    const key = (at.state * 0x40000 + at.partial) * 4 + at.remain;
    let m = this.#masks.get(key);
    if (m) {
      this.#masks.delete(key); // LRU: move to the back
      this.#masks.set(key, m);
      return m;
    }
    m = this.#compute(at);
    if (this.#masks.size >= MASK_CACHE) this.#masks.delete(this.#masks.keys().next().value!);
    this.#masks.set(key, m);
    return m;
  }

  #compute(at: MatchPoint): Uint32Array {
    this.fullMasks++;
    const t = this.trie, e = this.engine;
    const m = new Uint32Array((t.vocabSize + 31) >>> 5);
    if (at.remain === 0 && e.isAccepting(at.state)) {
      for (let id = 0; id < t.vocabSize; id++) if (t.eog[id]) m[id >>> 5] |= 1 << (id & 31);
    }
    const st = this.#st, pv = this.#pv, pn = this.#pn;
    st[0] = at.state;
    pv[0] = at.partial;
    pn[0] = at.remain;
    const { byte, depth, end, tokStart, tokEnd, tokens } = t;
    let i = 1;
    while (i < t.size) {
      const d = depth[i], b = byte[i];
      const ps = st[d - 1], ppn = pn[d - 1];
      let s = ps, v = 0, n = 0;
      if (ppn === 0) {
        if (b < 0x80) s = e.accept(ps, b);
        else {
          const len = UTF8_LEN[b];
          if (len === 0) s = 0;
          else {
            n = len - 1;
            v = b & ((1 << (7 - n)) - 1);
          }
        }
      } else if ((b & 0xc0) !== 0x80) {
        s = 0;
      } else {
        v = (pv[d - 1] << 6) | (b & 0x3f);
        n = ppn - 1;
        if (n === 0) {
          s = e.accept(ps, v);
          v = 0;
        }
      }
      if (s === 0 || (n > 0 && !e.canComplete(s, v, n))) {
        i = end[i];
        continue;
      }
      st[d] = s;
      pv[d] = v;
      pn[d] = n;
      for (let k = tokStart[i], ke = tokEnd[i]; k < ke; k++) {
        const id = tokens[k];
        m[id >>> 5] |= 1 << (id & 31);
      }
      i++;
    }
    if (at.remain === 0) this.#addTokenRefs(at.state, m);
    return m;
  }

  /** Tokens allowed whole by stacks topped with `<[id]>` / `!<[id]>`. */
  #addTokenRefs(state: number, m: Uint32Array): void {
    const tops = this.engine.tokenTops(state), t = this.trie;
    const usable = (id: number) =>
      id >= 0 && id < t.vocabSize && !t.eog[id] && t.bytes[id].length > 0 && t.bytes[id][0] !== 0;
    for (let k = 0; k < tops.length; k += 2) {
      const v = tops[k + 1];
      if (tops[k] === TOKEN) {
        if (usable(v)) m[v >>> 5] |= 1 << (v & 31);
      } else {
        for (let id = 0; id < t.vocabSize; id++) {
          if (id !== v && usable(id)) m[id >>> 5] |= 1 << (id & 31);
        }
      }
    }
  }
}
