/**
 * Embeddings of many token lists, several per forward pass: consecutive inputs are packed
 * into passes of at most `batchSize` tokens and `sequences` inputs (an input longer than the
 * budget runs alone). An encoder's pass is one multi-sequence graph (attention over each
 * input's own rows, positions from 0 per input); a decoder's inputs are the sequences of a
 * BatchContext made for the pass. Pooling runs over each input's rows. An input that runs
 * alone, and every input of a model whose batched nodes could not leave their backend (HIP
 * declines them; see canBatchEmbeddings), goes through a Session as before. A signal cancels between passes; with a
 * gate, each pass is one of its "forward" steps.
 *
 * @module
 */
import { batchRefusal, createContext } from "./batch_context.ts";
import { AbortError, InvalidArgumentError } from "./errors.ts";
import type { Model } from "./model.ts";
import type { ForwardGate } from "./request_scheduler.ts";
import type { Backend } from "./backend.ts";
import { type Plan, runPlan } from "./scheduler.ts";
import { Session } from "./session.ts";

/** How token vectors become one vector (embed.ts pools). */
export type PoolRows = (hidden: Float32Array, rows: number) => Float32Array;

/** Options of embedTokens. */
export interface EmbedBatchOptions {
  /** Most tokens one forward pass evaluates over its inputs (default 512). */
  readonly batchSize?: number;
  /** Most inputs one forward pass holds (default 64). */
  readonly sequences?: number;
  readonly signal?: AbortSignal;
  /** Takes each batched pass in turn (the server's RequestScheduler). */
  readonly gate?: ForwardGate;
  /** Runs the inputs that go alone (default: a Session of its own). */
  readonly session?: Session;
}

/**
 * Consecutive groups of input indices, each at most `budget` tokens and `maxSequences`
 * inputs (an input longer than `budget` alone).
 */
export function packInputs(
  lengths: readonly number[],
  budget: number,
  maxSequences: number,
): number[][] {
  const packs: number[][] = [];
  let cur: number[] = [];
  let used = 0;
  lengths.forEach((n, i) => {
    if (cur.length && (used + n > budget || cur.length >= maxSequences)) {
      packs.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(i);
    used += n;
  });
  if (cur.length) packs.push(cur);
  return packs;
}

/**
 * Whether several inputs can share a pass: a decoder's context can be made (batchRefusal),
 * and every node of the batched graph runs where the one-sequence graph's does, or moves off
 * a backend without multiSequence to one holding part of the model while reading no
 * weights (rope without frequency factors, attention without sinks): a moved position
 * embedding would miss its table there.
 */
export function canBatchEmbeddings(model: Model): boolean {
  if (model.causal && batchRefusal(model)) return false;
  const where = (p: Plan) => {
    const m: Backend[] = [];
    for (const s of p.segments) for (const n of s.nodes) m[n] = s.backend;
    return m;
  };
  const one = where(model.plan(2, "hidden"));
  const plan = model.plan(2, "hidden", 2);
  return where(plan).every((b, i) => {
    if (b === one[i]) return true;
    const n = plan.graph.nodes[i];
    const free = (n.op === "rope" && !n.freqFactors) || (n.op === "attention" && !n.sinks) ||
      n.op === "last_row";
    return free && model.contexts.has(b);
  });
}

function check(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) {
    throw new InvalidArgumentError(`${name} must be a positive integer`, {
      field: name,
      actual: v,
    });
  }
  return v;
}

/** One pooled vector per token list (see the module doc). */
export async function embedTokens(
  model: Model,
  inputs: readonly (readonly number[])[],
  pool: PoolRows,
  opts: EmbedBatchOptions = {},
): Promise<Float32Array[]> {
  const budget = check("batchSize", opts.batchSize ?? 512);
  const maxSeq = check("sequences", opts.sequences ?? 64);
  if (inputs.some((t) => t.length === 0)) {
    throw new InvalidArgumentError("cannot embed an empty input", { field: "texts" });
  }
  const dim = model.config.embeddingLength;
  const packs = packInputs(inputs.map((t) => t.length), budget, maxSeq);
  const batch = packs.some((p) => p.length > 1) && canBatchEmbeddings(model);
  let own: Session | undefined;
  const out: Float32Array[] = [];
  try {
    for (const pack of packs) {
      if (opts.signal?.aborted) throw new AbortError("embedding aborted");
      if (pack.length === 1 || !batch) {
        for (const i of pack) {
          const session = opts.session ?? (own ??= new Session(model));
          session.reset();
          const hidden = await session.eval(inputs[i], "hidden", { signal: opts.signal });
          out.push(pool(hidden, inputs[i].length));
        }
        continue;
      }
      const lists = pack.map((i) => inputs[i]);
      const rows =
        await (model.causal ? decoderPass(model, lists, opts) : encoderPass(model, lists, opts));
      let row0 = 0;
      for (const t of lists) {
        out.push(pool(rows.subarray(row0 * dim, (row0 + t.length) * dim), t.length));
        row0 += t.length;
      }
    }
    return out;
  } finally {
    own?.dispose();
  }
}

/** Hidden rows of several encoder inputs in one multi-sequence graph (no cache). */
function encoderPass(
  model: Model,
  lists: readonly (readonly number[])[],
  opts: EmbedBatchOptions,
): Promise<Float32Array> {
  const tokens = Int32Array.from(lists.flat());
  const run = () =>
    runPlan(model.plan(tokens.length, "hidden", lists.length), {
      contexts: model.contexts,
      kv: new Map(),
      tokens,
      pos0: 0,
      sequences: lists.map((t) => ({ rows: t.length, pos0: 0, kv: new Map() })),
    });
  return opts.gate ? opts.gate.run(run, opts.signal, "forward") : run();
}

/** Hidden rows of several decoder inputs as the sequences of one context's pass. */
async function decoderPass(
  model: Model,
  lists: readonly (readonly number[])[],
  opts: EmbedBatchOptions,
): Promise<Float32Array> {
  const total = lists.reduce((a, t) => a + t.length, 0);
  const ctx = createContext(model, {
    sequences: lists.length,
    contextLength: Math.max(...lists.map((t) => t.length)),
    batchSize: total,
    ...(opts.gate ? { gate: opts.gate } : {}),
  });
  try {
    const seqs = lists.map(() => ctx.sequence());
    const parts = await Promise.all(
      seqs.map((s, i) => s.eval(lists[i], "hidden", { signal: opts.signal })),
    );
    const rows = new Float32Array(total * model.config.embeddingLength);
    let o = 0;
    for (const p of parts) {
      rows.set(p, o);
      o += p.length;
    }
    return rows;
  } finally {
    ctx.dispose();
  }
}
