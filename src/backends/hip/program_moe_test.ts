import { InvalidArgumentError } from "../../core/errors.ts";
import { GraphBuilder, type GraphNode } from "../../core/graph.ts";
import {
  floatBits,
  MOE_ACT_CODES,
  MOE_GATING_CODES,
  PROGRAM_SCHEMA,
} from "../../core/op_schema.ts";
import { GGMLType } from "../../gguf/ggml_types.ts";
import { assertEquals, assertStrictEquals, assertThrows } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { RfOp } from "./ffi/symbols.ts";
import { compileSegment, type WeightRef } from "./program.ts";

const DIM = 64, FF = 96, NE = 8;
const WEIGHTS: Record<string, WeightRef> = {
  r: { slot: 0, type: GGMLType.F32, dims: [DIM, NE] },
  g: { slot: 10, type: GGMLType.Q8_0, dims: [DIM, FF, NE] },
  u: { slot: 20, type: GGMLType.Q8_0, dims: [DIM, FF, NE] },
  d: { slot: 30, type: GGMLType.Q4_0, dims: [FF, DIM, NE] },
  rb: { slot: 40, type: GGMLType.F32, dims: [NE] },
  gb: { slot: 41, type: GGMLType.F32, dims: [FF, NE] },
  ub: { slot: 42, type: GGMLType.F32, dims: [FF, NE] },
  db: { slot: 43, type: GGMLType.F32, dims: [DIM, NE] },
  bad: { slot: 50, type: GGMLType.Q8_0, dims: [DIM, FF, NE / 2] },
};
const weight = (n: string) => WEIGHTS[n];

function compileMoe(extra: Partial<GraphNode & { op: "moe" }>, T = 3) {
  const b = new GraphBuilder(T, 1);
  const x = b.value(T, DIM, "x");
  const node: GraphNode = {
    op: "moe",
    layer: 0,
    out: b.value(T, DIM, "y"),
    x,
    router: "r",
    gate: "g",
    up: "u",
    down: "d",
    nExpert: NE,
    nUsed: 2,
    normWeights: true,
    weightsScale: 0,
    ...extra,
  } as GraphNode;
  const y = b.push(node);
  return [...compileSegment(b.build(y), [0], [y], weight, () => 0).words];
}

const word = (w: number[], name: string) => {
  const spec = PROGRAM_SCHEMA.get("moe")!;
  return w[1 + spec.words.findIndex((s) => s.name === name)];
};

test("hip program: a moe node encodes its shapes, expert tensors and routing words", () => {
  const w = compileMoe({});
  assertStrictEquals(w[0], RfOp.MOE);
  assertEquals(
    ["T", "dim", "ff", "nExpert", "nUsed", "ffAll", "dimAll"].map((n) => word(w, n)),
    [3, DIM, FF, NE, 2, FF * NE, DIM * NE],
  );
  assertEquals(
    ["routerSlot", "gateSlot", "upSlot", "downSlot", "downType"].map((n) => word(w, n)),
    [0, 10, 20, 30, GGMLType.Q4_0],
  );
  assertEquals(["routerBiasSlot", "downBiasSlot"].map((n) => word(w, n)), [-1, -1]);
  assertEquals(["gating", "act", "normWeights"].map((n) => word(w, n)), [0, 0, 1]);
});

test("hip program: gpt-oss's moe encodes its biases, gating and activation", () => {
  const w = compileMoe({
    routerBias: "rb",
    gateBias: "gb",
    upBias: "ub",
    downBias: "db",
    gating: "softmax_weight",
    act: "swiglu_oai",
    normWeights: false,
    weightsScale: 2.5,
  });
  assertEquals(
    ["routerBiasSlot", "gateBiasSlot", "upBiasSlot", "downBiasSlot"].map((n) => word(w, n)),
    [40, 41, 42, 43],
  );
  assertEquals(word(w, "gating"), MOE_GATING_CODES.softmax_weight);
  assertEquals(word(w, "act"), MOE_ACT_CODES.swiglu_oai);
  assertEquals(word(w, "weightsScale"), floatBits(2.5));
  assertEquals(word(w, "normWeights"), 0);
});

test("hip program: expert tensors of the wrong shape are an InvalidArgumentError", () => {
  assertThrows(() => compileMoe({ gate: "bad" }), InvalidArgumentError, "expected [64,96,8]");
  assertThrows(() => compileMoe({ gateBias: "db" }), InvalidArgumentError, "bias");
  assertThrows(() => compileMoe({ router: "rb" }), InvalidArgumentError, "router");
});
