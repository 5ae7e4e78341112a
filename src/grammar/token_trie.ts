/**
 * A byte trie of a vocabulary's token texts, built once per vocabulary and shared by every
 * grammar. Nodes are stored in preorder with the end of each subtree, so a walk is a linear
 * scan that skips a whole subtree in one step when its prefix is rejected. End-of-generation
 * tokens and tokens without bytes are left out (the filter decides EOG on its own).
 *
 * @module
 */

/** What the grammar needs from a tokenizer (a {@link Tokenizer} satisfies it). */
export interface GrammarVocab {
  readonly vocabSize: number;
  /** The bytes a token contributes to text (special tokens: their text). */
  tokenBytes(id: number): Uint8Array;
  /** True for EOS, EOT and the other end-of-generation tokens. */
  isEog(id: number): boolean;
}

/** The trie plus per-token facts the filter needs. */
export interface TokenTrie {
  readonly vocabSize: number;
  /** Byte on the edge into node i (node 0 is the root). */
  readonly byte: Uint8Array;
  /** Depth of node i (root 0). */
  readonly depth: Uint16Array;
  /** One past the last node of i's subtree. */
  readonly end: Int32Array;
  /** Tokens ending at node i: `tokens[tokStart[i] .. tokEnd[i])`. */
  readonly tokStart: Int32Array;
  readonly tokEnd: Int32Array;
  /** Token ids in trie (byte-lexicographic) order. */
  readonly tokens: Int32Array;
  /** Number of nodes. */
  readonly size: number;
  /** Longest token in bytes. */
  readonly maxDepth: number;
  /** 1 for end-of-generation tokens. */
  readonly eog: Uint8Array;
  /** Bytes of every token (empty for EOG and byte-less tokens). */
  readonly bytes: readonly Uint8Array[];
}

const cache = new WeakMap<GrammarVocab, TokenTrie>();

/** The bytes as a latin1 string: string order is then byte-lexicographic order. */
function key(b: Uint8Array): string {
  if (b.length <= 1024) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** The trie of `vocab` (built on first use, then cached for the vocabulary object). */
export function tokenTrie(vocab: GrammarVocab): TokenTrie {
  let t = cache.get(vocab);
  if (!t) {
    t = buildTrie(vocab);
    cache.set(vocab, t);
  }
  return t;
}

function buildTrie(vocab: GrammarVocab): TokenTrie {
  const n = vocab.vocabSize;
  const eog = new Uint8Array(n);
  const bytes: Uint8Array[] = new Array(n);
  const ids: number[] = [];
  let totalBytes = 0;
  const EMPTY = new Uint8Array(0);
  for (let id = 0; id < n; id++) {
    if (vocab.isEog(id)) {
      eog[id] = 1;
      bytes[id] = EMPTY;
      continue;
    }
    const b = vocab.tokenBytes(id);
    bytes[id] = b;
    if (b.length === 0 || b[0] === 0) continue; // llama.cpp rejects empty and NUL-led pieces
    ids.push(id);
    totalBytes += b.length;
  }
  const keys: string[] = new Array(n);
  for (const id of ids) keys[id] = key(bytes[id]);
  ids.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
  const cap = totalBytes + 1;
  const byte = new Uint8Array(cap), depth = new Uint16Array(cap), end = new Int32Array(cap);
  const tokStart = new Int32Array(cap), tokEnd = new Int32Array(cap);
  const tokens = Int32Array.from(ids);
  const path: number[] = [0]; // path[d] = node at depth d on the current branch
  let size = 1, maxDepth = 0;
  let prev: Uint8Array = EMPTY;
  for (let k = 0; k < ids.length; k++) {
    const b = bytes[ids[k]];
    let lcp = 0;
    const lim = Math.min(prev.length, b.length);
    while (lcp < lim && prev[lcp] === b[lcp]) lcp++;
    while (path.length - 1 > lcp) end[path.pop()!] = size;
    for (let d = lcp; d < b.length; d++) {
      const node = size++;
      byte[node] = b[d];
      depth[node] = d + 1;
      path.push(node);
    }
    const leaf = path[path.length - 1];
    if (tokEnd[leaf] === 0) tokStart[leaf] = k;
    tokEnd[leaf] = k + 1;
    if (b.length > maxDepth) maxDepth = b.length;
    prev = b;
  }
  while (path.length > 0) end[path.pop()!] = size;
  return { vocabSize: n, byte, depth, end, tokStart, tokEnd, tokens, size, maxDepth, eog, bytes };
}
