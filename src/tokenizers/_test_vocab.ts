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

/** Metadata of a shared GGUF file as plain values. */
export function ggufMetadata(path: string): Map<string, MetaValue> {
  return plainMetadata(openGGUF(path));
}
