/**
 * The README's main job: generate text. Uses the real stories260K model from ../shared when
 * it is there; otherwise makes a tiny random-weight model (scripts/make_synthetic_model.ts)
 * and says so, since its text is gibberish.
 *
 * usage: npm run generate [-- "PROMPT" [extra generate flags]]
 *
 * @module
 */
import { runCli } from "../src/cli/main.ts";
import { dirName, joinPath as join, makeDir, urlToPath } from "../src/runtime/fs_tree.ts";
import { args, exit, pathExists, writeStderr } from "../src/runtime/host.ts";

const root = join(dirName(urlToPath(import.meta.url)), "..");
const [prompt = "Once upon a time", ...extra] = args();
let model = join(root, "..", "shared", "models", "stories260K.gguf");
if (!pathExists(model)) {
  model = join(root, ".cache", "demo-tiny-random.gguf");
  if (!pathExists(model)) {
    makeDir(dirName(model));
    const { makeSyntheticModel } = await import("./make_synthetic_model.ts");
    await makeSyntheticModel({ shape: "tiny", type: "Q8_0", out: model, seed: 1 });
  }
  writeStderr(
    `note: ../shared is absent; using ${model} (RANDOM WEIGHTS: the text is gibberish)\n`,
  );
}
exit(await runCli(["generate", "-m", model, "-p", prompt, "-n", "64", "--temp", "0", ...extra]));
