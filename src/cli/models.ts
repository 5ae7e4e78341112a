/**
 * Model cache commands: `pull URI` (hf://OWNER/REPO/FILE.gguf or an https:// URL; progress
 * bar on a terminal, resumes an interrupted download, verifies size and sha256), `list`
 * (name, size, architecture, quant) and `rm NAME`. The cache folder is $ROCMFORGE_MODELS,
 * else $XDG_DATA_HOME/rocmforge/models, else ~/.local/share/rocmforge/models.
 *
 * @module
 */
import { formatBytes } from "../gguf/describe.ts";
import { listCachedModels, modelCacheDir, removeCachedModel } from "../models/cache.ts";
import { pullModel } from "../models/resolve.ts";
import { isModelUri } from "../models/uri.ts";
import { formatFlags, parseArgs, UsageError } from "./args.ts";
import { type Command, registerCommand } from "./command.ts";
import { ProgressView } from "./progress.ts";

const PULL_FLAGS = {
  sha256: { type: "string", valueName: "HEX", description: "expected sha256 of the file" },
} as const;

/** The pull command. */
export const pullCommand: Command = {
  name: "pull",
  summary: "download a model (hf://OWNER/REPO/FILE.gguf or https://) into the cache",
  usage: `pull URI [--sha256 HEX]\n${formatFlags(PULL_FLAGS)}`,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, PULL_FLAGS);
    if (positionals.length !== 1) throw new UsageError("pull needs one URI");
    const uri = positionals[0];
    if (!isModelUri(uri)) {
      throw new UsageError(`pull needs hf://OWNER/REPO/FILE.gguf or an https:// URL, not ${uri}`);
    }
    if (flags.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(flags.sha256)) {
      throw new UsageError("--sha256 needs 64 hex digits", { actual: flags.sha256 });
    }
    const view = new ProgressView(io, "pull");
    let r;
    try {
      r = await pullModel(uri, {
        onProgress: (p) => view.update(p),
        ...(flags.sha256 ? { sha256: flags.sha256 } : {}),
      });
    } finally {
      view.done();
    }
    const checks = [r.verified.size ? "size" : "", r.verified.sha256 ? "sha256" : ""]
      .filter(Boolean).join(" and ");
    io.stderr(
      `pulled ${uri} (${formatBytes(r.size)}${
        r.resumedFrom > 0 ? `, resumed at ${formatBytes(r.resumedFrom)}` : ""
      }; ${checks ? `${checks} verified` : "nothing to verify against"})\n`,
    );
    io.stdout(r.path + "\n");
    return 0;
  },
};

/** The list command. */
export const listCommand: Command = {
  name: "list",
  summary: "list the models in the cache (name, size, architecture, quant)",
  usage: "list",
  run(argv, io) {
    const { positionals } = parseArgs(argv, {});
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const rows = listCachedModels().map((m) => [
      m.name,
      formatBytes(m.size),
      m.architecture,
      m.quant,
    ]);
    if (rows.length === 0) {
      io.stderr(`no models in ${modelCacheDir()}\n`);
      return Promise.resolve(0);
    }
    const all = [["NAME", "SIZE", "ARCH", "QUANT"], ...rows];
    const w = all[0].map((_, i) => Math.max(...all.map((r) => r[i].length)));
    for (const r of all) io.stdout(r.map((c, i) => c.padEnd(w[i])).join("  ").trimEnd() + "\n");
    return Promise.resolve(0);
  },
};

/** The rm command. */
export const rmCommand: Command = {
  name: "rm",
  summary: "remove a model from the cache (NAME as `list` prints it)",
  usage: "rm NAME...",
  run(argv, io) {
    const { positionals } = parseArgs(argv, {});
    if (positionals.length === 0) throw new UsageError("rm needs a NAME (see `list`)");
    for (const n of positionals) io.stderr(`removed ${removeCachedModel(n)}\n`);
    return Promise.resolve(0);
  },
};

registerCommand(pullCommand);
registerCommand(listCommand);
registerCommand(rmCommand);
