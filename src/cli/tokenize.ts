/**
 * `tokenize -m MODEL [--add-special] [--parse-special]`: reads text from stdin and prints
 * the token ids space-separated on one line. Only the tokenizer metadata is read, so
 * vocab-only GGUFs work and no weights are loaded.
 *
 * @module
 */
import { plainMetadata } from "../gguf/gguf_file.ts";
import { openGGUF } from "../gguf/reader.ts";
import { readStdin } from "../runtime/host.ts";
import { tokenizerFromMetadata } from "../tokenizers/from_gguf.ts";
import { formatFlags, parseArgs, UsageError } from "./args.ts";
import { type Command, registerCommand } from "./command.ts";

const FLAGS = {
  model: {
    type: "string",
    short: "m",
    valueName: "MODEL",
    description: "GGUF model or vocab file",
  },
  "add-special": { type: "boolean", description: "add BOS/EOS as the model asks" },
  "parse-special": { type: "boolean", description: "turn special-token text into its id" },
} as const;

/** Tokenizes `text` with the tokenizer of the GGUF at `path`. */
export function tokenizeFile(
  path: string,
  text: string,
  opts: { addSpecial: boolean; parseSpecial: boolean },
): number[] {
  const file = openGGUF(path);
  try {
    return tokenizerFromMetadata(plainMetadata(file)).encode(text, opts);
  } finally {
    file.source.close();
  }
}

/** The tokenize command; `readInput` is injectable for tests. */
export function makeTokenizeCommand(readInput: () => Promise<string> = readStdin): Command {
  return {
    name: "tokenize",
    summary: "print the token ids of stdin's text",
    usage: `tokenize -m MODEL [--add-special] [--parse-special] < text\n${formatFlags(FLAGS)}`,
    async run(argv, io) {
      const { flags, positionals } = parseArgs(argv, FLAGS);
      if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
      if (!flags.model) throw new UsageError("missing -m MODEL");
      const text = await readInput();
      const ids = tokenizeFile(flags.model, text, {
        addSpecial: flags["add-special"],
        parseSpecial: flags["parse-special"],
      });
      io.stdout(ids.join(" ") + "\n");
      return 0;
    },
  };
}
registerCommand(makeTokenizeCommand());
