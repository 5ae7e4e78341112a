/**
 * The web chat page in headless Chromium (Debian's `chromium`, driven by playwright-core):
 * the page loads its files and libraries from the server only, sends the system prompt and
 * sampling settings, renders the streamed answer while it arrives (the server's event stream
 * is slowed down in front of the app so the test can watch it), and the stop button aborts
 * the request, which cancels the server's stream; an answer from a context store lists its
 * sources. Markdown is rendered and sanitized.
 * Skips with one line when chromium is absent (ROCMFORGE_CHROMIUM overrides the path). Without
 * a browser: every page file is served without the API key, with its type and CSP.
 *
 * @module
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { chromium } from "playwright-core";
import { serveHttp } from "../src/runtime/http_server.ts";
import { createApp } from "../src/server/app.ts";
import { Engine } from "../src/server/engine.ts";
import { WEB_CSP } from "../src/server/routes_web.ts";
import { WEB_FILES, WEB_LIBRARIES } from "../src/server/web/assets.ts";
import { assert, assertEquals } from "./assert.ts";
import { join } from "./_path.ts";
import { testModel } from "./_server_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { tempStoreDir } from "./context_helpers.ts";
import { ContextStore } from "../src/context/store.ts";
import { registerVectorStores } from "../src/server/routes_vector_stores.ts";
import { test } from "./harness.ts";

const CHROMIUM = process.env.ROCMFORGE_CHROMIUM ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** Delay per event-stream chunk between the app and the browser (a slow link). */
const CHUNK_DELAY_MS = 80;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test("web chat page: type a message, see the streamed answer, press stop", async () => {
  const engine = new Engine({});
  engine.attach(await testModel());
  const app = createApp({ engine });
  const storeDir = tempStoreDir();
  const store = await ContextStore.open(storeDir.db);
  registerVectorStores(app, engine, store);
  await app.fetch(
    new Request("http://x/v1/vector_stores", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "kb" }),
    }),
  );
  await app.fetch(
    new Request("http://x/v1/vector_stores/kb/files", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ filename: "space.txt", content: "The rocket flew to the moon." }),
    }),
  );
  let cancelled = 0;
  const slowed = async (req: Request): Promise<Response> => {
    const res = await app.fetch(req);
    if (!res.body || !res.headers.get("content-type")?.startsWith("text/event-stream")) return res;
    const reader = res.body.getReader();
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(ctrl) {
          const { value, done } = await reader.read();
          if (done) return ctrl.close();
          await sleep(CHUNK_DELAY_MS);
          ctrl.enqueue(value);
        },
        cancel(reason) {
          cancelled++;
          return reader.cancel(reason);
        },
      }),
      { status: res.status, headers: res.headers },
    );
  };
  const server = await serveHttp(slowed, { hostname: "127.0.0.1", port: 0 });
  const profile = mkdtempSync(join(tmpdir(), "rocmforge-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  try {
    const page = browser.pages()[0] ?? await browser.newPage();
    const requests: string[] = [];
    const bodies: unknown[] = [];
    page.on("request", (r) => {
      requests.push(r.url());
      if (r.url().endsWith("/v1/chat/completions")) bodies.push(r.postDataJSON());
    });
    const origin = server.url.replace(/\/$/, "");
    await page.goto(`${origin}/`);
    await page.locator("#model", { hasText: "stories260K" }).waitFor();

    await page.click("#toggle-settings");
    await page.fill("#system", "You tell stories.");
    await page.fill("#temperature", "0.7");
    await page.fill("#seed", "42");
    await page.fill("#max_tokens", "400");
    await page.fill("#input", "Once upon a time");
    await page.press("#input", "Enter");

    const body = ".message.assistant .body";
    const first = await until("streamed text", async () => {
      const t = await page.textContent(body);
      return t && t.length > 0 ? t : undefined;
    });
    const later = await until("more streamed text", async () => {
      const t = (await page.textContent(body)) ?? "";
      return t.length > first.length ? t : undefined;
    });
    assert(later.startsWith(first.trim().slice(0, 3)), "the answer grows as it streams");
    assertEquals(await page.getAttribute(".message.assistant", "data-state"), "streaming");
    assertEquals([await page.isEnabled("#stop"), await page.isEnabled("#send")], [true, false]);

    await page.click("#stop");
    await page.waitForSelector('.message.assistant[data-state="stopped"]');
    const stopped = (await page.textContent(body)) ?? "";
    await sleep(4 * CHUNK_DELAY_MS);
    assertEquals(await page.textContent(body), stopped, "nothing arrives after stop");
    assertEquals([await page.isEnabled("#stop"), await page.isEnabled("#send")], [false, true]);
    assert((await page.textContent(".message.assistant .meta"))?.startsWith("stopped"));
    await until("the server's stream cancelled", () => Promise.resolve(cancelled ? 1 : undefined));

    const sent = bodies[0] as {
      messages: { role: string; content: string }[];
      stream: boolean;
      seed: number;
      temperature: number;
      max_tokens: number;
    };
    assertEquals(sent.messages, [
      { role: "system", content: "You tell stories." },
      { role: "user", content: "Once upon a time" },
    ]);
    assertEquals([sent.stream, sent.seed, sent.temperature, sent.max_tokens], [true, 42, 0.7, 400]);

    // An answer from the context store lists its sources.
    await page.selectOption("#store", "kb");
    await page.fill("#max_tokens", "3");
    await page.fill("#input", "Where did the rocket fly?");
    await page.press("#input", "Enter");
    await page.waitForSelector('.message.assistant[data-state="done"]');
    assert((await page.textContent(".message.assistant .sources"))?.includes("space.txt"));
    const rag = bodies[1] as { context: { store: string } };
    assertEquals(rag.context.store, "kb");
    assert(requests.every((u) => u.startsWith(origin)), `only this server: ${requests}`);

    const md = "**bold** and `code`\n\n<img src=x onerror=alert(1)> [a](javascript:alert(1))";
    const html: string = await page.evaluate(
      `import("/web/markdown.js").then((m) => m.renderMarkdown(${JSON.stringify(md)}))`,
    );
    assert(html.includes("<strong>bold</strong>") && html.includes("<code>code</code>"), html);
    assert(!html.includes("onerror") && !html.includes("javascript:"), `sanitized: ${html}`);
  } finally {
    await browser.close();
    await store.close();
    storeDir.cleanup();
    rmSync(profile, { recursive: true, force: true });
    const closing = server.close();
    await engine.shutdown({ graceMs: 0, disposeModel: false });
    await closing;
  }
}, {
  ignore: !HAVE_CHROMIUM || !HAVE_SHARED,
  reason: HAVE_CHROMIUM ? NO_SHARED_REASON : `chromium not found at ${CHROMIUM}`,
});

test("web page files: served without the API key, with a same-origin CSP; the API still needs it", async () => {
  const app = createApp({ engine: new Engine({ apiKey: "sekrit" }) });
  const get = (path: string) => app.fetch(new Request(`http://x${path}`));
  for (const f of WEB_FILES) {
    const res = await get(f.route);
    assertEquals([res.status, res.headers.get("content-type")], [200, f.type], f.route);
    assertEquals(res.headers.get("content-security-policy"), WEB_CSP);
    assertEquals(new Uint8Array(await res.arrayBuffer()).length > 0, true);
  }
  for (const l of WEB_LIBRARIES) {
    const res = await get(l.route);
    assertEquals(res.status, 200, l.route);
    assert((await res.text()).includes("export"), `${l.route} is an ES module`);
  }
  const page = await (await get("/")).text();
  assert(!/https?:\/\//.test(page.replace(/<!doctype[^>]*>/i, "")), "the page links no other site");
  assertEquals((await get("/v1/models")).status, 401);
  assertEquals((await get("/web/other.js")).status, 401, "only the listed files are public");
  assertEquals((await app.fetch(new Request("http://x/", { method: "POST" }))).status, 405);
});
