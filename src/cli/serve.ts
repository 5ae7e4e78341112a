/**
 * `serve -m MODEL [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--parallel N]
 * [--queue N] [--ctx N] [--backend auto|cpu|hip] [--prompt-cache-tokens N] [--choice-forks N]`: the OpenAI-compatible HTTP server (the API
 * key may instead come from the environment variable ROCMFORGE_API_KEY). It
 * listens at once (GET /health answers 503 until the model is loaded), serves until
 * SIGINT/SIGTERM, then stops accepting, lets running generations finish for
 * `--shutdown-grace` ms, cancels the rest, and exits 0.
 *
 * @module
 */
import { env, onShutdownSignal, readTextFile } from "../runtime/host.ts";
import { serveHttp } from "../runtime/http_server.ts";
import { onParentExit, pid } from "../runtime/parent_watch.ts";
import { createApp } from "../server/app.ts";
import { Engine } from "../server/engine.ts";
import { openVectorStores } from "../server/routes_vector_stores.ts";
import { formatFlags, parseArgs, UsageError } from "./args.ts";
import { type Command, registerCommand } from "./command.ts";
import { kvTypesFromFlags, loadFromFlags, MODEL_FLAGS } from "./_load.ts";

const FLAGS = {
  ...MODEL_FLAGS,
  host: { type: "string", default: "127.0.0.1", valueName: "ADDR", description: "interface" },
  port: { type: "integer", default: 8080, valueName: "PORT", description: "port (0: any free)" },
  "api-key": {
    type: "string",
    valueName: "KEY",
    description:
      "require `Authorization: Bearer KEY` on every route but /health (default: env ROCMFORGE_API_KEY)",
  },
  parallel: {
    type: "integer",
    short: "np",
    default: 1,
    valueName: "N",
    description: "requests generating at once (slots)",
  },
  queue: { type: "integer", default: 64, valueName: "N", description: "requests that may wait" },
  "prompt-cache-tokens": {
    type: "integer",
    valueName: "N",
    description:
      "tokens of prompt prefixes evicted from slots kept in host RAM for reuse (default: the context length; 0: none)",
  },
  "choice-forks": {
    type: "integer",
    valueName: "N",
    description:
      "extra sequences decoding the n>1 choices of a request at once, each a KV cache of the context length (default: one per slot; 0: choices one after another)",
  },
  alias: { type: "string", valueName: "NAME", description: "model id (default: file name)" },
  "chat-template-file": {
    type: "string",
    valueName: "FILE",
    description: "Jinja chat template (default: the model's, else ChatML)",
  },
  "body-limit": {
    type: "integer",
    default: 1 << 20,
    valueName: "BYTES",
    description: "largest request body",
  },
  "strict-model": {
    type: "boolean",
    description: "refuse requests naming another model (default: any model name is served)",
  },
  "cors-origin": {
    type: "string",
    valueName: "ORIGINS",
    description:
      "comma-separated origins allowed cross-origin, or * (default: * on loopback hosts, none otherwise; 'none' turns it off)",
  },
  "body-timeout": {
    type: "integer",
    default: 30000,
    valueName: "MS",
    description: "time a request body may take to arrive (then 408)",
  },
  store: {
    type: "string",
    valueName: "PATH",
    description: "context store served as /v1/vector_stores",
  },
  "shutdown-grace": {
    type: "integer",
    default: 5000,
    valueName: "MS",
    description: "time running requests get to finish on SIGINT/SIGTERM",
  },
} as const;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** `--cors-origin` as a list: its value, else "*" for a loopback host and none otherwise. */
export function corsOrigins(flag: string | undefined, host: string): string[] {
  if (flag === undefined) return LOOPBACK.has(host) || host.startsWith("127.") ? ["*"] : [];
  if (flag.trim() === "none") return [];
  const list = flag.split(",").map((o) => o.trim()).filter((o) => o !== "");
  for (const o of list) {
    if (o !== "*" && !/^https?:\/\/[^/]+$/.test(o)) {
      throw new UsageError(`--cors-origin ${o} is not an origin like http://host:port or *`, {
        actual: o,
      });
    }
  }
  return list;
}

function positive(name: string, v: number, min: number): void {
  if (v < min) throw new UsageError(`--${name} must be >= ${min}, not ${v}`, { actual: v });
}

/**
 * `--prompt-cache-tokens` and `--choice-forks` as engine options (absent: the engine's
 * defaults); a negative value is a UsageError.
 */
export function cacheOptions(
  flags: { "prompt-cache-tokens"?: number; "choice-forks"?: number },
): { promptCacheTokens?: number; choiceForks?: number } {
  const promptCacheTokens = flags["prompt-cache-tokens"];
  const choiceForks = flags["choice-forks"];
  if (promptCacheTokens !== undefined) positive("prompt-cache-tokens", promptCacheTokens, 0);
  if (choiceForks !== undefined) positive("choice-forks", choiceForks, 0);
  return { promptCacheTokens, choiceForks };
}

/** The serve command. */
export const serveCommand: Command = {
  name: "serve",
  summary: "serve a model over an OpenAI-compatible HTTP API",
  usage: `serve -m MODEL [flags]\n${formatFlags(FLAGS)}`,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    if (!flags.model) throw new UsageError("missing -m MODEL", { expected: "-m MODEL.gguf" });
    kvTypesFromFlags(flags); // a bad --kv-type is a usage error before the server listens
    positive("parallel", flags.parallel, 1);
    positive("queue", flags.queue, 0);
    positive("body-limit", flags["body-limit"], 1024);
    positive("shutdown-grace", flags["shutdown-grace"], 0);
    positive("body-timeout", flags["body-timeout"], 1);
    const { promptCacheTokens, choiceForks } = cacheOptions(flags);
    if (flags.port < 0 || flags.port > 65535) {
      throw new UsageError(`--port must be in 0..65535, not ${flags.port}`, { actual: flags.port });
    }
    const apiKey = flags["api-key"] ?? env("ROCMFORGE_API_KEY");
    if (apiKey !== undefined && apiKey.trim() === "") {
      throw new UsageError("--api-key must not be empty", { actual: apiKey });
    }
    const engine = new Engine({
      parallel: flags.parallel,
      queueSize: flags.queue,
      apiKey,
      modelId: flags.alias,
      bodyLimit: flags["body-limit"],
      bodyTimeoutMs: flags["body-timeout"],
      strictModel: flags["strict-model"] === true,
      corsOrigins: corsOrigins(flags["cors-origin"], flags.host),
      promptCacheTokens,
      choiceForks,
      chatTemplate: flags["chat-template-file"]
        ? readTextFile(flags["chat-template-file"])
        : undefined,
      log: (line) => io.stderr(line + "\n"),
    });
    const app = createApp({ engine });
    const closeStore = flags.store ? await openVectorStores(app, engine, flags.store) : undefined;
    const server = await serveHttp(app.fetch, {
      hostname: flags.host,
      port: flags.port,
    });
    io.stderr(
      `listening on ${server.url} (pid ${pid()}; model loading; GET /health is 503 until ready)\n`,
    );
    let stop!: (reason: string) => void;
    const stopped = new Promise<string>((r) => stop = r);
    const offSignal = onShutdownSignal((sig) => stop(sig));
    const offParent = onParentExit(() => stop("parent process exited"));
    const off = () => {
      offSignal();
      offParent();
    };
    let loadError: unknown;
    loadFromFlags(flags, io).then((model) => {
      if (engine.state === "stopping") return model.dispose();
      engine.attach(model);
      io.stderr(
        `ready: ${engine.modelId} on ${server.url} (${flags.parallel} slot(s), ` +
          `context ${engine.ready().contextLength} each)\n`,
      );
    }, (e) => {
      loadError = e;
      engine.fail(e);
      stop("load failure");
    });
    const why = await stopped;
    off();
    io.stderr(`${why}: shutting down\n`);
    const closing = server.close();
    await engine.shutdown({ graceMs: flags["shutdown-grace"] });
    await closing;
    await closeStore?.();
    if (loadError !== undefined) throw loadError;
    io.stderr("stopped\n");
    return 0;
  },
};
registerCommand(serveCommand);
