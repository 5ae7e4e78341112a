/**
 * `generate -m MODEL -p PROMPT [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]
 * [--seed S] [--backend auto|cpu|hip] [--ctx N]`: stdout carries only the generated text;
 * load progress and speed (tokens/s) go to stderr.
 *
 * @module
 */
import { generate } from "../core/generate.ts";
import { Session } from "../core/session.ts";
import { formatFlags, parseArgs, UsageError } from "./args.ts";
import { type Command, registerCommand } from "./command.ts";
import { loadFromFlags, MODEL_FLAGS } from "./_load.ts";

const FLAGS = {
  ...MODEL_FLAGS,
  prompt: { type: "string", short: "p", valueName: "TEXT", description: "prompt text" },
  "n-predict": {
    type: "integer",
    short: "n",
    default: 128,
    valueName: "N",
    description: "tokens to generate",
  },
  temp: { type: "number", default: 0.8, valueName: "T", description: "temperature (0 = greedy)" },
  "top-k": { type: "integer", default: 40, valueName: "K", description: "top-k (0 = off)" },
  "top-p": { type: "number", default: 0.95, valueName: "P", description: "top-p (1 = off)" },
  "min-p": { type: "number", default: 0.05, valueName: "P", description: "min-p (0 = off)" },
  "repeat-penalty": {
    type: "number",
    default: 1,
    valueName: "R",
    description: "repetition penalty",
  },
  seed: { type: "integer", valueName: "S", description: "RNG seed (same seed, same text)" },
  stop: { type: "string", multiple: true, valueName: "TEXT", description: "stop string" },
  "ignore-eos": { type: "boolean", description: "keep generating past end-of-text" },
} as const;

/** The generate command. */
export const generateCommand: Command = {
  name: "generate",
  summary: "generate text from a prompt",
  usage: `generate -m MODEL -p PROMPT [flags]\n${formatFlags(FLAGS)}`,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    if (flags.prompt === undefined) throw new UsageError("missing -p PROMPT");
    if (flags["n-predict"] < 0) {
      throw new UsageError("-n must be >= 0", { actual: flags["n-predict"] });
    }
    const model = await loadFromFlags(flags, io);
    const session = new Session(model);
    try {
      const t0 = performance.now();
      let tFirst = 0;
      const it = generate(session, flags.prompt, {
        maxTokens: flags["n-predict"],
        sampling: {
          temperature: flags.temp,
          topK: flags["top-k"],
          topP: flags["top-p"],
          minP: flags["min-p"],
          repeatPenalty: flags["repeat-penalty"],
          seed: flags.seed,
        },
        stop: flags.stop,
        ignoreEos: flags["ignore-eos"],
      });
      let r = await it.next();
      while (!r.done) {
        if (!tFirst) tFirst = performance.now();
        io.stdout(r.value.text);
        r = await it.next();
      }
      const t1 = performance.now();
      const res = r.value;
      io.stdout("\n");
      const decodeS = (t1 - tFirst) / 1000;
      io.stderr(
        `prompt ${res.promptTokens} tokens in ${(tFirst - t0).toFixed(0)} ms (${
          (res.promptTokens / ((tFirst - t0) / 1000)).toFixed(1)
        } tokens/s); generated ${res.completionTokens} tokens, ${
          res.completionTokens > 1 ? ((res.completionTokens - 1) / decodeS).toFixed(1) : "-"
        } tokens/s; finish: ${res.finishReason}\n`,
      );
      return 0;
    } finally {
      session.dispose();
      model.dispose();
    }
  },
};
registerCommand(generateCommand);
