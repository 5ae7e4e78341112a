import { assert, assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { Mt19937, randomSeed, type RngState } from "./rng.ts";

test("mt19937: matches std::mt19937 for the default seed 5489", () => {
  const rng = new Mt19937(5489);
  assertEquals(
    [rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()],
    [3499211612, 581869302, 3890346734, 3586334585, 545404204],
  );
  const again = new Mt19937(5489);
  let v = 0;
  for (let i = 0; i < 10000; i++) v = again.nextUint32();
  assertStrictEquals(v, 4123659995);
});

test("mt19937: same seed gives the same sequence, different seeds differ", () => {
  const a = new Mt19937(42), b = new Mt19937(42), c = new Mt19937(43);
  const sa = Array.from({ length: 1000 }, () => a.nextUint32());
  const sb = Array.from({ length: 1000 }, () => b.nextUint32());
  const sc = Array.from({ length: 1000 }, () => c.nextUint32());
  assertEquals(sa, sb);
  assert(sa.some((x, i) => x !== sc[i]));
  a.seed(42);
  assertStrictEquals(a.nextUint32(), sa[0]);
});

test("mt19937: state survives JSON and clone() continues the same sequence", () => {
  const rng = new Mt19937(7);
  for (let i = 0; i < 700; i++) rng.nextUint32();
  const json = JSON.stringify(rng.getState());
  const restored = Mt19937.fromState(JSON.parse(json) as RngState);
  const copy = rng.clone();
  const expected = Array.from({ length: 1000 }, () => rng.nextUint32());
  assertEquals(Array.from({ length: 1000 }, () => restored.nextUint32()), expected);
  assertEquals(Array.from({ length: 1000 }, () => copy.nextUint32()), expected);
  assertStrictEquals(restored.initialSeed, 7);
});

test("mt19937: nextDouble is uniform on [0, 1)", () => {
  const rng = new Mt19937(123);
  const n = 100000, buckets = new Array(10).fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.nextDouble();
    assert(u >= 0 && u < 1);
    sum += u;
    buckets[Math.floor(u * 10)]++;
  }
  assert(Math.abs(sum / n - 0.5) < 0.005, `mean ${sum / n}`);
  const expected = n / 10;
  const chi2 = buckets.reduce((acc, b) => acc + (b - expected) ** 2 / expected, 0);
  assert(chi2 < 27.9, `chi-square ${chi2} (9 dof, p=0.001 limit 27.9)`); // fails if skewed
});

test("mt19937: bad seeds and malformed states are typed errors naming the field", () => {
  const isField = (field: string) => (e: unknown) =>
    e instanceof InvalidArgumentError && e.facts.field === field;
  assertThrows(() => new Mt19937(-1), isField("seed"));
  assertThrows(() => new Mt19937(2 ** 32), isField("seed"));
  assertThrows(() => new Mt19937(1.5), isField("seed"));
  const good = new Mt19937(1).getState();
  assertThrows(() => Mt19937.fromState({ ...good, words: [1, 2] }), isField("rngState.words"));
  assertThrows(() => Mt19937.fromState({ ...good, index: 625 }), isField("rngState.index"));
  const badWord = { ...good, words: [...good.words] };
  badWord.words[5] = -3;
  assertThrows(() => Mt19937.fromState(badWord), isField("rngState.words[5]"));
  assertThrows(
    () => Mt19937.fromState({ ...good, algorithm: "xorshift" } as unknown as RngState),
    isField("rngState.algorithm"),
  );
});

test("randomSeed: 32-bit unsigned integers that vary", () => {
  const seeds = new Set(Array.from({ length: 8 }, () => randomSeed()));
  for (const s of seeds) assert(Number.isInteger(s) && s >= 0 && s < 2 ** 32);
  assert(seeds.size > 1);
});
