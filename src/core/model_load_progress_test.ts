/**
 * Weight upload progress (uploadWeights) with fake backends: one reads every tensor in parts
 * through `readInto` (as the HIP staging ring does), one whole through `read()`. Every byte
 * arrives as in the file, progress is reported after every read with `loaded` rising to the
 * total, each tensor counted once when its last byte is read, backend by backend; an abort
 * between reads stops the load and disposes the contexts made.
 */
import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { GGUFBuilder } from "../gguf/builder.ts";
import { type GGUFFile, tensorData } from "../gguf/gguf_file.ts";
import { parseGGUF } from "../gguf/reader.ts";
import type { Backend, BackendContext, WeightTensor } from "./backend.ts";
import { AbortError } from "./errors.ts";
import { type LoadProgress, uploadWeights } from "./model_load.ts";

function file(): GGUFFile {
  const b = new GGUFBuilder().setString("general.architecture", "llama");
  [[40], [16, 3], [1000], [7, 5]].forEach((dims, i) => {
    const n = dims.reduce((x, y) => x * y, 1);
    b.addTensor(`t${i}`, dims, "F32", Float32Array.from({ length: n }, (_, k) => k * 0.5 - i));
  });
  return parseGGUF(b.build());
}

/** A backend that copies each tensor's bytes, in parts of `part` bytes (0: whole, by read()). */
function copyingBackend(
  name: string,
  part: number,
  got: Map<string, Uint8Array>,
  disposed: string[],
) {
  return {
    apiVersion: 2,
    name,
    probe: () => Promise.reject(new Error("not used")),
    supportsOp: () => true,
    createContext(tensors: readonly WeightTensor[]): Promise<BackendContext> {
      for (const t of tensors) {
        if (part === 0) {
          got.set(t.info.name, t.read().slice());
          continue;
        }
        const out = new Uint8Array(t.info.nBytes);
        for (let s = 0; s < out.length; s += part) {
          t.readInto!(s, out.subarray(s, Math.min(out.length, s + part)));
        }
        got.set(t.info.name, out);
      }
      return Promise.resolve(
        { weightBytes: 0, dispose: () => disposed.push(name) } as unknown as BackendContext,
      );
    },
    dispose() {},
  } as Backend;
}

test("uploadWeights: bytes as in the file; progress after every read, each tensor once, in order", async () => {
  const f = file();
  const tensors = new Map(f.tensors.map((t) => [t.name, t] as const));
  const got = new Map<string, Uint8Array>();
  const a = copyingBackend("parts", 24, got, []);
  const b = copyingBackend("whole", 0, got, []);
  const need = new Map([[a, new Set(["t0", "t2", "t3"])], [b, new Set(["t1"])]]);
  const reports: LoadProgress[] = [];
  await uploadWeights(f, tensors, need, { onProgress: (p) => reports.push(p) });
  for (const t of f.tensors) assertEquals(got.get(t.name), tensorData(f, t), t.name);
  const total = f.tensors.reduce((s, t) => s + t.nBytes, 0);
  const parts = [0, 2, 3].reduce((s, i) => s + Math.ceil(f.tensors[i].nBytes / 24), 0);
  assertEquals(reports.length, parts + 1);
  assert(reports.every((r) => r.phase === "weights" && r.unit === "bytes" && r.total === total));
  for (let i = 1; i < reports.length; i++) assert(reports[i].loaded > reports[i - 1].loaded);
  assertEquals(reports.at(-1)!.loaded, total);
  // Backend by backend: the part reader's tensors count 1, 2, 3 as each one's last part lands.
  assertEquals(reports.map((r) => r.backend), [...Array(parts).fill("parts"), "whole"]);
  const counts = reports.map((r) => `${r.tensors}/${r.tensorsTotal}`);
  const firstDone = Math.ceil(f.tensors[0].nBytes / 24);
  assertEquals(counts[firstDone - 2], "0/3");
  assertEquals(counts[firstDone - 1], "1/3");
  assertEquals(counts.slice(-2), ["3/3", "1/1"]);
  assertEquals(new Set(counts.slice(0, -1)), new Set(["0/3", "1/3", "2/3", "3/3"]));
});

test("uploadWeights: an abort between reads rejects and disposes the contexts made", async () => {
  const f = file();
  const tensors = new Map(f.tensors.map((t) => [t.name, t] as const));
  const disposed: string[] = [];
  const a = copyingBackend("first", 0, new Map(), disposed);
  const b = copyingBackend("second", 100, new Map(), disposed);
  const ac = new AbortController();
  const need = new Map([[a, new Set(["t0"])], [b, new Set(["t2"])]]);
  let n = 0;
  const onProgress = (p: LoadProgress) => {
    if (p.backend === "second" && ++n === 2) ac.abort();
  };
  await assertRejects(
    () => uploadWeights(f, tensors, need, { onProgress, signal: ac.signal }),
    AbortError,
  );
  assertEquals(n, 2); // no read after the abort
  assertEquals(disposed, ["first"]);
});
