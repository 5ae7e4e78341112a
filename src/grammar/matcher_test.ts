import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { GrammarError } from "./errors.ts";
import { createGrammar } from "./grammar.ts";
import { test } from "../../tests/harness.ts";

const enc = new TextEncoder();

test("matcher: bytes split inside a character are held until it completes", () => {
  const g = createGrammar(`root ::= "é" [a-z]`);
  const m = g.matcher();
  const [b0, b1] = enc.encode("é");
  assert(m.acceptBytes(Uint8Array.of(b0)));
  assertEquals(m.point.remain, 1);
  assert(!m.accepting);
  assert(m.acceptBytes(Uint8Array.of(b1, 0x78)));
  assert(m.accepting);
  assert(!m.acceptBytes(Uint8Array.of(0x78)), "nothing may follow a complete match");
});

test("matcher: a rejected input leaves the matcher unchanged; clone is independent", () => {
  const m = createGrammar(`root ::= "ab" | "ac"`).matcher();
  assert(m.acceptString("a"));
  assert(!m.acceptString("x"));
  const copy = m.clone();
  assert(m.acceptString("b") && m.accepting);
  assert(!copy.accepting && copy.acceptString("c") && copy.accepting);
  m.reset();
  assert(!m.accepting && m.acceptString("ac"));
});

test("matcher: a partial character no rule can complete is rejected", () => {
  const m = createGrammar(`root ::= [a-z\\u00e0-\\u00ff]`).matcher();
  assert(m.canAccept(Uint8Array.of(0xc3)), "C3 starts U+00C0..U+00FF");
  assert(!m.canAccept(Uint8Array.of(0xe6)), "E6 starts U+6000..: no rule allows it");
  assert(!m.canAccept(Uint8Array.of(0x80)), "a lone continuation byte");
  assert(!m.canAccept(Uint8Array.of(0xff)));
});

test("matcher: states are shared, so a long string does not grow the tables", () => {
  const g = createGrammar(`root ::= "\\"" [a-z]* "\\""`);
  const m = g.matcher();
  m.acceptString('"q');
  const before = g.engine.sizes;
  for (let i = 0; i < 2000; i++) assert(m.acceptString("q"));
  assertEquals(g.engine.sizes, before);
  assert(m.acceptString('"') && m.accepting);
});

test("matcher: nested recursion is fine; left recursion is refused", () => {
  const g = createGrammar(`root ::= "(" root ")" | "x"`);
  assert(g.matches("(((x)))") && !g.matches("((x)"));
  assertThrows(
    () => createGrammar(`root ::= root "x" | "y"`),
    (e: unknown) => e instanceof GrammarError && e.code === "GRAMMAR_LEFT_RECURSION",
  );
});
