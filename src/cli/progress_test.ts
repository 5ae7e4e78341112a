import { assert, assertEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import type { CommandIO } from "./command.ts";
import { ProgressView } from "./progress.ts";

function capture(tty: boolean): { io: CommandIO; text: () => string } {
  let err = "";
  return {
    io: {
      stdout: () => {},
      stderr: (t) => void (err += t),
      tty: { stdin: false, stdout: false, stderr: tty },
    },
    text: () => err,
  };
}

test("progress: plain lines once per phase and backend when stderr is not a terminal", () => {
  const c = capture(false);
  const v = new ProgressView(c.io, "load");
  v.update({ phase: "parse", unit: "bytes", loaded: 10, total: 10 });
  v.update({ phase: "place", unit: "layers", loaded: 4, total: 4 });
  for (const b of ["hip", "cpu"]) {
    for (let i = 1; i <= 3; i++) {
      v.update({ phase: "weights", loaded: i * 1024, total: 3072, backend: b });
    }
  }
  v.update({ phase: "done", loaded: 3072, total: 3072 });
  v.done();
  assertEquals(
    c.text(),
    "load: parse (10 B)\nload: place (4 layers)\nload: weights on hip (3.00 KiB)\n" +
      "load: weights on cpu (3.00 KiB)\n",
  );
});

test("progress: a bar redrawn in place on a terminal, cleared at the end", () => {
  const c = capture(true);
  const v = new ProgressView(c.io, "pull", 10);
  v.update({ phase: "download", loaded: 512, total: 1024 });
  v.update({ phase: "download", loaded: 1024, total: 1024 });
  v.done();
  const clear = "\r\x1b[2K";
  const t = c.text();
  assert(t.startsWith(`${clear}pull [#####-----]  50% download 512 B / 1.00 KiB`), t);
  assert(t.endsWith(`${clear}pull [##########] 100% download 1.00 KiB / 1.00 KiB${clear}`), t);
});
