/**
 * Stop-string matcher tests: partial matches held back across pushes, released when they
 * turn out not to be a stop string, the earliest of several stops, and flush.
 */
import { assertEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { StopMatcher } from "./stop_strings.ts";

/** Pushes pieces; returns what was emitted per push and the stop flags. */
function feed(stops: string[], pieces: string[]) {
  const m = new StopMatcher(stops);
  const out = pieces.map((p) => m.push(p));
  return { emits: out.map((o) => o.emit), stopped: out.map((o) => o.stopped), m };
}

test("stop strings: text with no possible match passes straight through", () => {
  const { emits, stopped, m } = feed(["END"], ["Once", " upon", " a time"]);
  assertEquals(emits, ["Once", " upon", " a time"]);
  assertEquals(stopped, [false, false, false]);
  assertEquals(m.flush(), "");
});

test("stop strings: a partial match is held back across pushes until it completes", () => {
  const { emits, stopped } = feed(["\n\nUser:"], ["Hi", " there\n", "\nUs", "er", ": more"]);
  assertEquals(emits, ["Hi", " there", "", "", ""]);
  assertEquals(stopped, [false, false, false, false, true]);
});

test("stop strings: a held prefix is released when the text diverges", () => {
  const { emits, stopped } = feed(["</s>"], ["a <", "/", "x> b"]);
  assertEquals(emits, ["a ", "", "</x> b"]);
  assertEquals(stopped, [false, false, false]);
});

test("stop strings: the stop string and what follows it are dropped", () => {
  const { emits, stopped } = feed(["STOP"], ["keep this STOP not this"]);
  assertEquals(emits, ["keep this "]);
  assertEquals(stopped, [true]);
});

test("stop strings: with several stops, the earliest match wins", () => {
  assertEquals(feed(["world", "lo"], ["hello world"]).emits, ["hel"]);
  assertEquals(feed(["lo", "world"], ["hello world"]).emits, ["hel"]);
  // The longest held prefix over all stops is kept back.
  const { emits, stopped } = feed(["abc", "bcd"], ["xxab", "c"]);
  assertEquals(emits, ["xx", ""]);
  assertEquals(stopped, [false, true]);
  const m = feed(["abc", "xbcd"], ["1xbc", "d"]);
  assertEquals(m.emits, ["1", ""]);
  assertEquals(m.stopped, [false, true]);
});

test("stop strings: flush returns the held-back text once", () => {
  const { emits, m } = feed(["###"], ["title ##"]);
  assertEquals(emits, ["title "]);
  assertEquals(m.flush(), "##");
  assertEquals(m.flush(), "");
});

test("stop strings: empty stop strings and an empty list never stop", () => {
  assertEquals(feed([""], ["abc"]).emits, ["abc"]);
  assertEquals(feed([], ["abc"]).stopped, [false]);
});

test("stop strings: a one-character stop needs no holding back", () => {
  const { emits, stopped } = feed(["."], ["Hi", " there."]);
  assertEquals(emits, ["Hi", " there"]);
  assertEquals(stopped, [false, true]);
});
