import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { GrammarError } from "../grammar/errors.ts";
import { createGrammar } from "../grammar/grammar.ts";
import { TokenFilter } from "../grammar/token_filter.ts";
import { type GrammarVocab, tokenTrie } from "../grammar/token_trie.ts";
import { cands, liveIds } from "./_testing.ts";
import { SamplerChain } from "./chain.ts";
import { GrammarSampler } from "./grammar.ts";
import { test } from "../../tests/harness.ts";

const enc = new TextEncoder();
const EOS = 0;
/** Token texts; id 0 is EOS, id 9/10 split "é" (C3 A9) into two byte tokens. */
const PIECES: (string | Uint8Array)[] = [
  "",
  "{",
  "}",
  '"',
  "a",
  "b",
  "ab",
  '"a',
  "<tool>",
  Uint8Array.of(0xc3),
  Uint8Array.of(0xa9),
  "",
  "x",
  '{"',
  Uint8Array.of(0xff),
];
const vocab: GrammarVocab = {
  vocabSize: PIECES.length,
  tokenBytes: (id) => {
    const p = PIECES[id];
    return typeof p === "string" ? enc.encode(p) : p;
  },
  isEog: (id) => id === EOS,
};

function allowedAt(g: string, prefix: number[]): number[] {
  const s = new GrammarSampler(createGrammar(g), vocab, { exact: true });
  for (const t of prefix) s.accept(t);
  const c = cands(PIECES.map(() => 0));
  s.apply(c);
  return liveIds(c).sort((a, b) => a - b);
}

test("grammar sampler: only grammatical tokens survive; EOS only when complete", () => {
  const g = `root ::= "{" [ab]* "}"`;
  assertEquals(allowedAt(g, []), [1]);
  assertEquals(allowedAt(g, [1]), [2, 4, 5, 6]);
  assertEquals(allowedAt(g, [1, 6]), [2, 4, 5, 6]);
  assertEquals(allowedAt(g, [1, 4, 2]), [EOS]);
});

test("grammar sampler: tokens ending mid-character are allowed only if completable", () => {
  assertEquals(allowedAt(`root ::= "é"+`, []), [9]);
  assertEquals(allowedAt(`root ::= "é"+`, [9]), [10]);
  assertEquals(allowedAt(`root ::= "é"+`, [9, 10]), [EOS, 9]);
  assertEquals(allowedAt(`root ::= [a-z]+`, []), [4, 5, 6, 12]); // 0xC3 cannot start [a-z]
  assertEquals(allowedAt(`root ::= [^a]`, []), [1, 2, 3, 5, 9, 12]); // 0xA9, 0xFF: bad UTF-8
});

test("grammar sampler: fast path (top candidates) agrees with the full mask", () => {
  const g = createGrammar(`root ::= "{" ("\\"" [ab]+ "\\"")? "}"`);
  const filter = new TokenFilter(g.engine, tokenTrie(vocab));
  for (
    const logits of [[0, 9, 1, 8, 2, 7, 3, 6, 4, 5, 0, 0, 1, 2, 3], [
      5,
      0,
      0,
      0,
      0,
      0,
      0,
      9,
      0,
      0,
      0,
      0,
      0,
      8,
      0,
    ]]
  ) {
    const fast = new GrammarSampler(g, vocab, { topCandidates: 3 }, filter);
    const exact = new GrammarSampler(g, vocab, { exact: true }, filter);
    const a = cands(logits), b = cands(logits);
    fast.apply(a);
    exact.apply(b);
    const top = liveIds(b).sort((x, y) => logits[y] - logits[x] || x - y);
    // the fast path keeps the valid tokens among the top 3, or everything valid
    assert(liveIds(a).every((id) => top.includes(id)));
    assertEquals(liveIds(a)[0], top[0]);
  }
});

test("grammar sampler in a chain: seeded sampling always yields a match", () => {
  const g = createGrammar(`root ::= "{" ("\\"" [ab]{1,4} "\\"" | "x")? "}"`);
  for (let seed = 1; seed <= 50; seed++) {
    const chain = new SamplerChain([new GrammarSampler(g, vocab, { topCandidates: 4 })], { seed });
    const out: number[] = [];
    for (let step = 0; step < 20; step++) {
      const logits = Float32Array.from(PIECES, (_, i) => Math.sin(seed * 31 + i * 7 + step));
      const t = chain.sample(logits);
      if (t === EOS) break;
      out.push(t);
    }
    const text = new TextDecoder().decode(
      Uint8Array.from(out.flatMap((t) => [...vocab.tokenBytes(t)])),
    );
    assert(g.matches(text), `seed ${seed}: ${text}`);
  }
});

test("grammar sampler: a rejected token or premature EOS is a typed error", () => {
  const s = new GrammarSampler(createGrammar(`root ::= "ab"`), vocab);
  assertThrows(
    () => s.accept(5),
    (e: unknown) => e instanceof GrammarError && e.code === "GRAMMAR_REJECTED",
  );
  s.accept(4);
  assertThrows(
    () => s.accept(EOS),
    (e: unknown) => e instanceof GrammarError && e.code === "GRAMMAR_REJECTED",
  );
  const dead = new GrammarSampler(createGrammar(`root ::= "q"`), vocab);
  assertThrows(
    () => dead.apply(cands(PIECES.map(() => 0))),
    (e: unknown) => e instanceof GrammarError && e.code === "GRAMMAR_NO_VALID_TOKEN",
  );
});

test("lazy grammar: inactive until the trigger word, then fed from the trigger on", () => {
  const g = createGrammar(`root ::= "<tool>" "{" [ab]* "}"`);
  const s = new GrammarSampler(g, vocab, { triggerWords: ["<tool>"] });
  const c = cands(PIECES.map(() => 0));
  s.apply(c);
  assertEquals(c.size, PIECES.length); // inactive: nothing filtered
  s.accept(12); // "x"
  assert(!s.active);
  s.accept(8); // "<tool>"
  assert(s.active);
  const c2 = cands(PIECES.map(() => 0));
  s.apply(c2);
  assertEquals(liveIds(c2), [1]); // '{"' is not allowed: [ab]* follows '{'
  const copy = s.clone();
  s.accept(1);
  s.reset();
  assert(!s.active);
  assert(copy.active && !copy.accepting);
});

test("lazy grammar: a trigger token activates and is fed to the grammar", () => {
  const g = createGrammar(`root ::= "<tool>" "ab"`);
  const s = new GrammarSampler(g, vocab, { triggerTokens: [8] });
  s.accept(4);
  s.accept(8);
  assert(s.active);
  s.accept(6);
  assert(s.accepting);
});

test("token references: <[id]> allows that token whole, !<[id]> every other one", () => {
  assertEquals(allowedAt(`root ::= <[8]> "a"`, []), [8]);
  assertEquals(allowedAt(`root ::= <[8]> "a"`, [8]), [4]);
  assertEquals(allowedAt(`root ::= <[8]> "a"`, [8, 4]), [EOS]);
  // every token with text except 8 (EOS and the empty token 11 never; 10 and 14 as whole tokens)
  assertEquals(allowedAt(`root ::= !<[8]>`, []), [1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 13, 14]);
  const s = new GrammarSampler(createGrammar(`root ::= !<[8]>`), vocab);
  assertThrows(() => s.accept(8), (e: unknown) => e instanceof GrammarError);
});

test("lazy grammar: a trigger pattern starts the grammar at its capture group (llama.cpp)", () => {
  const g = createGrammar(`root ::= "<tool>" "ab"`);
  const s = new GrammarSampler(g, vocab, { triggerPatterns: ["x+(<tool>)"] });
  s.accept(8); // "<tool>" without the "x" before it: no match
  assert(!s.active);
  s.accept(12);
  assert(!s.active);
  s.accept(8); // "x<tool>": fed from the group, so the grammar sees "<tool>"
  assert(s.active);
  s.accept(6);
  assert(s.accepting);
  // ^...$ must match the whole output so far.
  const full = new GrammarSampler(g, vocab, { triggerPatterns: ["^(<tool>)$"] });
  full.accept(12);
  full.accept(8);
  assert(!full.active, "x<tool> is not the whole output");
  assertThrows(
    () => new GrammarSampler(g, vocab, { triggerPatterns: ["("] }),
    (e: unknown) => e instanceof GrammarError && e.code === "GRAMMAR_UNSUPPORTED",
  );
});

/** A vocabulary where tokens carry text after Llama 3's `{"name"` trigger. */
const LAZY_PIECES = [
  "",
  '{"name"s',
  '{"name":',
  "x",
  '{"',
  'name"s',
  'name":',
  '"f"}',
  "<t>s",
  "<t>",
];
const lazyVocab: GrammarVocab = {
  vocabSize: LAZY_PIECES.length,
  tokenBytes: (id) => enc.encode(LAZY_PIECES[id]),
  isEog: (id) => id === EOS,
};
const LAZY_G = `root ::= ("{\\"name\\":" | "<t>") "\\"f\\"}"`;

function waitingLive(opts: ConstructorParameters<typeof GrammarSampler>[2], prefix: number[]) {
  const s = new GrammarSampler(createGrammar(LAZY_G), lazyVocab, opts);
  for (const t of prefix) s.accept(t);
  const c = cands(LAZY_PIECES.map((_, i) => i === 1 ? 5 : 0));
  s.apply(c);
  return { s, live: liveIds(c).sort((a, b) => a - b) };
}

test("lazy grammar: a token firing the trigger with rejected text after it is removed", () => {
  // '{"name"s' fires `{"name"` and feeds '{"name"s', which the grammar rejects; '{"name":' fits.
  assertEquals(waitingLive({ triggerWords: ['{"name"'] }, []).live, [0, 2, 3, 4, 5, 6, 7, 8, 9]);
  // The trigger split over two tokens: after '{"', 'name"s' is removed and 'name":' kept.
  const { s, live } = waitingLive({ triggerWords: ['{"name"'] }, [4]);
  assertEquals(live, [0, 2, 3, 4, 6, 7, 8, 9]);
  s.accept(6);
  assert(s.active);
  s.accept(7);
  assert(s.accepting);
  // A trigger token whose own text the grammar rejects, and a pattern (checked on the top ones).
  assertEquals(waitingLive({ triggerTokens: [8, 9] }, []).live, [0, 1, 2, 3, 4, 5, 6, 7, 9]);
  const pat = waitingLive({ triggerPatterns: ['(\\{"name")'], topCandidates: 2 }, []).live;
  assert(!pat.includes(1) && pat.includes(2), `${pat}`);
});

test("lazy grammar: seeded sampling never fails on a trigger's trailing text", () => {
  const g = createGrammar(LAZY_G);
  let completed = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const s = new GrammarSampler(g, lazyVocab, { triggerWords: ['{"name"', "<t>"] });
    const chain = new SamplerChain([s], { seed });
    const out: number[] = [];
    for (let step = 0; step < 12 && !s.accepting; step++) {
      const logits = Float32Array.from(LAZY_PIECES, (_, i) => i === 0 ? -9 : Math.sin(seed + i));
      out.push(chain.sample(logits));
    }
    if (!s.accepting) continue;
    completed++;
    const text = out.map((t) => LAZY_PIECES[t]).join("");
    assert(/(\{"name":|<t>)"f"\}$/.test(text), `seed ${seed}: ${text}`);
  }
  assert(completed > 10, `${completed} of 40 seeds reached a complete call`);
});
