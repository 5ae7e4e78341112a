/**
 * `generate -m MODEL [-p PROMPT | -f FILE | < stdin] [flags]`: stdout carries the prompt
 * (dimmed on a terminal; `--no-echo` leaves it out) and the generated text, or with `--json`
 * one JSON object (text, tokens, timings, finish reason); load progress and speed go to
 * stderr. Flags take llama.cpp's spellings too (`-n/--n-predict`, `-ngl`, `--ctx-size`,
 * `--repeat-penalty`, ...). Sampling flags are checked before the model loads (exit 2);
 * omitted ones follow the one default policy (src/samplers/params.ts: greedy unless a
 * temperature is given). `--json-schema FILE` / `--grammar FILE` constrain the text (see
 * chat_flags.ts); `--chat` renders the prompt through the model's chat template first (as a
 * user message, after `--system TEXT`).
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";
import { generate, type GenerateOptions } from "../core/generate.ts";
import { Session } from "../core/session.ts";
import { withGrammar } from "../chat/constrain.ts";
import {
  createSamplerChain,
  type SamplingParams,
  validateSamplingParams,
} from "../samplers/params.ts";
import { readTextFile } from "../runtime/host.ts";
import { type Flags, formatFlags, parseArgs, UsageError } from "./args.ts";
import { chatPromptFromFlags, CONSTRAINT_FLAGS, constraintFromFlags } from "./chat_flags.ts";
import { type Command, type CommandIO, registerCommand } from "./command.ts";
import { checkModelFlags, loadFromFlags, MODEL_FLAGS, registryFromFlags } from "./_load.ts";

const num = (description: string, valueName = "X") =>
  ({ type: "number", valueName, description }) as const;

/** The sampling flags (llama.cpp's spellings), shared with `chat`. */
export const SAMPLING_FLAGS = {
  temp: { ...num("temperature (default 0: greedy)", "T"), aliases: ["--temperature"] },
  "top-k": { type: "integer", valueName: "K", description: "top-k (0 = off; default 40)" },
  "top-p": num("top-p (1 = off; default 0.95)", "P"),
  "min-p": num("min-p (0 = off; default 0.05)", "P"),
  typical: num("locally typical p (1 = off)", "P"),
  "repeat-penalty": num("repetition penalty (1 = off)", "R"),
  "repeat-last-n": {
    type: "integer",
    valueName: "N",
    description: "penalty window (-1 = all, default 64)",
  },
  "presence-penalty": num("presence penalty (0 = off)", "R"),
  "frequency-penalty": num("frequency penalty (0 = off)", "R"),
  seed: {
    type: "integer",
    short: "s",
    valueName: "S",
    description: "RNG seed (same seed, same text)",
  },
} as const;

const FLAGS = {
  ...MODEL_FLAGS,
  prompt: { type: "string", short: "p", valueName: "TEXT", description: "prompt text" },
  file: {
    type: "string",
    short: "f",
    valueName: "FILE",
    description: "read the prompt from FILE (default: stdin when -p is absent)",
  },
  "n-predict": {
    type: "integer",
    short: "n",
    aliases: ["--max-tokens"],
    default: 128,
    valueName: "N",
    description: "tokens to generate",
  },
  ...SAMPLING_FLAGS,
  ...CONSTRAINT_FLAGS,
  chat: {
    type: "boolean",
    description: "apply the model's chat template to the prompt (a user message)",
  },
  system: {
    type: "string",
    valueName: "TEXT",
    description: "with --chat: a system message before the prompt",
  },
  sampler: {
    type: "string",
    valueName: "NAME",
    description: "a registered sampler plugin instead of the sampling flags",
  },
  "sampler-options": {
    type: "string",
    valueName: "JSON",
    description: "options object for --sampler",
  },
  stop: { type: "string", multiple: true, valueName: "TEXT", description: "stop string" },
  "ignore-eos": { type: "boolean", description: "keep generating past end-of-text" },
  echo: { type: "boolean", default: true, description: "print the prompt first (--no-echo)" },
  json: { type: "boolean", description: "print one JSON object: text, tokens, timings" },
} as const;

type GenFlags = ReturnType<typeof parseArgs<typeof FLAGS>>["flags"];
type SamplingFlags = Flags<typeof SAMPLING_FLAGS>;

/** The sampling parameters the flags give (only the flags that were set). */
export function samplingFromFlags(f: SamplingFlags): SamplingParams {
  const p: SamplingParams = {};
  const set = <K extends keyof SamplingParams>(k: K, v: SamplingParams[K] | undefined) => {
    if (v !== undefined) p[k] = v;
  };
  set("temperature", f.temp);
  set("topK", f["top-k"]);
  set("topP", f["top-p"]);
  set("minP", f["min-p"]);
  set("typicalP", f.typical);
  set("repeatPenalty", f["repeat-penalty"]);
  set("penaltyLastN", f["repeat-last-n"]);
  set("presencePenalty", f["presence-penalty"]);
  set("frequencyPenalty", f["frequency-penalty"]);
  set("seed", f.seed);
  return p;
}

const FLAG_OF: Record<string, string> = {
  temperature: "--temp",
  topK: "--top-k",
  topP: "--top-p",
  minP: "--min-p",
  typicalP: "--typical",
  repeatPenalty: "--repeat-penalty",
  penaltyLastN: "--repeat-last-n",
  presencePenalty: "--presence-penalty",
  frequencyPenalty: "--frequency-penalty",
  seed: "--seed",
};

/** Sampling flags checked as usage errors (exit 2), before anything loads. */
export function checkSampling(p: SamplingParams): void {
  try {
    validateSamplingParams(p);
  } catch (e) {
    if (!(e instanceof InvalidArgumentError)) throw e;
    const field = String(e.facts.field ?? "");
    const flag = FLAG_OF[field.replace(/^sampling\./, "")] ?? field;
    throw new UsageError(`${flag}: ${e.message}`, { ...e.facts, flag });
  }
}

/** A file's or stdin's text without its final newline (as llama.cpp's `-f` reads files). */
const chompNewline = (t: string) => t.replace(/\r?\n$/, "");

async function promptFrom(f: GenFlags, io: CommandIO): Promise<string> {
  if (f.prompt !== undefined && f.file !== undefined) {
    throw new UsageError("give -p PROMPT or -f FILE, not both");
  }
  if (f.prompt !== undefined) return f.prompt;
  if (f.file !== undefined) {
    try {
      return chompNewline(readTextFile(f.file));
    } catch (e) {
      throw new UsageError(`-f ${f.file}: ${(e as Error).message}`, { actual: f.file });
    }
  }
  if (io.readStdin && !io.tty?.stdin) return chompNewline(await io.readStdin());
  throw new UsageError("missing -p PROMPT (or -f FILE, or a prompt on stdin)");
}

function parseSamplerOptions(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(raw);
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {
    // reported below
  }
  throw new UsageError(`--sampler-options must be a JSON object, not ${raw}`, { actual: raw });
}

/** The generate command. */
export const generateCommand: Command = {
  name: "generate",
  summary: "generate text from a prompt",
  usage: `generate -m MODEL [-p PROMPT | -f FILE | < FILE] [flags]\n${formatFlags(FLAGS)}`,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    checkModelFlags(flags);
    if (flags["n-predict"] < 0) {
      throw new UsageError("-n must be >= 0", { actual: flags["n-predict"] });
    }
    const sampling = samplingFromFlags(flags);
    checkSampling(sampling);
    const samplerOptions = parseSamplerOptions(flags["sampler-options"]);
    if (flags.sampler === undefined && samplerOptions !== undefined) {
      throw new UsageError("--sampler-options needs --sampler NAME");
    }
    if (flags.sampler !== undefined && Object.keys(sampling).length > 0) {
      throw new UsageError("--sampler replaces the sampling flags; give one or the other");
    }
    if (flags.stop.includes("")) throw new UsageError("--stop needs a non-empty string");
    if (flags.system !== undefined && !flags.chat) throw new UsageError("--system needs --chat");
    const grammar = constraintFromFlags(flags);
    const text = await promptFrom(flags, io);
    const registry = await registryFromFlags(flags);
    const plugin = flags.sampler === undefined
      ? undefined
      : registry.createSampler(flags.sampler, samplerOptions);
    const model = await loadFromFlags(flags, io, registry);
    const session = new Session(model);
    try {
      const chat = flags.chat ? chatPromptFromFlags(model, text, flags.system) : undefined;
      const prompt = chat?.text ?? text;
      const tok = model.tokenizer;
      const sampler = grammar
        ? withGrammar(plugin ?? createSamplerChain(sampling), grammar.grammar, tok)
        : plugin;
      const opts: GenerateOptions = {
        maxTokens: flags["n-predict"],
        ...(sampler ? { sampler } : { sampling }),
        stop: flags.stop,
        ignoreEos: flags["ignore-eos"],
        ...(chat ? { parseSpecial: true, addSpecial: chat.addSpecial } : {}),
      };
      const echo = flags.echo && !flags.json;
      const t0 = performance.now();
      let tFirst = 0;
      const it = generate(session, prompt, opts);
      if (echo) io.stdout(io.tty?.stdout ? `\x1b[2m${prompt}\x1b[0m` : prompt);
      let r = await it.next();
      while (!r.done) {
        if (!tFirst) tFirst = performance.now();
        if (!flags.json) io.stdout(r.value.text);
        r = await it.next();
      }
      const t1 = performance.now();
      if (!tFirst) tFirst = t1;
      const res = r.value;
      const promptMs = tFirst - t0;
      const genMs = t1 - tFirst;
      const tps = res.completionTokens > 1 ? (res.completionTokens - 1) / (genMs / 1000) : 0;
      const pps = promptMs > 0 ? res.promptTokens / (promptMs / 1000) : 0;
      if (flags.json) {
        io.stdout(
          JSON.stringify({
            text: res.text,
            tokens: res.tokens,
            promptTokens: res.promptTokens,
            completionTokens: res.completionTokens,
            finishReason: res.finishReason,
            timings: {
              promptMs: round(promptMs),
              promptTokensPerSecond: round(pps),
              generateMs: round(genMs),
              tokensPerSecond: round(tps),
            },
          }) + "\n",
        );
      } else io.stdout("\n");
      io.stderr(
        `prompt ${res.promptTokens} tokens in ${promptMs.toFixed(0)} ms (${
          pps.toFixed(1)
        } tokens/s); generated ${res.completionTokens} tokens, ${
          res.completionTokens > 1 ? tps.toFixed(1) : "-"
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

const round = (x: number) => Math.round(x * 10) / 10;
