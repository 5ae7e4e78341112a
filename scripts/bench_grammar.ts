/**
 * Micro-benchmark: grammar-constrained vs unconstrained sampling time per token, on real
 * vocabularies (llama.cpp's models/ggml-vocab-qwen2.gguf, 151k tokens, and
 * ggml-vocab-llama-spm.gguf, 32k). The chain is top-k 40, top-p 0.95, temperature 0.8, dist;
 * the constrained chain puts the grammar sampler (from a JSON Schema) first.
 *
 * Two logit sources, both over the full vocabulary:
 * - "model-like": N(0,1) noise plus +12 on the next token of a valid JSON document (a model
 *   that follows the format; the top candidate usually fits, so the fast path decides);
 * - "random": N(0,1) noise only (worst case: the top candidates rarely fit, so the full mask
 *   is needed often, served from the per-position cache after the first visits).
 *
 * With `--model FILE` it also times whole decode steps (forward pass + sampling) through
 * generate() on that model, constrained vs unconstrained, interleaved run by run (each run's
 * ms/token is printed too: on a loaded machine compare the pairs), e.g. a TinyLlama-shaped
 * (1.1B) model with the qwen2 vocabulary:
 * `deno task make-model --shape tinyllama --type Q4_0 --vocab .../ggml-vocab-qwen2.gguf -o F`.
 *
 * Usage: deno run -A scripts/bench_grammar.ts [--tokens N] [--tree LLAMA_CPP_TREE] [--model F]
 *
 * @module
 */
import { homedir } from "node:os";
import process from "node:process";
import { createSession, loadModel } from "../src/api.ts";
import { generate } from "../src/core/generate.ts";
import { plainMetadata } from "../src/gguf/gguf_file.ts";
import { openGGUF } from "../src/gguf/reader.ts";
import { createGrammarForJsonSchema } from "../src/grammar/json_schema.ts";
import { tokenTrie } from "../src/grammar/token_trie.ts";
import { SamplerChain } from "../src/samplers/chain.ts";
import {
  type Candidates,
  type Sampler,
  SAMPLER_API_VERSION,
  type SamplerContext,
} from "../src/samplers/types.ts";
import { GrammarSampler } from "../src/samplers/grammar.ts";
import { TemperatureSampler } from "../src/samplers/temperature.ts";
import { TopKSampler } from "../src/samplers/top_k.ts";
import { TopPSampler } from "../src/samplers/top_p.ts";
import { tokenizerFromMetadata } from "../src/tokenizers/from_gguf.ts";
import type { Tokenizer } from "../src/tokenizers/types.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const TOKENS = Number(opt("--tokens", "400"));
const TREE = opt(
  "--tree",
  process.env.ROCMFORGE_LLAMACPP ?? `${homedir()}/.cache/rocmforge-ref/llama.cpp`,
);

const SCHEMA = {
  type: "object",
  properties: {
    name: { type: "string", maxLength: 40 },
    age: { type: "integer", minimum: 0, maximum: 150 },
    email: { type: "string" },
    tags: { type: "array", items: { type: "string" }, maxItems: 8 },
    role: { enum: ["admin", "user", "guest"] },
    score: { type: "number" },
  },
  required: ["name", "age", "tags"],
  additionalProperties: false,
};
const DOC = JSON.stringify({
  name: "Ada Lovelace, analyst",
  age: 36,
  tags: ["math", "engines", "poetry", "notes"],
  email: "ada@example.org",
  role: "admin",
  score: 98.5,
});

/** Deterministic N(0,1) rows (xorshift + Box-Muller), reused cyclically. */
function noiseRows(n: number, rows: number): Float32Array[] {
  let s = 0x9e3779b9 | 0;
  const u = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  return Array.from({ length: rows }, () => {
    const r = new Float32Array(n);
    for (let i = 0; i < n; i++) r[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    return r;
  });
}

/**
 * The document as tokens that spell it exactly: the tokenizer's own, unless it writes other
 * bytes (SentencePiece vocabularies prefix a space: ` {"` would leave the grammar at the first
 * step and the "model" would no longer follow the document); then the longest vocabulary
 * piece at each position.
 */
function docTokens(tok: Tokenizer): number[] {
  const want = new TextEncoder().encode(DOC);
  const own = tok.encode(DOC, { addSpecial: false });
  const spelled = own.flatMap((t) => [...tok.tokenBytes(t)]);
  if (spelled.length === want.length && spelled.every((b, i) => b === want[i])) return own;
  const byBytes = new Map<string, number>();
  let longest = 0;
  for (let id = 0; id < tok.vocabSize; id++) {
    if (tok.isEog(id)) continue;
    const b = tok.tokenBytes(id);
    const key = String.fromCharCode(...b);
    if (b.length > 0 && !byBytes.has(key)) byBytes.set(key, id);
    longest = Math.max(longest, b.length);
  }
  const text = String.fromCharCode(...want);
  const out: number[] = [];
  for (let i = 0; i < text.length;) {
    let n = Math.min(longest, text.length - i);
    while (n > 0 && !byBytes.has(text.slice(i, i + n))) n--;
    if (n === 0) throw new Error(`no token spells byte ${want[i]} of the document`);
    out.push(byBytes.get(text.slice(i, i + n))!);
    i += n;
  }
  return out;
}

function chain(first: GrammarSampler | undefined, seed: number): SamplerChain {
  const rest = [new TopKSampler(40), new TopPSampler(0.95), new TemperatureSampler(0.8)];
  return new SamplerChain(first ? [first, ...rest] : rest, { seed });
}

function bench(file: string): void {
  const md = plainMetadata(openGGUF(`${TREE}/models/${file}`));
  const tok = tokenizerFromMetadata(md);
  const n = tok.vocabSize;
  let t0 = performance.now();
  tokenTrie(tok);
  const trieMs = performance.now() - t0;
  const grammar = createGrammarForJsonSchema(SCHEMA);
  const doc = docTokens(tok);
  const rows = noiseRows(n, 16);
  const logits = new Float32Array(n);
  console.log(`${file}: ${n} tokens, trie ${trieMs.toFixed(0)} ms`);
  for (const mode of ["model-like", "random"] as const) {
    const times = { free: 0, constrained: 0 };
    let steps = 0, off = 0;
    for (let run = 0; steps < TOKENS; run++) {
      const gs = new GrammarSampler(grammar, tok);
      const constrained = chain(gs, run), free = chain(undefined, run);
      for (let i = 0; i <= doc.length && steps < TOKENS; i++, steps++) {
        logits.set(rows[steps % rows.length]);
        if (mode === "model-like") logits[i < doc.length ? doc[i] : tok.eos ?? 0] += 12;
        t0 = performance.now();
        free.sample(logits);
        times.free += performance.now() - t0;
        t0 = performance.now();
        const t = constrained.sample(logits);
        times.constrained += performance.now() - t0;
        if (mode === "model-like" && t !== (i < doc.length ? doc[i] : tok.eos)) off++;
        if (tok.isEog(t)) break;
      }
    }
    const f = times.free / steps, c = times.constrained / steps;
    console.log(
      `  ${mode.padEnd(10)} unconstrained ${f.toFixed(3)} ms/token, constrained ${
        c.toFixed(3)
      } ms/token, ` +
        `ratio ${(c / f).toFixed(2)}x, overhead ${
          (c - f).toFixed(3)
        } ms/token over ${steps} tokens` +
        (mode === "model-like" ? ` (${off} steps left the document)` : ""),
    );
  }
}

/** A sampler that times its wrapped sampler (apply + accept). */
class Timed implements Sampler {
  readonly apiVersion = SAMPLER_API_VERSION;
  readonly name = "timed";
  ms = 0;
  constructor(readonly inner: SamplerChain) {}
  apply(c: Candidates, ctx: SamplerContext): void {
    const t0 = performance.now();
    this.inner.apply(c, ctx);
    this.ms += performance.now() - t0;
  }
  accept(token: number): void {
    const t0 = performance.now();
    this.inner.accept(token);
    this.ms += performance.now() - t0;
  }
}

/** Decode steps on a real model: ms/token with and without the grammar, interleaved. */
async function benchModel(path: string): Promise<void> {
  const model = await loadModel(path, { backend: "cpu", log: () => {} });
  const tok = model.tokenizer;
  const session = createSession(model);
  const grammar = createGrammarForJsonSchema(SCHEMA);
  tokenTrie(tok);
  const per = { free: [0, 0], constrained: [0, 0] };
  const sampling = { free: 0, constrained: 0 };
  const runs: Record<"free" | "constrained", number[]> = { free: [], constrained: [] };
  for (let run = 0; run < 6; run++) {
    for (const kind of ["free", "constrained"] as const) {
      const gs = kind === "constrained" ? new GrammarSampler(grammar, tok) : undefined;
      const sampler = new Timed(chain(gs, run));
      const it = generate(session, "Once upon a time", {
        maxTokens: 24,
        sampler,
        ignoreEos: kind === "free",
      });
      let r = await it.next(); // the prompt evaluation is not timed
      const t0 = performance.now();
      const s0 = sampler.ms;
      let n = 0;
      while (!r.done) {
        n++;
        r = await it.next();
      }
      const ms = performance.now() - t0;
      sampling[kind] += sampler.ms - s0;
      per[kind][0] += ms;
      per[kind][1] += n - 1;
      runs[kind].push(ms / Math.max(1, n - 1));
    }
  }
  const f = per.free[0] / per.free[1], c = per.constrained[0] / per.constrained[1];
  console.log(
    `${path} (${tok.vocabSize} tokens): decode ${f.toFixed(1)} ms/token unconstrained, ` +
      `${c.toFixed(1)} ms/token constrained, ratio ${(c / f).toFixed(3)}x ` +
      `(${per.free[1]} / ${per.constrained[1]} timed tokens)`,
  );
  // The sampler's own time per token, measured inside the same steps: on a loaded machine the
  // forward pass varies run to run, the sampler's share much less.
  const sf = sampling.free / per.free[1], sc = sampling.constrained / per.constrained[1];
  console.log(
    `  sampler ms/token: free ${sf.toFixed(2)}, constrained ${sc.toFixed(2)}; ` +
      `step ratio from the unconstrained step plus the sampler difference ${
        ((f + sc - sf) / f).toFixed(3)
      }x`,
  );
  // Run by run (free and constrained alternate), so a load spike shows as one outlier pair.
  const ratios = runs.free.map((f, i) => runs.constrained[i] / f).sort((a, b) => a - b);
  console.log(
    `  per run ms/token: free ${runs.free.map((x) => x.toFixed(0)).join(" ")}, constrained ${
      runs.constrained.map((x) => x.toFixed(0)).join(" ")
    }; median run ratio ${ratios[ratios.length >> 1].toFixed(3)}x`,
  );
  session.dispose();
  model.dispose();
}

for (const f of ["ggml-vocab-qwen2.gguf", "ggml-vocab-llama-spm.gguf"]) bench(f);
const modelPath = opt("--model", "");
if (modelPath) await benchModel(modelPath);
