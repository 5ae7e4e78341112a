/**
 * Small in-memory tokenizer metadata for unit tests (no shared data needed), and a loader
 * for the shared vocab GGUFs.
 *
 * @module
 */
import type { MetaValue } from "../gguf/gguf_file.ts";
import { plainMetadata } from "../gguf/gguf_file.ts";
import { openGGUF } from "../gguf/reader.ts";

/** SPM metadata: <unk> <s> </s>, 256 byte tokens, then scored pieces. */
export function tinySpmMetadata(): Map<string, MetaValue> {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  const pieces: [string, number][] = [
    ["\u2581", -1],
    ["a", -2],
    ["b", -2],
    ["c", -2],
    ["\u2581a", -3],
    ["ab", -1.5],
    ["\u2581ab", -4],
    ["bc", -2.5],
    ["<|im_end|>", 0],
  ];
  for (const [p] of pieces) tokens.push(p);
  for (const [p] of pieces) types.push(p.startsWith("<|") ? 3 : 1);
  const scores = tokens.map((_, i) => (i >= 259 ? pieces[i - 259][1] : 0));
  return new Map<string, MetaValue>([
    ["general.name", "tiny"],
    ["tokenizer.ggml.model", "llama"],
    ["tokenizer.ggml.tokens", tokens],
    ["tokenizer.ggml.scores", scores],
    ["tokenizer.ggml.token_type", types],
    ["tokenizer.ggml.bos_token_id", 1],
    ["tokenizer.ggml.eos_token_id", 2],
    ["tokenizer.ggml.unknown_token_id", 0],
  ]);
}

/** Byte-level BPE metadata over the GPT-2 byte alphabet with a few merges. */
export function tinyBpeMetadata(byteChars: readonly string[]): Map<string, MetaValue> {
  const tokens = [...byteChars];
  const merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "Ġw o"];
  for (const m of merges) tokens.push(m.replace(" ", ""));
  tokens.push("<|endoftext|>", "<|user|>");
  const types = tokens.map((t) => (t === "<|endoftext|>" ? 3 : t === "<|user|>" ? 4 : 1));
  return new Map<string, MetaValue>([
    ["tokenizer.ggml.model", "gpt2"],
    ["tokenizer.ggml.pre", "gpt-2"],
    ["tokenizer.ggml.tokens", tokens],
    ["tokenizer.ggml.token_type", types],
    ["tokenizer.ggml.merges", merges],
    ["tokenizer.ggml.bos_token_id", tokens.length - 2],
    ["tokenizer.ggml.eos_token_id", tokens.length - 2],
  ]);
}

/**
 * A charsmap whose XCDA maps the one-byte prefix `from` to `to`: root base 1, the child at
 * 1 ^ from (LCHECK from, LEAF, base b with (1 ^ from) ^ b = the value node), then the value
 * node holding replacement offset 0. 256 entries keep every one-byte walk in bounds.
 */
export function oneRuleCharsmap(from: number, to: string): Uint8Array {
  const xcda = new Uint32Array(256);
  xcda[0] = 1 << 10;
  const child = 1 ^ from;
  const valueNode = child === 255 ? 254 : child + 1;
  xcda[child] = ((child ^ valueNode) << 10) | (1 << 8) | from;
  xcda[valueNode] = 0;
  const repl = new TextEncoder().encode(to + "\0");
  const blob = new Uint8Array(4 + xcda.byteLength + repl.length);
  new DataView(blob.buffer).setUint32(0, xcda.byteLength, true);
  blob.set(new Uint8Array(xcda.buffer), 4);
  blob.set(repl, 4 + xcda.byteLength);
  return blob;
}

/**
 * Unigram (t5) metadata: <pad> </s> <unk>, scored pieces chosen so the best path is not
 * the greedy longest match ("▁a" + "b" beats "▁ab"), a user-defined "<u>", and a charsmap
 * mapping "C" to "c".
 */
export function tinyUgmMetadata(): Map<string, MetaValue> {
  const pieces: [string, number, number][] = [
    ["<pad>", 0, 3],
    ["</s>", 0, 3],
    ["<unk>", 0, 2],
    ["\u2581", -2, 1],
    ["a", -1, 1],
    ["b", -1, 1],
    ["ab", -1.5, 1],
    ["\u2581a", -1, 1],
    ["\u2581ab", -4, 1],
    ["<u>", -100, 4],
    ["c", -3, 1],
  ];
  return new Map<string, MetaValue>([
    ["tokenizer.ggml.model", "t5"],
    ["tokenizer.ggml.tokens", pieces.map((p) => p[0])],
    ["tokenizer.ggml.scores", pieces.map((p) => p[1])],
    ["tokenizer.ggml.token_type", pieces.map((p) => p[2])],
    ["tokenizer.ggml.add_space_prefix", true],
    ["tokenizer.ggml.precompiled_charsmap", Array.from(oneRuleCharsmap(0x43, "c"))],
  ]);
}

/** gemma4 metadata: SPM-style BPE over raw code points with `<0xXX>` byte tokens. */
export function tinyGemma4Metadata(): Map<string, MetaValue> {
  const tokens = ["<pad>", "<eos>", "<bos>"];
  const types = [3, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  const merges = ["\u2581 a", "\u2581a b", "\n \n"];
  for (const t of ["\u2581", "a", "b", "\n", "\u2581a", "\u2581ab", "\n\n", "\n\n\n"]) {
    tokens.push(t);
    types.push(1);
  }
  return new Map<string, MetaValue>([
    ["tokenizer.ggml.model", "gemma4"],
    ["tokenizer.ggml.tokens", tokens],
    ["tokenizer.ggml.token_type", types],
    ["tokenizer.ggml.merges", merges],
    ["tokenizer.ggml.bos_token_id", 2],
    ["tokenizer.ggml.eos_token_id", 1],
    ["tokenizer.ggml.add_bos_token", false],
  ]);
}

/** Metadata of a shared GGUF file as plain values. */
export function ggufMetadata(path: string): Map<string, MetaValue> {
  return plainMetadata(openGGUF(path));
}
