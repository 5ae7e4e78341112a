/**
 * Process lifecycle: SIGTERM sent to the `deno task cli serve` wrapper, or a wrapper killed
 * outright (as `npx` can be), leaves no server process behind: the server stops on the
 * forwarded signal or when it notices that its parent went away.
 */
import { test } from "./harness.ts";
import { assert } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { MODEL_PATH, waitFor } from "./_server_util.ts";

const IS_DENO = "Deno" in globalThis;
const skip = IS_DENO
  ? { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON }
  : { ignore: true, reason: "the CLI runs from TypeScript sources under Deno only" };

const ROOT = new URL("..", import.meta.url).pathname;

function alive(pid: number, kill: (pid: number, sig: number) => void): boolean {
  try {
    kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function wrapperCase(
  argv: (deno: string, serve: string[]) => string[],
  stop: (wrapperPid: number, kill: (pid: number, sig: string | number) => void) => void,
) {
  const { spawn } = await import("node:child_process");
  const { default: process } = await import("node:process");
  const serve = ["serve", "-m", MODEL_PATH, "--port", "0", "--backend", "cpu"];
  const [cmd, ...args] = argv(process.execPath, serve);
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => err += d);
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  let serverPid = 0;
  try {
    await waitFor(`the server to start: ${err}`, () => /ready: /.test(err), 30000);
    serverPid = Number(/\(pid (\d+);/.exec(err)![1]);
    assert(serverPid !== child.pid, "the server runs in a child of the wrapper");
    stop(child.pid!, (p, s) => process.kill(p, s));
    await exited;
    await waitFor(
      `server pid ${serverPid} to exit after its wrapper: ${err}`,
      () => !alive(serverPid, (p, s) => process.kill(p, s)),
      10000,
    );
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    if (serverPid && alive(serverPid, (p, s) => process.kill(p, s))) {
      process.kill(serverPid, "SIGKILL");
    }
  }
}

test("lifecycle: SIGTERM to `deno task cli serve` leaves no server behind", async () => {
  await wrapperCase(
    (deno, serve) => [deno, "task", "-q", "cli", ...serve],
    (pid, kill) => kill(pid, "SIGTERM"),
  );
}, skip);

test("lifecycle: a wrapper killed with SIGKILL leaves no server behind", async () => {
  await wrapperCase(
    (deno, serve) => [
      "sh",
      "-c",
      `'${deno}' run -A src/cli/main.ts ${serve.map((a) => `'${a}'`).join(" ")}; exit $?`,
    ],
    (pid, kill) => kill(pid, "SIGKILL"),
  );
}, skip);
