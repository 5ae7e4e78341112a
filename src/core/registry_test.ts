/**
 * Plugin registry tests: manifest validation (typed PluginErrors naming the field),
 * duplicates and replacement, backend priorities, sampler creation that validates what a
 * plugin returns, and tokenizer plugin lookup.
 */
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import { GreedySampler } from "../samplers/greedy.ts";
import type { Tokenizer } from "../tokenizers/types.ts";
import type { Backend } from "./backend.ts";
import { PluginError } from "./errors.ts";
import {
  API_VERSIONS,
  PluginRegistry,
  type SamplerPlugin,
  type TokenizerPlugin,
} from "./registry.ts";

function backend(name: string, priority?: number): Backend {
  const no = () => {
    throw new Error("not used");
  };
  return {
    apiVersion: 2,
    name,
    priority,
    probe: () => Promise.resolve({ available: true, devices: [] }),
    supportsOp: () => true,
    createContext: no,
    dispose() {},
  };
}

/** Runs fn; asserts a PluginError with `code` whose message matches `pattern`. */
function pluginError(fn: () => unknown, code: string, pattern?: RegExp): PluginError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert(caught instanceof PluginError, `expected PluginError, got ${String(caught)}`);
  assertEquals(caught.code, code);
  if (pattern) assert(pattern.test(caught.message), caught.message);
  return caught;
}

const asBackend = (v: unknown) => v as Backend;

test("registry: API versions are declared per kind", () => {
  assertEquals(API_VERSIONS, { backend: 2, sampler: 1, tokenizer: 1, architecture: 1 });
});

test("registry: invalid backend manifests fail with the field named", () => {
  const r = new PluginRegistry();
  pluginError(() => r.registerBackend(asBackend(null)), "PLUGIN_INVALID", /must be an object/);
  pluginError(() => r.registerBackend(asBackend("cpu")), "PLUGIN_INVALID");
  const v = pluginError(
    () => r.registerBackend(asBackend({ ...backend("x"), apiVersion: 1 })),
    "PLUGIN_API_VERSION",
    /apiVersion 1/,
  );
  assertEquals([v.facts.expected, v.facts.actual], [2, 1]);
  pluginError(
    () => r.registerBackend(asBackend({ ...backend("x"), apiVersion: undefined })),
    "PLUGIN_API_VERSION",
  );
  const { createContext: _c, ...noContext } = backend("x");
  pluginError(() => r.registerBackend(asBackend(noContext)), "PLUGIN_INVALID", /createContext/);
  pluginError(
    () => r.registerBackend(asBackend({ ...backend("x"), probe: 42 })),
    "PLUGIN_INVALID",
    /probe: probe must be a function/,
  );
  for (const bad of ["", "GPU", "has space", "-lead", "a".repeat(65)]) {
    pluginError(() => r.registerBackend(backend(bad)), "PLUGIN_INVALID", /name/);
  }
  pluginError(
    () => r.registerBackend(backend("x", Infinity)),
    "PLUGIN_INVALID",
    /priority/,
  );
  // Several problems are all listed.
  const many = pluginError(
    () => r.registerBackend(asBackend({ apiVersion: 2, name: "Q" })),
    "PLUGIN_INVALID",
  );
  const issues = many.facts.actual as string[];
  for (const f of ["name", "probe", "supportsOp", "createContext"]) {
    assert(issues.some((i) => i.startsWith(f + ":")), `${f} in ${issues.join("; ")}`);
  }
  assertEquals(r.backends(), []);
});

test("registry: duplicates are rejected unless replaced; lookups are typed", () => {
  const r = new PluginRegistry();
  const a = backend("gpu", 5);
  r.registerBackend(a);
  pluginError(() => r.registerBackend(backend("gpu")), "PLUGIN_DUPLICATE", /gpu/);
  const b = backend("gpu", 7);
  r.registerBackend(b, { replace: true });
  assertEquals(r.backend("gpu"), b);
  const nf = pluginError(() => r.backend("tpu"), "PLUGIN_NOT_FOUND", /tpu/);
  assertEquals([nf.facts.expected, nf.facts.actual], ["gpu", "tpu"]);
});

test("registry: backends come out by descending priority, CPU (lowest) last", () => {
  const r = new PluginRegistry();
  r.registerBackend(backend("cpu", -1000));
  r.registerBackend(backend("plain"));
  r.registerBackend(backend("hip", 100));
  r.registerBackend(backend("trace", 10));
  assertEquals(r.backends().map((b) => b.name), ["hip", "trace", "plain", "cpu"]);
});

test("registry: sampler plugins are validated, and so are the samplers they create", () => {
  const r = new PluginRegistry();
  const good: SamplerPlugin = {
    apiVersion: 1,
    name: "greedy2",
    create: () => new GreedySampler(),
  };
  r.registerSampler(good);
  assert(r.createSampler("greedy2") instanceof GreedySampler);
  assertEquals(r.samplerNames(), ["greedy2"]);
  pluginError(() => r.registerSampler(good), "PLUGIN_DUPLICATE");
  pluginError(
    () => r.registerSampler({ ...good, name: "v0", apiVersion: 0 as 1 }),
    "PLUGIN_API_VERSION",
  );
  pluginError(
    () => r.registerSampler({ apiVersion: 1, name: "nocreate" } as unknown as SamplerPlugin),
    "PLUGIN_INVALID",
    /create/,
  );
  pluginError(
    () => r.registerSampler({ ...good, name: "d", description: 3 as unknown as string }),
    "PLUGIN_INVALID",
    /description/,
  );
  // What create() returns is checked too.
  const seen: unknown[] = [];
  const returns = (name: string, value: unknown) =>
    r.registerSampler({
      apiVersion: 1,
      name,
      create: (o) => {
        seen.push(o);
        return value as GreedySampler;
      },
    });
  returns("noapply", { apiVersion: 1, name: "x" });
  returns("oldapi", { apiVersion: 2, name: "x", apply() {} });
  returns("badaccept", { apiVersion: 1, name: "x", apply() {}, accept: "yes" });
  returns("notobject", 7);
  pluginError(() => r.createSampler("noapply", { k: 1 }), "PLUGIN_INVALID", /apply/);
  assertEquals(seen, [{ k: 1 }]);
  pluginError(() => r.createSampler("oldapi"), "PLUGIN_API_VERSION");
  pluginError(() => r.createSampler("badaccept"), "PLUGIN_INVALID", /accept/);
  pluginError(() => r.createSampler("notobject"), "PLUGIN_INVALID");
  pluginError(() => r.createSampler("missing"), "PLUGIN_NOT_FOUND");
});

test("registry: the first tokenizer plugin that matches the metadata is used", () => {
  const r = new PluginRegistry();
  const made: string[] = [];
  const plugin = (name: string, model: string): TokenizerPlugin => ({
    apiVersion: 1,
    name,
    matches: (md) => md.get("tokenizer.ggml.model") === model,
    create: () => {
      made.push(name);
      return { name } as unknown as Tokenizer;
    },
  });
  r.registerTokenizer(plugin("first", "mine"));
  r.registerTokenizer(plugin("second", "mine"));
  r.registerTokenizer(plugin("other", "theirs"));
  const md = new Map<string, MetaValue>([["tokenizer.ggml.model", "mine"]]);
  assertEquals(r.tokenizerFor(md)?.name, "first");
  assertEquals(r.tokenizerFor(new Map([["tokenizer.ggml.model", "theirs"]]))?.name, "other");
  assertEquals(r.tokenizerFor(new Map()), undefined);
  assertEquals(made, []);
  pluginError(
    () => r.registerTokenizer({ ...plugin("x", "y"), matches: undefined } as never),
    "PLUGIN_INVALID",
    /matches/,
  );
  pluginError(() => r.registerTokenizer(plugin("first", "y")), "PLUGIN_DUPLICATE");
  assertThrows(() => r.registerTokenizer({ ...plugin("z", "y"), apiVersion: 3 as 1 }), PluginError);
});
