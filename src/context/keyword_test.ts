import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { ContextError } from "./errors.ts";
import { parseFilters } from "./filters.ts";
import { ftsQuery, reciprocalRankFusion } from "./keyword.ts";
import { test } from "../../tests/harness.ts";

test("ftsQuery: plain words are quoted and OR-ed; quoted queries pass through", () => {
  assertEquals(ftsQuery("Hello, world-wide!"), '"Hello" OR "world" OR "wide"');
  assertEquals(ftsQuery('"exact phrase" AND x'), '"exact phrase" AND x');
  assertThrows(() => ftsQuery("?!"), ContextError);
});

test("reciprocalRankFusion: 1/(60+rank) summed over lists", () => {
  const fused = reciprocalRankFusion([
    [{ id: 1, score: 9 }, { id: 2, score: 8 }],
    [{ id: 2, score: 5 }, { id: 3, score: 4 }],
  ]);
  assertEquals(fused.map((r) => r.id), [2, 1, 3]);
  assertEquals(fused[0].score, 1 / 62 + 1 / 61);
});

test("parseFilters: key=value with numbers and booleans; bad forms are typed errors", () => {
  assertEquals(parseFilters(["lang=en", "year=2020", "draft=true", "v=1.5x"]), {
    lang: "en",
    year: 2020,
    draft: true,
    v: "1.5x",
  });
  assertThrows(() => parseFilters(["novalue"]), ContextError);
  assertThrows(() => parseFilters(['a"b=1']), ContextError);
});
