import { assertStrictEquals } from "../../../../tests/assert.ts";
import { test } from "../../../../tests/harness.ts";
import { expf, sincosf } from "./libm.ts";

const fr = Math.fround;

// Values printed by glibc 2.36 (x86-64, FMA ifunc) where Math.exp / Math.sin / Math.cos
// rounded to float32 give a different float32.
test("expf: matches glibc where fround(Math.exp) does not", () => {
  const cases: [number, number][] = [
    [3.9576215744018555, 52.33271026611328],
    [-18.38680648803711, 1.0344545664509042e-8],
    [-4.273305892944336, 0.013935637660324574],
  ];
  for (const [x, want] of cases) {
    assertStrictEquals(expf(x), want);
    assertStrictEquals(fr(Math.exp(x)) === want, false);
  }
  assertStrictEquals(expf(0), 1);
  assertStrictEquals(expf(-Infinity), 0);
  assertStrictEquals(expf(-200), 0);
  assertStrictEquals(expf(100), Infinity);
});

test("sincosf: matches glibc in the fast, large and tiny ranges", () => {
  // [theta, sin, cos]
  const cases: [number, number, number][] = [
    [34, 0.5290826559066772, -0.8485702872276306], // fast reduction, sin differs
    [fr(0.68), 0.6287930607795715, 0.7775726914405823], // |x| < pi/4, sin differs
    [96, 0.9835877418518066, -0.18043045699596405], // fast reduction, cos differs
    [98, -0.5733818411827087, -0.8192882537841797], // fast reduction, sin differs
  ];
  for (const [x, s, c] of cases) {
    const [gs, gc] = sincosf(x);
    assertStrictEquals(gs, s);
    assertStrictEquals(gc, c);
  }
  assertStrictEquals(sincosf(0)[1], 1);
  assertStrictEquals(sincosf(fr(1e-5))[0], fr(1e-5));
  // Large-argument path (|x| >= 120) agrees with the correctly rounded value here.
  assertStrictEquals(sincosf(1000)[0], fr(Math.sin(1000)));
  assertStrictEquals(sincosf(1000)[1], fr(Math.cos(1000)));
});
