/**
 * WebGPU speed, side by side with other backends in the same command: ppP (one evaluation of
 * P prompt tokens) and tgN (N tokens) for each backend named, where tgN is the host loop
 * (one `session.eval` per token: a readback per token) and, on WebGPU, also tgN-device: greedy
 * decoding on the device (decode.ts), `--per-submit` steps per command buffer and one
 * readback. The device loop's tokens are checked against the host loop's greedy tokens.
 * Reps after one warm-up; tokens/s is the mean. Ratios are against the first backend listed
 * after webgpu (e.g. hip).
 *
 * usage: deno run -A scripts/bench_webgpu.ts -m MODEL [--backends webgpu,hip] [-p 512]
 *          [-n 128] [-r 2] [--per-submit 32] [--json]
 *
 * @module
 */
import { createSession, loadModel } from "../src/api.ts";
import { WebGpuContext } from "../src/backends/webgpu/context.ts";
import type { Backend, KVStore } from "../src/core/backend.ts";
import type { Model } from "../src/core/model.ts";
import { Session } from "../src/core/session.ts";
import { args, exit, now, writeStderr, writeStdout } from "../src/runtime/host.ts";

/** A session whose cache the benchmark hands to the device loop. */
class CacheSession extends Session {
  cache(b: Backend): KVStore | undefined {
    return this.kv.get(b);
  }
}

interface Row {
  backend: string;
  test: string;
  tokens_per_s: number;
  ratio: number | null;
}

function parse(argv: string[]) {
  const o = { model: "", backends: ["webgpu"], p: 512, n: 128, reps: 2, per: 32, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    const int = () => {
      const x = Number(v());
      if (!Number.isInteger(x) || x < 1) throw new Error(`${a} needs a positive integer`);
      return x;
    };
    if (a === "-m") o.model = v();
    else if (a === "--backends") o.backends = v().split(",");
    else if (a === "-p") o.p = int();
    else if (a === "-n") o.n = int();
    else if (a === "-r") o.reps = int();
    else if (a === "--per-submit") o.per = int();
    else if (a === "--json") o.json = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.model) throw new Error("-m MODEL is required");
  return o;
}

const argmax = (l: Float32Array) => l.reduce((best, v, i) => (v > l[best] ? i : best), 0);

async function mean(reps: number, fn: () => Promise<number>): Promise<number> {
  await fn(); // warm-up: compiles every kernel of the shapes
  let s = 0;
  for (let r = 0; r < reps; r++) s += await fn();
  return s / reps;
}

async function benchBackend(o: ReturnType<typeof parse>, name: string): Promise<Row[]> {
  const model: Model = await loadModel(o.model, {
    backend: name,
    contextLength: o.p + o.n + 8,
    log: (l) => writeStderr(`${l}\n`),
  });
  const vocab = model.config.vocabSize;
  const prompt = Array.from({ length: o.p }, (_, i) => 3 + ((i * 7919) % (vocab - 3)));
  const rows: Row[] = [];
  const add = (test: string, secs: number, n: number) =>
    rows.push({ backend: name, test, tokens_per_s: n / secs, ratio: null });
  try {
    const pp = await mean(o.reps, async () => {
      const s = createSession(model, { batchSize: o.p });
      const t0 = now();
      await s.eval(prompt, "last");
      const dt = (now() - t0) / 1000;
      s.dispose();
      return dt;
    });
    add(`pp${o.p}`, pp, o.p);
    let hostTokens: number[] = [];
    const tg = await mean(o.reps, async () => {
      const s = createSession(model, { batchSize: o.p });
      let tok = argmax(await s.eval(prompt.slice(0, 8), "last"));
      hostTokens = [tok];
      const t0 = now();
      for (let i = 0; i < o.n; i++) hostTokens.push(tok = argmax(await s.eval([tok], "last")));
      const dt = (now() - t0) / 1000;
      s.dispose();
      return dt;
    });
    add(`tg${o.n}`, tg, o.n);
    const backend = [...model.contexts.keys()].find((b) => b.name === name);
    const ctx = backend && model.contexts.get(backend);
    if (backend && ctx instanceof WebGpuContext) {
      const graph = model.plan(1, "last").graph;
      let picked: number[] = [];
      const dev = await mean(o.reps, async () => {
        const s = new CacheSession(model, { batchSize: o.p });
        const first = argmax(await s.eval(prompt.slice(0, 8), "last"));
        const t0 = now();
        const got = await ctx.decodeGreedy({
          graph,
          kv: s.cache(backend)!,
          token: first,
          pos0: s.nPast,
          steps: o.n,
          stepsPerSubmit: o.per,
        });
        const dt = (now() - t0) / 1000;
        picked = [first, ...got];
        s.dispose();
        return dt;
      });
      add(`tg${o.n}-device`, dev, o.n);
      const same = picked.every((t, i) => t === hostTokens[i]);
      writeStderr(`device loop tokens ${same ? "equal" : "DIFFER FROM"} the host loop's\n`);
    }
  } finally {
    model.dispose();
  }
  return rows;
}

try {
  const o = parse(args());
  const rows: Row[] = [];
  for (const b of o.backends) rows.push(...await benchBackend(o, b));
  const ref = o.backends.find((b) => b !== "webgpu");
  for (const r of rows) {
    const base = rows.find((x) => x.backend === ref && x.test === r.test.replace("-device", ""));
    r.ratio = r.backend === "webgpu" && base ? r.tokens_per_s / base.tokens_per_s : null;
  }
  if (o.json) writeStdout(JSON.stringify({ model: o.model, rows }, null, 1) + "\n");
  else {
    writeStdout(`model: ${o.model}  reps: ${o.reps}  per-submit: ${o.per}\n`);
    for (const r of rows) {
      const ratio = r.ratio === null ? "" : `  ${r.ratio.toFixed(2)}x ${ref}`;
      writeStdout(
        `${r.backend.padEnd(8)} ${r.test.padEnd(14)} ${r.tokens_per_s.toFixed(1)} t/s${ratio}\n`,
      );
    }
  }
} catch (e) {
  writeStderr(`bench_webgpu: ${e instanceof Error ? e.message : String(e)}\n`);
  exit(2);
}
