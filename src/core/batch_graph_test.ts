import { test } from "../../tests/harness.ts";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { batchGraph } from "./batch_graph.ts";
import { InvalidArgumentError } from "./errors.ts";
import { GraphBuilder } from "./graph.ts";

/** embed -> rope -> attention -> last_row -> matmul, over `n` rows. */
function tiny(n: number, causal = true) {
  const b = new GraphBuilder(n, 1);
  const rope = {
    mode: "normal",
    nRot: 4,
    freqBase: 1e4,
    freqScale: 1,
    extFactor: 0,
    attnFactor: 1,
    betaFast: 32,
    betaSlow: 1,
    nCtxOrig: 64,
  } as const;
  const x = b.push({ op: "embed", layer: -1, out: b.value(n, 4, "x"), weight: "tok" });
  const q = b.push({
    op: "rope",
    layer: 0,
    out: b.value(n, 4, "q"),
    x,
    nHeads: 1,
    headDim: 4,
    rope,
  });
  const a = b.push({
    op: "attention",
    layer: 0,
    out: b.value(n, 4, "a"),
    q,
    k: q,
    v: x,
    nHead: 1,
    nHeadKV: 1,
    headDim: 4,
    valueDim: 4,
    scale: 0.5,
    ...(causal ? {} : { causal: false }),
  });
  const last = b.push({ op: "last_row", layer: 0, out: b.value(1, 4, "last"), x: a });
  const out = b.push({
    op: "matmul",
    layer: 1,
    out: b.value(1, 8, "logits"),
    x: last,
    weight: "out",
  });
  return b.build(out);
}

test("batchGraph: positional nodes batched, values after last_row get one row per sequence", () => {
  const g = tiny(5);
  const bg = batchGraph(g, 3);
  assertEquals(bg.sequences, 3);
  assertEquals(bg.nodes.map((n) => "batched" in n && n.batched === true), [
    false,
    true,
    true,
    true,
    false,
  ]);
  assertEquals(bg.values.map((v) => v.rows), [5, 5, 5, 3, 3]);
  // The one-sequence graph is unchanged.
  assertEquals(g.values.map((v) => v.rows), [5, 5, 5, 1, 1]);
  assert(g.sequences === undefined && !("batched" in g.nodes[1]));
});

test("batchGraph: an encoder's attention is batched per sequence", () => {
  const bg = batchGraph(tiny(4, false), 2);
  const att = bg.nodes.find((n) => n.op === "attention");
  assert(att && "batched" in att && att.batched && att.causal === false);
});

test("batchGraph: refuses sequence counts outside 1..nTokens", () => {
  const bad = (f: () => unknown) =>
    assertThrows(f, (e: unknown) => e instanceof InvalidArgumentError);
  bad(() => batchGraph(tiny(4), 5));
  bad(() => batchGraph(tiny(4), 0));
});
