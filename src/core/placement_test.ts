/**
 * Layer placement tests: layers go to devices from the output end down while they fit with
 * the 10% + 100 MiB margin; the rest fall back; strict placement is an OutOfMemoryError
 * with the byte counts.
 */
import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import type { Backend } from "./backend.ts";
import { OutOfMemoryError } from "./errors.ts";
import { describeLayers, fmt, type LayerCost, placeLayers, safetyMargin } from "./placement.ts";

const MiB = 1024 * 1024;

function backend(name: string): Backend {
  const no = () => {
    throw new Error("not used");
  };
  return {
    apiVersion: 2,
    name,
    probe: () => Promise.resolve({ available: true, devices: [] }),
    supportsOp: () => true,
    createContext: no,
    dispose() {},
  };
}

/** Input embedding (-1), four blocks, output head (4), 10 MiB each. */
const costs: LayerCost[] = [-1, 0, 1, 2, 3, 4].map((layer) => ({ layer, bytes: 10 * MiB }));
const gpu = backend("gpu"), gpu2 = backend("gpu2"), cpu = backend("cpu");

const names = (m: ReadonlyMap<number, Backend>) =>
  [-1, 0, 1, 2, 3, 4].map((l) => m.get(l)?.name ?? "-");

test("placement: the margin is 10% of the placed bytes plus 100 MiB", () => {
  assertEquals(safetyMargin(0), 100 * MiB);
  assertEquals(safetyMargin(30 * MiB), 3 * MiB + 100 * MiB);
  assertEquals(safetyMargin(15), 2 + 100 * MiB); // 10% rounds up
});

test("placement: layers fill a device from the output end down until memory runs out", () => {
  // Three layers need 30 MiB + 3 MiB + 100 MiB.
  const exact = placeLayers(costs, [{ backend: gpu, freeBytes: 133 * MiB }], cpu, false);
  assertEquals(names(exact.byLayer), ["cpu", "cpu", "cpu", "gpu", "gpu", "gpu"]);
  assertEquals(exact.fellBack, 3);
  assertEquals(
    exact.summary,
    `gpu: layers 2–3, output (${fmt(30 * MiB)}) · cpu: input, layers 0–1`,
  );
  const short = placeLayers(costs, [{ backend: gpu, freeBytes: 133 * MiB - 1 }], cpu, false);
  assertEquals(names(short.byLayer), ["cpu", "cpu", "cpu", "cpu", "gpu", "gpu"]);
  assertEquals(short.fellBack, 4);
  // Not even the margin: nothing on the device.
  const none = placeLayers(costs, [{ backend: gpu, freeBytes: 100 * MiB }], cpu, false);
  assertEquals(names(none.byLayer), ["cpu", "cpu", "cpu", "cpu", "cpu", "cpu"]);
  assertEquals(none.summary, "cpu: input, layers 0–3, output");
  // Enough for all.
  const all = placeLayers(costs, [{ backend: gpu, freeBytes: 166 * MiB }], cpu, false);
  assertEquals(names(all.byLayer), ["gpu", "gpu", "gpu", "gpu", "gpu", "gpu"]);
  assertEquals(all.fellBack, 0);
});

test("placement: the input order of costs does not matter; uneven layers are summed", () => {
  const uneven: LayerCost[] = [
    { layer: 2, bytes: 5 * MiB },
    { layer: -1, bytes: 50 * MiB },
    { layer: 1, bytes: 20 * MiB },
    { layer: 0, bytes: 1 * MiB },
  ];
  // 5 + 20 = 25 MiB -> 25 + 2.5 + 100 = 127.5 MiB; adding layer 0 needs 128.6 MiB.
  const p = placeLayers(uneven, [{ backend: gpu, freeBytes: 128 * MiB }], cpu, false);
  assertEquals([-1, 0, 1, 2].map((l) => p.byLayer.get(l)!.name), ["cpu", "cpu", "gpu", "gpu"]);
});

test("placement: a second device takes what the first could not hold", () => {
  const p = placeLayers(
    costs,
    [{ backend: gpu, freeBytes: 121 * MiB }, { backend: gpu2, freeBytes: 144 * MiB }],
    cpu,
    false,
  );
  assertEquals(names(p.byLayer), ["cpu", "gpu2", "gpu2", "gpu2", "gpu2", "gpu"]);
  assertEquals(p.fellBack, 1);
  assertEquals(p.summary.split(" · ").map((s) => s.split(":")[0]), ["gpu", "gpu2", "cpu"]);
});

test("placement: no targets puts everything on the fallback without counting a fallback", () => {
  const p = placeLayers(costs, [], cpu, false);
  assertEquals(names(p.byLayer), ["cpu", "cpu", "cpu", "cpu", "cpu", "cpu"]);
  assertEquals(p.fellBack, 0);
});

test("placement: strict placement that does not fit is an OutOfMemoryError with facts", () => {
  const total = 60 * MiB;
  assertThrows(
    () => placeLayers(costs, [{ backend: gpu, freeBytes: 150 * MiB }], cpu, true),
    (e: unknown) =>
      e instanceof OutOfMemoryError && e.code === "OUT_OF_MEMORY" &&
      e.facts.expected === total + safetyMargin(total) && e.facts.actual === 150 * MiB &&
      e.facts.bytes === total && e.message.includes("gpu"),
  );
  const ok = placeLayers(costs, [{ backend: gpu, freeBytes: 166 * MiB }], cpu, true);
  assertEquals(ok.fellBack, 0);
});

test("placement: layers are described as input, runs of transformer layers, output", () => {
  assertEquals(describeLayers([-1, 0, 1, 2, 3, 4], 4), "input, layers 0–3, output");
  assertEquals(describeLayers([5, 7, 6, 9, 11, 12], 30), "layers 5–7, 9, 11–12");
  assertEquals(describeLayers([3], 30), "layer 3");
  assertEquals(describeLayers([30], 30), "output");
});
