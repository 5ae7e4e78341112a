/**
 * `chat -m MODEL [--system S] [--json-schema F | --grammar F] [--context NAME] [flags]`: an
 * interactive conversation on stdin/stdout (see chat_repl.ts for the loop and its
 * commands), with the sampling flags of `generate`; every answer follows the schema or
 * grammar when one is given. Works through a pipe too (one line per turn, no prompt shown).
 *
 * @module
 */
import { ChatSession } from "../chat/chat_session.ts";
import { Session } from "../core/session.ts";
import { writeFile } from "../runtime/host.ts";
import { stdinLineReader } from "../runtime/line_reader.ts";
import { formatFlags, parseArgs, UsageError } from "./args.ts";
import { type Command, registerCommand } from "./command.ts";
import { CONTEXT_FLAGS, openRetrieval, type Retrieval } from "./chat_context.ts";
import { CONSTRAINT_FLAGS, constraintFromFlags, modelChatTemplate } from "./chat_flags.ts";
import { chatRepl } from "./chat_repl.ts";
import { checkSampling, SAMPLING_FLAGS, samplingFromFlags } from "./generate.ts";
import { checkModelFlags, loadFromFlags, MODEL_FLAGS } from "./_load.ts";

const FLAGS = {
  ...MODEL_FLAGS,
  system: { type: "string", valueName: "TEXT", description: "system prompt" },
  "n-predict": {
    type: "integer",
    short: "n",
    aliases: ["--max-tokens"],
    default: 1024,
    valueName: "N",
    description: "most tokens per answer",
  },
  ...SAMPLING_FLAGS,
  ...CONSTRAINT_FLAGS,
  ...CONTEXT_FLAGS,
} as const;

/** The chat command. */
export const chatCommand: Command = {
  name: "chat",
  summary: "interactive chat with a model (/reset, /system, /save; Ctrl-C stops an answer)",
  usage: `chat -m MODEL [--system TEXT] [--json-schema FILE | --grammar FILE] [flags]\n${
    formatFlags(FLAGS)
  }`,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    checkModelFlags(flags);
    if (flags["n-predict"] < 1) {
      throw new UsageError("-n must be >= 1", { actual: flags["n-predict"] });
    }
    const sampling = samplingFromFlags(flags);
    checkSampling(sampling);
    const constraint = constraintFromFlags(flags);
    if (flags.context === undefined) {
      for (const k of ["context-k", "store"] as const) {
        if (flags[k] !== undefined) throw new UsageError(`--${k} needs --context NAME`);
      }
    }
    const model = await loadFromFlags(flags, io);
    const session = new Session(model);
    let retrieval: Retrieval | undefined;
    const reader = stdinLineReader();
    try {
      if (flags.context !== undefined) {
        retrieval = await openRetrieval(
          flags.context,
          { store: flags.store, k: flags["context-k"], backend: flags.backend },
          io,
        );
      }
      const chat = new ChatSession(session, {
        systemPrompt: flags.system,
        template: modelChatTemplate(model),
      });
      if (io.tty?.stdin) io.stderr("[chat: /help for commands, Ctrl-C stops an answer]\n");
      return await chatRepl({
        chat,
        reader,
        io,
        turn: {
          sampling,
          maxTokens: flags["n-predict"],
          ...(constraint ? { responseFormat: constraint.format } : {}),
        },
        ...(retrieval ? { augment: retrieval.augment } : {}),
        save: (path, text) => writeFile(path, text),
      });
    } finally {
      reader.close();
      await retrieval?.close();
      session.dispose();
      model.dispose();
    }
  },
};
registerCommand(chatCommand);
