/**
 * `score -m MODEL --tokens "ID ID ..." [--top K]`: teacher-forced scoring. Prints one JSON
 * line per position i >= 1: the token, its log-probability, and the top-K `[id, logprob]`
 * of the distribution that predicts token i.
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";
import { logSumExp, topLogprobs } from "../core/logprobs.ts";
import { Session } from "../core/session.ts";
import { formatFlags, parseArgs, UsageError } from "./args.ts";
import { type Command, registerCommand } from "./command.ts";
import { loadFromFlags, MODEL_FLAGS } from "./_load.ts";

const FLAGS = {
  ...MODEL_FLAGS,
  tokens: { type: "string", valueName: "IDS", description: "space-separated token ids" },
  top: { type: "integer", default: 8, valueName: "K", description: "alternatives per position" },
} as const;

/** Parses "1 2 3" into ids; anything else is a usage error. */
export function parseTokenList(s: string): number[] {
  const parts = s.trim().split(/[\s,]+/).filter(Boolean);
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`--tokens: "${p}" is not a token id`, { actual: p });
    return Number(p);
  });
}

/** The score command. */
export const scoreCommand: Command = {
  name: "score",
  summary: "teacher-forced log-probabilities of a token sequence (JSON lines)",
  usage: `score -m MODEL --tokens "ID ID ..." [--top K]\n${formatFlags(FLAGS)}`,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    if (flags.tokens === undefined) throw new UsageError('missing --tokens "ID ID ..."');
    const ids = parseTokenList(flags.tokens);
    if (ids.length < 2) {
      throw new UsageError("--tokens needs at least 2 ids", { actual: ids.length });
    }
    if (flags.top < 0) throw new UsageError("--top must be >= 0", { actual: flags.top });
    const model = await loadFromFlags({ ...flags, ctx: flags.ctx ?? Math.max(ids.length, 1) }, io);
    const session = new Session(model, {
      contextLength: Math.max(ids.length, model.contextLength),
    });
    try {
      const vocab = model.config.vocabSize;
      // The last id is only a target (never evaluated), so check every id here.
      const bad = ids.find((id) => id >= vocab);
      if (bad !== undefined) {
        throw new InvalidArgumentError(`token id ${bad} is outside the vocabulary`, {
          expected: `0..${vocab - 1}`,
          actual: bad,
        });
      }
      const logits = await session.eval(ids.slice(0, -1), "all");
      for (let i = 1; i < ids.length; i++) {
        const row = logits.subarray((i - 1) * vocab, i * vocab);
        const lse = logSumExp(row);
        const lp = row[ids[i]] - lse;
        const top = topLogprobs(row, flags.top, lse);
        io.stdout(JSON.stringify({ pos: i, token: ids[i], logprob: lp, top }) + "\n");
      }
      return 0;
    } finally {
      session.dispose();
      model.dispose();
    }
  },
};
registerCommand(scoreCommand);
