/**
 * Model URIs through the cache, against a real HTTP server on 127.0.0.1 started here:
 * download, verify (size, sha256 from X-Linked-Etag), resume with Range after a dropped
 * connection and from a leftover .part file, and the faults: wrong bytes, 404, not GGUF.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { startFileServer } from "../../tests/http_file_server.ts";
import { ModelFileError } from "../core/errors.ts";
import { buildGGUF } from "../gguf/builder.ts";
import { GGUFValueType } from "../gguf/gguf_file.ts";
import { makeTempDir, removeTree } from "../runtime/fs_tree.ts";
import { pathExists, readFile, writeFile } from "../runtime/host.ts";
import { listCachedModels, removeCachedModel } from "./cache.ts";
import { cachedPathOf, pullModel, resolveModelFile } from "./resolve.ts";
import { parseModelUri } from "./uri.ts";

/** A small valid GGUF (about 64 KiB of tensor data, so a drop happens mid-file). */
function gguf(seed: number): Uint8Array {
  const data = new Float32Array(16384).map((_, i) => Math.sin(i * seed));
  return buildGGUF({
    metadata: [["general.architecture", GGUFValueType.STRING, "llama"]],
    tensors: [{ name: "token_embd.weight", dims: [128, 128], type: "F32", data }],
  });
}

test("uri: hf:// and https:// map to a download URL and a cache path", () => {
  assertEquals(parseModelUri("hf://me/repo/sub/m.gguf", "http://h:1/"), {
    uri: "hf://me/repo/sub/m.gguf",
    url: "http://h:1/me/repo/resolve/main/sub/m.gguf",
    cachePath: "hf/me/repo/main/sub/m.gguf",
  });
  assertEquals(
    parseModelUri("hf://me/repo@v2/m.gguf").url,
    "https://huggingface.co/me/repo/resolve/v2/m.gguf",
  );
  assertEquals(parseModelUri("https://x.org:8443/a/b.gguf").cachePath, "url/x.org_8443/a/b.gguf");
  for (const bad of ["hf://me/m.gguf", "hf://me/../x/m.gguf", "https://x.org/", "ftp://x/y"]) {
    assertThrows(
      () => parseModelUri(bad),
      (e: unknown) => e instanceof ModelFileError && e.code === "MODEL_URI_INVALID",
      bad,
    );
  }
});

test("pull: download, verify, cache hit, list, rm", async () => {
  const srv = await startFileServer();
  const dir = makeTempDir("rf-cache-");
  try {
    const bytes = gguf(1);
    srv.files.set("/me/repo/resolve/main/m.gguf", { bytes });
    const opts = { cacheDir: dir, endpoint: srv.url };
    const seen: number[] = [];
    const path = await resolveModelFile("hf://me/repo/m.gguf", {
      ...opts,
      onProgress: (p) => seen.push(p.loaded),
    });
    assertEquals(path, cachedPathOf("hf://me/repo/m.gguf", opts));
    assertEquals(readFile(path), bytes);
    assert(seen.length > 0 && seen[seen.length - 1] === bytes.length);
    assert(!pathExists(path + ".part"));
    const n = srv.requests.length;
    assertEquals(await resolveModelFile("hf://me/repo/m.gguf", opts), path);
    assertEquals(srv.requests.length, n, "a cached model is not downloaded again");
    const listed = listCachedModels(dir);
    assertEquals(listed.map((m) => [m.name, m.size, m.architecture, m.quant]), [
      ["hf/me/repo/main/m.gguf", bytes.length, "llama", "F32"],
    ]);
    removeCachedModel("hf/me/repo/main/m.gguf", dir);
    assertEquals(listCachedModels(dir), []);
    assertThrows(() => removeCachedModel("../x", dir), ModelFileError);
  } finally {
    await srv.close();
    removeTree(dir);
  }
});

test("pull: a dropped connection resumes with Range; a leftover .part resumes too", async () => {
  const srv = await startFileServer();
  const dir = makeTempDir("rf-cache-");
  try {
    const bytes = gguf(2);
    srv.files.set("/me/repo/resolve/main/d.gguf", { bytes, fault: "drop-once" });
    const r = await pullModel("hf://me/repo/d.gguf", { cacheDir: dir, endpoint: srv.url });
    assertEquals(readFile(r.path), bytes);
    assertEquals(r.verified, { size: true, sha256: true });
    const ranges = srv.requests.filter((q) => q.path.endsWith("d.gguf")).map((q) => q.range);
    assertEquals(ranges.length, 2);
    assertEquals(ranges[0], undefined);
    assert(/^bytes=\d+-$/.test(ranges[1] ?? "") && ranges[1] !== "bytes=0-", String(ranges[1]));
    // A .part from an earlier run: only the rest is fetched.
    const more = gguf(3);
    srv.files.set("/me/repo/resolve/main/p.gguf", { bytes: more });
    const dest = cachedPathOf("hf://me/repo/p.gguf", { cacheDir: dir, endpoint: srv.url });
    writeFile(dest + ".part", more.subarray(0, 1000));
    const p = await pullModel("hf://me/repo/p.gguf", { cacheDir: dir, endpoint: srv.url });
    assertEquals([p.resumedFrom, readFile(p.path)], [1000, more]);
    assertEquals(srv.requests[srv.requests.length - 1].range, "bytes=1000-");
  } finally {
    await srv.close();
    removeTree(dir);
  }
});

test("pull: wrong bytes, 404 and non-GGUF files are typed errors and leave nothing", async () => {
  const srv = await startFileServer();
  const dir = makeTempDir("rf-cache-");
  const opts = { cacheDir: dir, endpoint: srv.url };
  try {
    srv.files.set("/me/repo/resolve/main/w.gguf", { bytes: gguf(4), fault: "wrong-bytes" });
    srv.files.set("/me/repo/resolve/main/t.gguf", {
      bytes: new TextEncoder().encode("<html>".repeat(9)),
    });
    for (
      const [name, code] of [
        ["w.gguf", "MODEL_CHECKSUM_MISMATCH"],
        ["missing.gguf", "MODEL_DOWNLOAD_FAILED"],
        ["t.gguf", "MODEL_FILE_NOT_GGUF"],
      ] as const
    ) {
      const uri = `hf://me/repo/${name}`;
      await assertRejects(
        () => resolveModelFile(uri, opts),
        (e: unknown) => e instanceof ModelFileError && e.code === code,
        name,
      );
      const path = cachedPathOf(uri, opts);
      assert(!pathExists(path) && !pathExists(path + ".part"), name);
    }
    // A sha256 given by the caller is checked even when the server sends none.
    srv.files.set("/me/repo/resolve/main/n.gguf", { bytes: gguf(5), noHash: true });
    await assertRejects(
      () => pullModel("hf://me/repo/n.gguf", { ...opts, sha256: "0".repeat(64) }),
      (e: unknown) => e instanceof ModelFileError && e.code === "MODEL_CHECKSUM_MISMATCH",
    );
  } finally {
    await srv.close();
    removeTree(dir);
  }
});
