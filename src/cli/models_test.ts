/**
 * `pull`, `list`, `rm` and `generate -m hf://...` against a real HTTP server on 127.0.0.1
 * (HF_ENDPOINT points there; ROCMFORGE_MODELS is a temporary cache).
 */
import { assert, assertEquals, assertMatch } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { type FileServer, startFileServer } from "../../tests/http_file_server.ts";
import { loadModel } from "../api.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import process from "node:process";
import { makeTempDir, removeTree } from "../runtime/fs_tree.ts";
import { readFile } from "../runtime/host.ts";
import type { CommandIO } from "./command.ts";
import { runCli } from "./main.ts";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const io: CommandIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t) };
  const code = await runCli(argv, io);
  return { code, out, err };
}

async function withHub(
  fn: (srv: FileServer) => Promise<void>,
) {
  const srv = await startFileServer();
  const dir = makeTempDir("rf-models-");
  const saved = [process.env.ROCMFORGE_MODELS, process.env.HF_ENDPOINT];
  process.env.ROCMFORGE_MODELS = dir;
  process.env.HF_ENDPOINT = srv.url;
  try {
    await fn(srv);
  } finally {
    const restore = (k: string, v: string | undefined) =>
      v === undefined ? delete process.env[k] : (process.env[k] = v);
    restore("ROCMFORGE_MODELS", saved[0]);
    restore("HF_ENDPOINT", saved[1]);
    await srv.close();
    removeTree(dir);
  }
}

test("cli pull/list/rm and generate -m hf:// through the cache", async () => {
  await withHub(async (srv) => {
    const files = srv.files;
    const bytes = readFile(sharedPath("models", "stories260K.gguf"));
    files.set("/ggml/tiny/resolve/main/stories260K.gguf", { bytes });
    const pull = await cli("pull", "hf://ggml/tiny/stories260K.gguf");
    assertEquals(pull.code, 0, pull.err);
    assertMatch(pull.err, /^pull: download/m);
    assertMatch(pull.err, /pulled hf:\/\/ggml\/tiny\/stories260K\.gguf .*size and sha256 verified/);
    assertEquals(readFile(pull.out.trim()), bytes);
    const list = await cli("list");
    assertEquals(list.code, 0, list.err);
    assertMatch(list.out, /^NAME +SIZE +ARCH +QUANT$/m);
    assertMatch(list.out, /^hf\/ggml\/tiny\/main\/stories260K\.gguf +[\d.]+ [KM]iB +llama +\S+$/m);
    const gen = await cli(
      "generate",
      "-m",
      "hf://ggml/tiny/stories260K.gguf",
      "-p",
      "Once upon a time",
      "-n",
      "4",
      "--backend",
      "cpu",
      "--no-echo",
    );
    assertEquals(gen.code, 0, gen.err);
    assert(gen.out.length > 4, gen.out);
    // The library's loadModel takes the URI too (a cache hit here: no new request).
    const n = srv.requests.length;
    const m = await loadModel("hf://ggml/tiny/stories260K.gguf", { backend: "cpu", log: () => {} });
    assertEquals([m.config.arch, srv.requests.length], ["llama", n]);
    m.dispose();
    const rm = await cli("rm", "hf/ggml/tiny/main/stories260K.gguf");
    assertEquals(rm.code, 0, rm.err);
    assertEquals((await cli("list")).out, "");
    const gone = await cli("rm", "hf/ggml/tiny/main/stories260K.gguf");
    assertEquals(gone.code, 1);
    assertMatch(gone.err, /^error \[MODEL_FILE_NOT_FOUND\]/m);
    const missing = await cli("pull", "hf://ggml/tiny/nope.gguf");
    assertEquals(missing.code, 1);
    assertMatch(missing.err, /^error \[MODEL_DOWNLOAD_FAILED\]: GET .* HTTP 404/m);
    assertEquals((await cli("pull", "local.gguf")).code, 2);
  });
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
