/**
 * Test helpers for the GGUF and CLI suites: temporary files, shared-model discovery, heap
 * usage and a seeded PRNG (node:* modules work under Deno and Node).
 *
 * @module
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { join } from "./_path.ts";

/** Writes bytes to a fresh temporary file; returns its path and a cleanup function. */
export function writeTempFile(bytes: Uint8Array, name = "model.gguf"): {
  path: string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), "rocmforge-test-"));
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every `*.gguf` under `dir`, recursively, sorted. */
export function findGGUFFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findGGUFFiles(p));
    else if (name.endsWith(".gguf")) out.push(p);
  }
  return out.sort();
}

/** Current V8 heap use in bytes. */
export function heapUsedBytes(): number {
  return process.memoryUsage().heapUsed;
}

/** Resident set size in bytes. */
export function rssBytes(): number {
  return process.memoryUsage().rss;
}

/** A seeded PRNG (mulberry32): `next()` in [0, 1), `int(n)` in [0, n). */
export class SeededRandom {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Next 32-bit unsigned value. */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  next(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}
