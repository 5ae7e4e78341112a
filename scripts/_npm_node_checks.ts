/**
 * `deno task build:npm --test`: checks the built package under Node.
 *
 * 1. `npm install` in npm/ installs the package's declared dependencies (and koffi, and the
 *    test-only openai client) from the registry, so the suite runs against what users get.
 * 2. `node --test` runs the transpiled suite (every `*_test.js` except the Deno-only list
 *    below) against npm/'s JavaScript, two files at a time, with node's TAP summary.
 * 3. `npm pack`, then `npm install ./rocmforge-*.tgz` in an empty temporary project, where
 *    tests/node_pack_smoke.ts runs: import by name, GGUF parsing, stories260K generation,
 *    `npx rocmforge generate`, `require()`'s message and the declarations under `tsc`; and
 *    tests/node_pack_native.ts: the prebuilt native CPU kernels load under Node and give the
 *    WebAssembly kernels' logits bit for bit (or, in a package without them, the fallback).
 *
 * The last lines are `# pass N` / `# fail N` over steps 2 and 3 together (scripts/test_all.sh
 * reads them); a failed install or pack counts as one failure.
 *
 * @module
 */
import { env, pathExists, writeFile, writeStdout } from "../src/runtime/host.ts";
import { copyFile, listDir, makeTempDir, removeTree } from "../src/runtime/fs_tree.ts";
import { runCommand } from "../src/runtime/subprocess.ts";
import { PACKAGE_NAME } from "./_npm_package.ts";

/**
 * Test files that cannot run under Node for reasons other than importing scripts/, with the
 * reason (repository-relative). Tests that import scripts/ (to make their models), directly or
 * through a helper, are found from the import graph (NodeCheckOptions.scriptTests); tests of
 * scripts/ are never part of the package: the build tools run under Deno.
 */
export const DENO_ONLY_TESTS: Readonly<Record<string, string>> = {
  "tests/amd_arch_macros_test.ts": "checks the build scripts' compilers and output",
  "tests/amd_code_objects_test.ts": "checks the build scripts' output",
  "tests/vocab_llamacpp_test.ts": "reads the repository's tests/vocab_vectors",
  "tests/vocab_pre_variants_test.ts": "reads the repository's tests/vocab_vectors",
  "src/server/version_test.ts": "reads the repository's deno.json",
};

/** Files run at once by `node --test`. */
const CONCURRENCY = 2;
/** Per-file limit for `node --test` (ms). */
const FILE_TIMEOUT_MS = 180_000;

/** Options of runNodeChecks. */
export interface NodeCheckOptions {
  readonly root: string;
  readonly outDir: string;
  /** Repository-relative test modules that were transpiled. */
  readonly testModules: readonly string[];
  /** Those that import scripts/ (not in the package), from the build's import graph. */
  readonly scriptTests?: readonly string[];
  /** Keep the temporary project (its path is printed). */
  readonly keepTemp: boolean;
  /** The native CPU library the package ships (relative to npm/), if the build made one. */
  readonly nativeLibrary?: string;
}

/** Counts read from node's TAP summary. */
export interface TapCounts {
  pass: number;
  fail: number;
  skipped: number;
  cancelled: number;
}

/** The last `# pass` / `# fail` / `# skipped` / `# cancelled` lines of TAP output. */
export function tapCounts(tap: string): TapCounts | undefined {
  const get = (k: string) => {
    const all = [...tap.matchAll(new RegExp(`^# ${k} (\\d+)$`, "gm"))];
    return all.length ? Number(all[all.length - 1][1]) : undefined;
  };
  const pass = get("pass"), fail = get("fail");
  if (pass === undefined || fail === undefined) return undefined;
  return { pass, fail, skipped: get("skipped") ?? 0, cancelled: get("cancelled") ?? 0 };
}

const SUMMARY = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /;

/**
 * Prints TAP as it arrives, trimmed to what a reader needs: each top-level result line,
 * the YAML details of failures, diagnostics (skip reasons). Subtest headers and passing
 * tests' details are dropped; summary lines are printed with a `suite` prefix so that
 * only the combined summary at the end carries the bare `# pass N` form.
 */
function tapPrinter(label: string): { feed(chunk: string): void; end(): void } {
  let buf = "";
  let inFailure = false;
  const line = (l: string) => {
    if (/^not ok /.test(l)) {
      inFailure = true;
      writeStdout(l + "\n");
    } else if (/^ok /.test(l)) {
      inFailure = false;
      writeStdout(l + "\n");
    } else if (/^\s*# Subtest/.test(l) || /^1\.\.\d+$/.test(l) || l.startsWith("TAP version")) {
      return;
    } else if (SUMMARY.test(l)) {
      writeStdout(`${label}: ${l.slice(2)}\n`);
    } else if (inFailure || /^#/.test(l) || /^\s*not ok /.test(l)) {
      writeStdout(l + "\n");
    }
  };
  return {
    feed(chunk) {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        line(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    },
    end() {
      if (buf) line(buf);
      buf = "";
    },
  };
}

/** Runs `node --test` on `files` in `cwd`; returns counts (undefined when none printed). */
async function nodeTest(
  cwd: string,
  files: readonly string[],
  label: string,
  extraEnv: Record<string, string>,
): Promise<TapCounts | undefined> {
  const printer = tapPrinter(label);
  const r = await runCommand("node", [
    "--test",
    "--test-reporter=tap",
    `--test-concurrency=${CONCURRENCY}`,
    `--test-timeout=${FILE_TIMEOUT_MS}`,
    "--test-force-exit",
    ...files,
  ], { cwd, env: extraEnv, onStdout: (t) => printer.feed(t), onStderr: (t) => writeStdout(t) });
  printer.end();
  return tapCounts(r.stdout);
}

/** Runs a command and prints its output only when it fails; returns success. */
async function step(what: string, cmd: string, argv: string[], cwd: string): Promise<boolean> {
  const t0 = performance.now();
  const r = await runCommand(cmd, argv, { cwd });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  if (r.code === 0) {
    writeStdout(`${what}: ok (${s} s)\n`);
    return true;
  }
  writeStdout(`${what}: FAILED (exit ${r.code}, ${s} s)\n${r.stdout}${r.stderr}\n`);
  return false;
}

/** The shared test-data folder, as tests/shared_data.ts finds it from the repository. */
function sharedDir(root: string): string {
  return env("ROCMFORGE_SHARED") ?? `${root}/../shared`;
}

/** Runs the Node checks; prints the combined summary and returns the exit status. */
export async function runNodeChecks(opts: NodeCheckOptions): Promise<number> {
  const { root, outDir } = opts;
  const total: TapCounts = { pass: 0, fail: 0, skipped: 0, cancelled: 0 };
  const add = (c: TapCounts | undefined, what: string) => {
    if (!c) {
      writeStdout(`${what}: node printed no summary\n`);
      total.fail++;
      return;
    }
    total.pass += c.pass;
    total.fail += c.fail + c.cancelled;
    total.skipped += c.skipped;
  };
  const shared = sharedDir(root);
  const testEnv: Record<string, string> = {};
  if (pathExists(`${shared}/models`)) testEnv.ROCMFORGE_SHARED = shared;

  writeStdout(`== npm/: install the package's dependencies (node ${await nodeVersion()})\n`);
  const installed = await step(
    "npm install (npm/)",
    "npm",
    ["install", "--no-audit", "--no-fund", "--no-package-lock", "--prefer-offline"],
    outDir,
  );
  if (!installed) total.fail++;

  const denoOnly: Record<string, string> = { ...DENO_ONLY_TESTS };
  for (const m of opts.scriptTests ?? []) {
    denoOnly[m] ??= "imports scripts/ to make its models (not in the package)";
  }
  const excluded = Object.entries(denoOnly);
  const scriptTests = listDir(`${root}/scripts`).filter((f) => f.endsWith("_test.ts"));
  writeStdout(
    `Deno-only tests excluded: ${
      excluded.length ? excluded.map(([f, why]) => `${f} (${why})`).join("; ") : "none"
    }\n`,
  );
  if (scriptTests.length) {
    writeStdout(
      `not in the package, so not run under Node: scripts/${scriptTests.join(", scripts/")} ` +
        "(build tools run under Deno)\n",
    );
  }
  const files = opts.testModules
    .filter((m) => !(m in denoOnly))
    .map((m) => m.replace(/\.ts$/, ".js"));

  if (installed) {
    writeStdout(
      `== node --test: ${files.length} test files against npm/ (concurrency ${CONCURRENCY})\n`,
    );
    const t0 = performance.now();
    add(await nodeTest(outDir, files, "suite", testEnv), "node --test (suite)");
    writeStdout(`suite: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }

  writeStdout("== npm pack, install into a temporary project, use it\n");
  for (const f of listDir(outDir)) if (f.endsWith(".tgz")) removeTree(`${outDir}/${f}`);
  const temp = makeTempDir("rocmforge-npm-");
  try {
    const packed = await step("npm pack", "npm", ["pack", "--silent"], outDir);
    const tgz = listDir(outDir).find((f) => f.startsWith(`${PACKAGE_NAME}-`) && f.endsWith(".tgz"));
    let ok = packed && tgz !== undefined;
    if (ok) {
      copyFile(`${outDir}/${tgz}`, `${temp}/${tgz}`);
      copyFile(`${outDir}/tests/node_pack_smoke.js`, `${temp}/smoke.test.mjs`);
      copyFile(`${outDir}/tests/node_pack_native.js`, `${temp}/native.test.mjs`);
      writeFile(
        `${temp}/package.json`,
        JSON.stringify({ name: "rocmforge-smoke", private: true, type: "module" }) + "\n",
      );
      ok = await step(
        `npm install ./${tgz}`,
        "npm",
        ["install", "--no-audit", "--no-fund", "--prefer-offline", `./${tgz}`],
        temp,
      );
    }
    if (!ok) total.fail++;
    else {
      const tsc = `${root}/node_modules/typescript/lib/tsc.js`;
      const smokeEnv: Record<string, string> = {
        ...testEnv,
        ROCMFORGE_SMOKE_NATIVE: opts.nativeLibrary ? "1" : "0",
      };
      if (pathExists(tsc)) smokeEnv.ROCMFORGE_SMOKE_TSC = tsc;
      add(
        await nodeTest(temp, ["smoke.test.mjs", "native.test.mjs"], "package", smokeEnv),
        "package checks",
      );
    }
  } finally {
    if (opts.keepTemp) writeStdout(`temporary project kept: ${temp}\n`);
    else removeTree(temp);
  }

  writeStdout("# npm package total (test suite under Node + installed-package checks):\n");
  writeStdout(`# pass ${total.pass}\n# fail ${total.fail}\n# skipped ${total.skipped}\n`);
  return total.fail === 0 ? 0 : 1;
}

async function nodeVersion(): Promise<string> {
  const r = await runCommand("node", ["--version"]);
  return r.code === 0 ? r.stdout.trim() : "not found";
}
