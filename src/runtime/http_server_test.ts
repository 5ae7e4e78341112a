import { test } from "../../tests/harness.ts";
import { assert, assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { RUNTIME } from "./host.ts";
import { serveHttp } from "./http_server.ts";

const impls = RUNTIME === "deno" ? (["deno", "node"] as const) : (["node"] as const);

function waitFor(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

for (const impl of impls) {
  test(`http_server (${impl}): methods, headers, body, status`, async () => {
    const server = await serveHttp(async (req) => {
      const body = req.method === "POST" ? await req.text() : "";
      return new Response(
        JSON.stringify({ m: req.method, path: new URL(req.url).pathname, body }),
        {
          status: req.method === "POST" ? 201 : 200,
          headers: {
            "content-type": "application/json",
            "x-auth": req.headers.get("x-auth") ?? "",
          },
        },
      );
    }, { port: 0, impl });
    try {
      assert(server.port > 0);
      const r1 = await fetch(`${server.url}/a/b?q=1`, { headers: { "x-auth": "k" } });
      assertStrictEquals(r1.status, 200);
      assertStrictEquals(r1.headers.get("x-auth"), "k");
      assertEquals(await r1.json(), { m: "GET", path: "/a/b", body: "" });
      const big = "x".repeat(200_000);
      const r2 = await fetch(`${server.url}/p`, { method: "POST", body: big });
      assertStrictEquals(r2.status, 201);
      assertEquals(await r2.json(), { m: "POST", path: "/p", body: big });
    } finally {
      await server.close();
    }
  });

  test(`http_server (${impl}): client disconnect aborts the signal and cancels the body`, async () => {
    let aborted = false;
    let cancelled = false;
    let sent = 0;
    const server = await serveHttp((req) => {
      req.signal.addEventListener("abort", () => aborted = true);
      let timer: ReturnType<typeof setInterval> | undefined;
      const body = new ReadableStream<Uint8Array>({
        start(ctrl) {
          timer = setInterval(() => {
            try {
              ctrl.enqueue(new TextEncoder().encode(`data: ${sent++}\n\n`));
            } catch {
              clearInterval(timer);
            }
          }, 5);
        },
        cancel() {
          cancelled = true;
          clearInterval(timer);
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }, { port: 0, impl });
    try {
      const ac = new AbortController();
      const res = await fetch(`${server.url}/stream`, { signal: ac.signal });
      const reader = res.body!.getReader();
      const first = await reader.read();
      assert(!first.done && first.value.byteLength > 0);
      ac.abort();
      await reader.cancel().catch(() => {});
      await waitFor("request signal abort", () => aborted);
      await waitFor("body cancel", () => cancelled);
      const at = sent;
      await new Promise((r) => setTimeout(r, 50));
      assert(sent - at <= 1, `stream kept producing after cancel (${at} -> ${sent})`);
    } finally {
      await server.close();
    }
  });
}

for (const impl of impls) {
  test(`http_server (${impl}): disconnect before the response aborts a waiting handler`, async () => {
    let aborted = false;
    let entered = false;
    const server = await serveHttp(async (req) => {
      entered = true;
      await new Promise<void>((resolve) => {
        if (req.signal.aborted) resolve();
        req.signal.addEventListener("abort", () => resolve(), { once: true });
        setTimeout(resolve, 3000);
      });
      aborted = req.signal.aborted;
      return new Response("late");
    }, { port: 0, impl });
    try {
      const ac = new AbortController();
      const p = fetch(`${server.url}/slow`, { method: "POST", body: "{}", signal: ac.signal });
      await waitFor("handler entry", () => entered);
      ac.abort();
      await p.catch(() => {});
      await waitFor("handler abort", () => aborted, 2000);
    } finally {
      await server.close();
    }
  });
}
