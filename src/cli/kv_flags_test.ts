/**
 * The KV cache type flags of every loading command (generate, score, serve, chat):
 * --kv-type T for both, --kv-type-k / --kv-type-v (llama.cpp's -ctk / -ctv) for one; an
 * unknown type is a usage error (exit 2) and the type reaches the loaded model.
 */
import { assert, assertEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { parseArgs, UsageError } from "./args.ts";
import { kvTypesFromFlags, loadFromFlags, MODEL_FLAGS } from "./_load.ts";
import { runCli } from "./main.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const MODEL = sharedPath("models", "stories260K.gguf");

const parse = (...argv: string[]) => kvTypesFromFlags(parseArgs(argv, MODEL_FLAGS).flags);

test("kv flags: --kv-type sets both, -ctk/-ctv and --kv-type-k/-v override one", () => {
  assertEquals(parse(), { k: "f16", v: "f16" });
  assertEquals(parse("--kv-type", "q8_0"), { k: "q8_0", v: "q8_0" });
  assertEquals(parse("--kv-type", "Q8_0", "-ctv", "f16"), { k: "q8_0", v: "f16" });
  assertEquals(parse("-ctk", "q4_0"), { k: "q4_0", v: "f16" });
  assertEquals(parse("--cache-type-k", "f32", "--kv-type-v", "q8_0"), { k: "f32", v: "q8_0" });
});

test("kv flags: an unknown type is a UsageError naming the flag and the valid types", () => {
  for (const argv of [["--kv-type", "q9"], ["-ctk", "bf16"], ["--kv-type-v", ""]]) {
    let e: unknown;
    try {
      parse(...argv);
    } catch (x) {
      e = x;
    }
    assert(e instanceof UsageError, argv.join(" "));
    assert(e.message.includes(argv[0].startsWith("-ct") ? "--kv-type-k" : argv[0]), e.message);
    assert(e.message.includes("f32, f16, q8_0, q4_0"), e.message);
  }
});

test("kv flags: generate exits 2 on an unknown type, before loading", async () => {
  let err = "";
  const io = { stdout: () => {}, stderr: (t: string) => void (err += t) };
  const code = await runCli(["generate", "-m", "none.gguf", "-p", "x", "--kv-type", "q2"], io);
  assertEquals(code, 2);
  assert(/--kv-type must be one of/.test(err), err);
});

test(
  "kv flags: the type reaches the model; a head size q8_0 cannot block is an error",
  async () => {
    let err = "";
    const io = { stdout: () => {}, stderr: (t: string) => void (err += t) };
    const model = await loadFromFlags(
      { model: MODEL, backend: "cpu", "kv-type": "f32", "kv-type-v": "f16" },
      io,
    );
    try {
      assertEquals(model.kvTypes, { k: "f32", v: "f16" });
      assert(err.includes("KV cache f32/f16"), err);
    } finally {
      model.dispose();
    }
    // stories260K has heads of 8: q8_0 stores whole blocks of 32 per head, as llama.cpp does.
    let caught: unknown;
    try {
      (await loadFromFlags({ model: MODEL, backend: "cpu", "kv-type": "q8_0" }, io)).dispose();
    } catch (e) {
      caught = e;
    }
    assert(caught instanceof Error && "code" in caught && caught.code === "INVALID_ARGUMENT");
    assert(/multiple of 32/.test(caught.message), caught.message);
  },
  shared,
);

test("kv flags: inspect's memory estimate takes the cache types", async () => {
  const run = async (...more: string[]) => {
    let out = "";
    const io = { stdout: (t: string) => void (out += t), stderr: () => {} };
    assertEquals(await runCli(["inspect", MODEL, "--json", "--ctx", "256", ...more], io), 0);
    return JSON.parse(out).memory as { kvType: string; kvCacheBytes: number };
  };
  const f16 = await run(), q8 = await run("--kv-type", "q8_0"), mix = await run("-ctk", "q4_0");
  assertEquals([f16.kvType, q8.kvType, mix.kvType], ["f16", "q8_0", "q4_0/f16"]);
  assertEquals(q8.kvCacheBytes, f16.kvCacheBytes * 34 / 64);
  assertEquals(mix.kvCacheBytes, f16.kvCacheBytes * (18 / 32 + 2) / 4);
  let err = "";
  const io = { stdout: () => {}, stderr: (t: string) => void (err += t) };
  assertEquals(await runCli(["inspect", MODEL, "--kv-type", "q5"], io), 2);
}, shared);

test("kv flags: serve refuses an unknown type with exit 2 before it listens", async () => {
  let err = "";
  const io = { stdout: () => {}, stderr: (t: string) => void (err += t) };
  const code = await runCli(["serve", "-m", "none.gguf", "--port", "0", "-ctv", "q7"], io);
  assertEquals(code, 2);
  assert(/--kv-type-v must be one of/.test(err) && !/listening/.test(err), err);
});
