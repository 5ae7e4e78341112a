/**
 * Helpers of the context-store suites: a real (if simple) embedder that needs no model —
 * words are the tokens, and a text's vector is its feature-hashed bag of lower-cased words,
 * L2-normalized — temporary store folders, seeded random vectors, a brute-force reference
 * search, and how to start a child process running tests/context_child.ts.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import type { Embedder } from "../src/context/embedder.ts";
import { distance, type VectorMetric } from "../src/context/metric.ts";
import { join } from "./_path.ts";
import { rng } from "./random_data.ts";

/** FNV-1a of a string. */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A word-level embedder of dimension `dim` named `name`. */
export function wordEmbedder(dim = 64, name = "test-words"): Embedder & { calls: number } {
  const vocab: string[] = [];
  const ids = new Map<string, number>();
  const e = {
    model: name,
    dimension: dim,
    maxTokens: 4096,
    calls: 0,
    tokenize(text: string): number[] {
      return (text.match(/\s*\S+\s*/g) ?? []).map((w) => {
        let id = ids.get(w);
        if (id === undefined) {
          id = vocab.length;
          vocab.push(w);
          ids.set(w, id);
        }
        return id;
      });
    },
    detokenize: (t: readonly number[]) => t.map((i) => vocab[i]).join(""),
    embed(texts: readonly string[]): Promise<Float32Array[]> {
      e.calls += texts.length;
      return Promise.resolve(texts.map((t) => {
        const v = new Float32Array(dim);
        for (const w of t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
          const h = fnv(w);
          v[h % dim] += (h >>> 31) ? 1 : -1;
        }
        let n = 0;
        for (const x of v) n += x * x;
        n = Math.sqrt(n) || 1;
        return v.map((x) => x / n);
      }));
    },
  };
  return e;
}

/** A fresh temporary folder; `cleanup()` removes it. */
export function tempStoreDir(): { dir: string; db: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "rocmforge-context-"));
  return {
    dir,
    db: join(dir, "store.db"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `n` seeded random vectors of dimension `dim` (uniform in [-0.5, 0.5)). */
export function randomVectors(n: number, dim: number, seed: number): Float32Array[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, r));
}

/** Indices of the k nearest of `data` to `q` by a plain loop (ties by index). */
export function bruteForce(
  data: readonly Float32Array[],
  q: Float32Array,
  k: number,
  metric: VectorMetric,
): { index: number; distance: number }[] {
  return data.map((v, index) => ({ index, distance: distance(metric, v, q) }))
    .sort((a, b) => a.distance - b.distance || a.index - b.index)
    .slice(0, k);
}

/** Command line that runs tests/context_child.ts (or its .js build) with `args`. */
export function childCommand(args: readonly string[]): { cmd: string; args: string[] } {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const script = new URL(`./context_child${ext}`, import.meta.url);
  const path = decodeURIComponent(script.pathname);
  return "Deno" in globalThis
    ? { cmd: process.execPath, args: ["run", "-A", path, ...args] }
    : { cmd: process.execPath, args: [path, ...args] };
}
