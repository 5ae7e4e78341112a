/**
 * Starts one of the benchmarks' llama.cpp helpers (a Node script driving node-llama-cpp, from
 * ../shared/ref/setup.sh) and waits for its "ready" line.
 *
 * @module
 */
import { type LineProcess, startLineProcess } from "../src/runtime/line_process.ts";

/** The helper `script` (beside this file) with `args`, once it said "ready". */
export async function startLlamacppNode(
  script: string,
  args: readonly string[],
): Promise<LineProcess> {
  const path = new URL(script, import.meta.url).pathname;
  const p = startLineProcess("node", [path, ...args]);
  try {
    const ready = await p.readLine();
    if (ready !== "ready") throw new Error(`llama.cpp said ${ready}`);
  } catch (e) {
    await p.close();
    throw new Error(
      `llama.cpp did not start; run ../shared/ref/setup.sh first? ${(e as Error).message}`,
    );
  }
  return p;
}
