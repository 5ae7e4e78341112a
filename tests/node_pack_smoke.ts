/**
 * Checks of the packed npm package as a user installs it. `deno task build:npm --test`
 * transpiles this file, copies it into a temporary project where `npm install
 * ./rocmforge-*.tgz` ran, and runs it there with `node --test`; it imports the package by
 * its name, runs the `rocmforge` bin through npx and checks `require()`. It is not part of
 * the Deno suite (no `_test` suffix): the package name only resolves inside that project.
 *
 * Environment: ROCMFORGE_SHARED (the shared test data; the model checks skip without it),
 * ROCMFORGE_SMOKE_TSC (a TypeScript compiler's tsc.js; the declaration check skips without).
 *
 * @module
 */
import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";

type Api = typeof import("../mod.ts");

const PKG = "rocmforge";
const rf: Api = await import(PKG);
const shared = process.env.ROCMFORGE_SHARED ?? "";
const modelPath = join(shared, "models", "stories260K.gguf");
const haveModel = shared !== "" && existsSync(modelPath);
const noModel = haveModel ? false : `stories260K not found (ROCMFORGE_SHARED=${shared})`;
const PROMPT = "Once upon a time";
const N = 8;

function run(cmd: string, argv: string[]) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? String(r.error ?? "") };
}

test("package: the public API is importable by name", () => {
  for (const name of ["loadModel", "createSession", "generate", "parseGGUF", "openGGUF"]) {
    equal(typeof (rf as Record<string, unknown>)[name], "function", name);
  }
  ok(rf.registry instanceof rf.PluginRegistry);
  ok(new rf.GGUFError("GGUF_BAD_MAGIC", "x") instanceof rf.RocmForgeError);
});

test("package: a GGUF written and parsed through the package round-trips", () => {
  const T = rf.GGUFValueType;
  const bytes = rf.buildGGUF({
    metadata: [["general.architecture", T.STRING, "llama"], ["n", T.UINT32, 7]],
    tensors: [{ name: "w", dims: [4, 2], type: "F32", data: new Float32Array(8).fill(0.5) }],
  });
  const f = rf.parseGGUF(bytes);
  deepStrictEqual([...rf.plainMetadata(f)], [["general.architecture", "llama"], ["n", 7]]);
  deepStrictEqual(f.tensors.map((t) => [t.name, t.dims, t.type]), [["w", [4, 2], 0]]);
  deepStrictEqual([...new Float32Array(rf.tensorData(f, f.tensors[0]).slice().buffer)], [
    ...new Float32Array(8).fill(0.5),
  ]);
});

/** Greedy text and tokens of the library API (filled by the generation test). */
let libraryText: string | undefined;

test("package: stories260K loads and greedy generation matches llama.cpp", {
  skip: noModel,
}, async () => {
  const golden = JSON.parse(
    readFileSync(join(shared, "golden", "stories260K.jsonl"), "utf8").split("\n")[0],
  ) as { prompt: string; tokens: number[]; text: string };
  equal(golden.prompt, PROMPT);
  const file = rf.openGGUF(modelPath);
  equal(rf.meta(file, "general.architecture"), "llama");
  const model = await rf.loadModel(modelPath, { backend: "cpu", log: () => {} });
  const session = rf.createSession(model);
  try {
    const it = rf.generate(session, PROMPT, { maxTokens: N, sampling: { temperature: 0 } });
    let r = await it.next();
    while (!r.done) r = await it.next();
    deepStrictEqual(r.value.tokens, golden.tokens.slice(0, N));
    equal(r.value.finishReason, "length");
    ok(golden.text.startsWith(r.value.text), `${r.value.text} is not a prefix of the golden`);
    libraryText = r.value.text;
  } finally {
    session.dispose();
    model.dispose();
  }
});

test("package: `npx rocmforge generate` prints the same text", { skip: noModel }, () => {
  const r = run("npx", [
    "--no-install",
    "rocmforge",
    "generate",
    "-m",
    modelPath,
    "-p",
    PROMPT,
    "-n",
    `${N}`,
    "--temp",
    "0",
  ]);
  equal(r.status, 0, r.stderr);
  ok(libraryText !== undefined, "the library generation test ran first");
  // The prompt is echoed (plain, since stdout is not a terminal), then the generated text.
  equal(r.stdout, PROMPT + libraryText + "\n");
  match(r.stderr, /generated 8 tokens/);
});

test("package: the bin lists commands, and a usage error exits 2", () => {
  const help = run("npx", ["--no-install", "rocmforge", "--help"]);
  equal(help.status, 0, help.stderr);
  match(help.stdout, /generate/);
  match(help.stdout, /serve/);
  const bad = run("npx", ["--no-install", "rocmforge", "no-such-command"]);
  equal(bad.status, 2);
  match(bad.stderr, /unknown command no-such-command/);
});

test("package: require() fails with a message that says to use import", () => {
  const require = createRequire(join(process.cwd(), "index.cjs"));
  throws(() => require(PKG), (e: Error & { code?: string }) => {
    equal(e.code, "ERR_REQUIRE_ESM");
    match(e.message, /ES module package: load it with `import/);
    return true;
  });
});

const tsc = process.env.ROCMFORGE_SMOKE_TSC ?? "";
test("package: the declarations type-check a strict TypeScript consumer", {
  skip: tsc && existsSync(tsc) ? false : "ROCMFORGE_SMOKE_TSC not set",
}, () => {
  writeFileSync(
    "consumer.ts",
    `import { createSession, generate, type GenerateOptions, loadModel, parseGGUF } from "rocmforge";
const opts: GenerateOptions = { maxTokens: 4, sampling: { temperature: 0 } };
export async function run(path: string): Promise<string> {
  const model = await loadModel(path, { backend: "cpu" });
  const session = createSession(model);
  let text = "";
  for await (const c of generate(session, "hi", opts)) text += c.text;
  const n: number = parseGGUF(new Uint8Array(0)).tensors.length;
  return text + n;
}
`,
  );
  writeFileSync("bad.ts", `import { loadModel } from "rocmforge";\nloadModel(42);\n`);
  const flags = ["--noEmit", "--strict", "--module", "nodenext", "--target", "es2022"];
  const good = run(process.execPath, [tsc, ...flags, "consumer.ts"]);
  equal(good.status, 0, good.stdout + good.stderr);
  const badRun = run(process.execPath, [tsc, ...flags, "bad.ts"]);
  equal(badRun.status, 2, "a wrong argument type must be a compile error");
  match(badRun.stdout, /not assignable to parameter of type 'string'/);
});
