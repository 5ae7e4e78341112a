/**
 * The prompt cache on the real stories260K model (CPU): a copied prefix continues exactly as
 * the session it came from, an evicted prefix comes back from the store, the store stays
 * within its token bound, and short prefixes are not worth a copy.
 */
import { assert, assertEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { createCpuBackend } from "../backends/cpu/backend.ts";
import { Model } from "../core/model.ts";
import { Session } from "../core/session.ts";
import { builtinArchitectures } from "../model/mod.ts";
import { PromptCache } from "./prompt_cache.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

let cached: Promise<Model> | undefined;
function model(): Promise<Model> {
  return cached ??= Model.load(sharedPath("models", "stories260K.gguf"), {
    architectures: builtinArchitectures,
    backends: [createCpuBackend()],
  });
}

const text = (m: Model, s: string) => m.tokenizer.encode(s, { addSpecial: true });
const STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside";
const OTHER = "Tom had a big red ball and a small dog who liked to run in the park every day";

test("prompt cache: an adopted prefix continues exactly as its source", async () => {
  const m = await model();
  const p = text(m, STORY);
  const a = new Session(m);
  await a.eval(p);
  const b = new Session(m);
  assert(b.adoptPrefix(a, 10), "copy supported on the CPU");
  assertEquals(b.tokens, p.slice(0, 10));
  const got = await b.eval(p.slice(10));
  a.truncate(10);
  const want = await a.eval(p.slice(10));
  assertEquals([...got], [...want]);
  // More than the source holds, or another model's session: refused, nothing changes.
  assertEquals(b.adoptPrefix(a, p.length + 1), false);
  assertEquals(b.nPast, p.length);
  for (const s of [a, b]) s.dispose();
}, shared);

test("prompt cache: an evicted prefix returns from the store; the store is bounded", async () => {
  const m = await model();
  const story = text(m, STORY), other = text(m, OTHER);
  assert(story.length >= 16 && other.length >= 16, "prompts long enough to cache");
  const cache = new PromptCache({ maxTokens: story.length + other.length });
  const slot = new Session(m);
  assertEquals(cache.prepare(slot, story, []), 0);
  await slot.eval(story);
  // A different prompt: the slot's story goes to the store before it is overwritten.
  assertEquals(cache.prepare(slot, other, []), 1);
  assertEquals([cache.size, cache.tokens], [1, story.length]);
  slot.truncate(1); // as generate's evalPrompt does
  await slot.eval(other.slice(1));
  // The story again, longer: its prefix comes back from the store.
  const longer = [...story, ...other.slice(1, 4)];
  const fresh = new Session(m);
  assertEquals(cache.prepare(fresh, longer, []), story.length);
  assertEquals(fresh.tokens, story);
  // From an idle slot (a donor) too, when it holds the longest prefix.
  const third = new Session(m);
  assertEquals(cache.prepare(third, [...other, 5], [slot]), other.length);
  // Saving beyond the bound evicts the least recently used entry.
  cache.save(slot);
  assertEquals(cache.size, 2);
  assert(cache.tokens <= story.length + other.length, `${cache.tokens} tokens`);
  const big = new Session(m);
  await big.eval([...story, ...other.slice(1)]);
  cache.save(big);
  assertEquals(cache.size, 1);
  assertEquals(cache.tokens, big.nPast);
  cache.dispose();
  assertEquals(cache.size, 0);
  for (const s of [slot, fresh, third, big]) s.dispose();
}, shared);

test("prompt cache: prefixes shorter than minTokens are neither saved nor copied", async () => {
  const m = await model();
  const story = text(m, STORY);
  const cache = new PromptCache({ maxTokens: 1000, minTokens: story.length + 1 });
  const a = new Session(m);
  await a.eval(story);
  cache.save(a);
  assertEquals(cache.size, 0);
  const b = new Session(m);
  assertEquals(cache.prepare(b, [...story, 5], [a]), 0);
  assertEquals(b.nPast, 0);
  for (const s of [a, b]) s.dispose();
}, shared);
