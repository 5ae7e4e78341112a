/**
 * The command line of scripts/bench.ts: -p/-n/-d take comma lists (like llama-bench), every
 * other option one value; an unknown option or a bad number is an error (exit 2).
 *
 * @module
 */
import { InvalidArgumentError } from "../src/core/errors.ts";
import { type KVType, type KVTypes, parseKVType } from "../src/gguf/kv_type.ts";

/** Options of bench (the parsed command line). */
export interface BenchOptions {
  model: string;
  backend: string;
  /** Prompt lengths timed (ppP rows); 0 entries are skipped. */
  p: number[];
  /** Generation lengths timed (tgN rows); 0 entries are skipped. */
  n: number[];
  /** Tokens already in the KV cache before each timed run (llama-bench -d). */
  depth: number[];
  threads: number;
  /** KV cache types (--kv-type, -ctk/--kv-type-k, -ctv/--kv-type-v); default f16 both. */
  kvType: KVTypes;
  reps: number;
  vsLlamacpp: boolean;
  json: boolean;
  /**
   * Memory bandwidth in bytes/s for the decode limit; undefined on the CPU means measured by
   * the streaming-read microbenchmark (scripts/_stream_bench.ts) in the same command.
   */
  bandwidth?: number;
  /** GPU only: per-op GPU times of decode steps on stderr (the native ROCMFORGE_PROFILE). */
  profile?: boolean;
}

/**
 * Default --bandwidth in GB/s of backends that are not measured: the H200's datasheet
 * 4.8 TB/s. The CPU's is measured (a streaming read of this machine).
 */
export const DEFAULT_BANDWIDTH_GBPS: Record<string, number> = { hip: 4800 };

export const BENCH_USAGE =
  "usage: deno task bench -m MODEL [--backend cpu|hip] [-p 64[,512..]] [-n 32[,128..]] " +
  "[-d 0[,4096..]] [-t THREADS] [--kv-type T] [-ctk T] [-ctv T] [-r REPS] [--vs-llamacpp] [--json] [--bandwidth GBPS] [--profile]";

const VALUE_FLAGS = new Map<string, string>([
  ["-m", "model"],
  ["--model", "model"],
  ["--backend", "backend"],
  ["-p", "p"],
  ["--prompt", "p"],
  ["-n", "n"],
  ["--gen", "n"],
  ["-d", "depth"],
  ["--depth", "depth"],
  ["-t", "threads"],
  ["--threads", "threads"],
  ["-r", "reps"],
  ["--reps", "reps"],
  ["--bandwidth", "bandwidth"],
  ["--kv-type", "kv"],
  ["-ctk", "kvK"],
  ["--kv-type-k", "kvK"],
  ["--cache-type-k", "kvK"],
  ["-ctv", "kvV"],
  ["--kv-type-v", "kvV"],
  ["--cache-type-v", "kvV"],
]);

/** One KV type flag's value (`dflt` when absent); an unknown type is an Error for the user. */
function kvFlag(v: string | undefined, flag: string, dflt: KVType): KVType {
  if (v === undefined) return dflt;
  try {
    return parseKVType(v, flag);
  } catch (e) {
    throw e instanceof InvalidArgumentError ? new Error(e.message) : e;
  }
}

function num(v: string, what: string): number {
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x) || x < 0) {
    throw new Error(`${what} must be a non-negative number, got "${v}"`);
  }
  return x;
}

function intList(v: string, what: string): number[] {
  return v.split(",").map((s) => {
    const x = num(s, what);
    if (!Number.isInteger(x)) throw new Error(`${what} must be integers, got "${s}"`);
    return x;
  });
}

/** Parses the command line; throws Error with a message for the user. */
export function parseBenchArgs(a: readonly string[], cpus: number): BenchOptions {
  const got = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < a.length; i++) {
    const key = VALUE_FLAGS.get(a[i]);
    if (key) {
      if (i + 1 >= a.length) throw new Error(`${a[i]} needs a value`);
      got.set(key, a[++i]);
    } else if (a[i] === "--vs-llamacpp" || a[i] === "--json" || a[i] === "--profile") {
      flags.add(a[i]);
    } else {
      throw new Error(`unknown argument ${a[i]}`);
    }
  }
  const model = got.get("model");
  if (!model) throw new Error("missing -m MODEL");
  const backend = got.get("backend") ?? "cpu";
  if (flags.has("--profile") && backend === "cpu") {
    throw new Error("--profile times GPU ops: it needs --backend hip");
  }
  const kv = kvFlag(got.get("kv"), "--kv-type", "f16");
  const kvType = {
    k: kvFlag(got.get("kvK"), "--kv-type-k", kv),
    v: kvFlag(got.get("kvV"), "--kv-type-v", kv),
  };
  const bw = got.has("bandwidth")
    ? num(got.get("bandwidth")!, "--bandwidth")
    : DEFAULT_BANDWIDTH_GBPS[backend];
  return {
    model,
    backend,
    p: intList(got.get("p") ?? "64", "-p"),
    n: intList(got.get("n") ?? "32", "-n"),
    depth: intList(got.get("depth") ?? "0", "-d"),
    threads: Math.max(1, got.has("threads") ? num(got.get("threads")!, "-t") : cpus),
    kvType,
    reps: Math.max(1, got.has("reps") ? num(got.get("reps")!, "-r") : 3),
    vsLlamacpp: flags.has("--vs-llamacpp"),
    json: flags.has("--json"),
    bandwidth: bw === undefined ? undefined : bw * 1e9,
    profile: flags.has("--profile"),
  };
}
