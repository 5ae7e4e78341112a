// The chat page: a conversation streamed from POST /v1/chat/completions (server-sent
// events), a stop button that aborts the request (the server cancels the generation when
// its client goes away), a system prompt, sampling settings, an optional context store
// (retrieval-augmented answers that list their sources) and markdown rendering. Settings are
// kept in localStorage, the API key only in sessionStorage.
import { renderMarkdown } from "./markdown.js";
import { readSse } from "./sse.js";

const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));

const NUMBER_FIELDS = [
  ["temperature", parseFloat],
  ["top_p", parseFloat],
  ["top_k", parseInt],
  ["min_p", parseFloat],
  ["repeat_penalty", parseFloat],
  ["max_tokens", parseInt],
  ["seed", parseInt],
];
const SAVED = ["system", "store", "k", ...NUMBER_FIELDS.map(([id]) => id)];

/** @type {{ role: string, content: string }[]} */
let history = [];
/** @type {AbortController | null} */
let running = null;

function status(text) {
  $("status").textContent = text;
}

function headers() {
  const h = { "content-type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h.authorization = `Bearer ${key}`;
  return h;
}

async function errorText(res) {
  const text = await res.text();
  try {
    const e = JSON.parse(text).error;
    return `${res.status}: ${e.message}${e.param ? ` (${e.param})` : ""}`;
  } catch {
    return `${res.status}: ${text}`;
  }
}

/** The request's sampling fields: only those set on the page. */
function sampling() {
  const out = {};
  for (const [id, parse] of NUMBER_FIELDS) {
    const raw = $(id).value.trim();
    if (raw === "") continue;
    const v = parse(raw);
    if (Number.isFinite(v)) out[id] = v;
  }
  return out;
}

function addMessage(role, text) {
  const el = document.createElement("article");
  el.className = `message ${role}`;
  const who = document.createElement("div");
  who.className = "role";
  who.textContent = role;
  const body = document.createElement("div");
  body.className = "body";
  if (role === "assistant") body.innerHTML = renderMarkdown(text);
  else body.textContent = text;
  const meta = document.createElement("div");
  meta.className = "meta";
  el.append(who, body, meta);
  $("chat").append(el);
  el.scrollIntoView({ block: "end" });
  return el;
}

function setBusy(busy) {
  $("send").disabled = busy;
  $("stop").disabled = !busy;
  document.body.classList.toggle("busy", busy);
}

function showSources(el, ctx) {
  if (!ctx || !ctx.sources.length) return;
  const list = document.createElement("ol");
  list.className = "sources";
  for (const s of ctx.sources) {
    const li = document.createElement("li");
    li.textContent = `${s.filename} (chunk ${s.chunk_id}, score ${s.score.toFixed(3)})`;
    list.append(li);
  }
  el.append(list);
}

async function send(text) {
  history.push({ role: "user", content: text });
  addMessage("user", text);
  const view = addMessage("assistant", "");
  const body = view.querySelector(".body");
  view.dataset.state = "streaming";
  const system = $("system").value.trim();
  const request = {
    messages: [...(system ? [{ role: "system", content: system }] : []), ...history],
    stream: true,
    stream_options: { include_usage: true },
    ...sampling(),
  };
  const store = $("store").value;
  if (store) {
    const k = parseInt($("k").value, 10);
    request.context = { store, ...(Number.isFinite(k) ? { k } : {}) };
  }
  running = new AbortController();
  setBusy(true);
  status("generating…");
  let answer = "";
  let finish = null;
  let usage = null;
  let ctx = null;
  let frame = 0;
  const t0 = performance.now();
  let first = 0;
  const paint = () => {
    frame = 0;
    body.innerHTML = renderMarkdown(answer);
    view.scrollIntoView({ block: "end" });
  };
  try {
    const res = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: headers(),
      body: JSON.stringify(request),
      signal: running.signal,
    });
    if (!res.ok) throw new Error(await errorText(res));
    for await (const ev of readSse(res.body)) {
      if (ev.error) throw new Error(ev.error.message);
      if (ev.context) ctx = ev.context;
      if (ev.usage) usage = ev.usage;
      const choice = ev.choices?.[0];
      if (choice?.finish_reason) finish = choice.finish_reason;
      const delta = choice?.delta?.content;
      if (delta) {
        if (!first) first = performance.now();
        answer += delta;
        if (!frame) frame = requestAnimationFrame(paint);
      }
    }
    view.dataset.state = "done";
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") {
      view.dataset.state = "stopped";
    } else {
      view.dataset.state = "error";
      const err = document.createElement("p");
      err.className = "error";
      err.textContent = String(e instanceof Error ? e.message : e);
      view.append(err);
    }
  } finally {
    if (frame) cancelAnimationFrame(frame);
    paint();
    running = null;
    setBusy(false);
  }
  if (answer) history.push({ role: "assistant", content: answer });
  const secs = first ? (performance.now() - first) / 1000 : 0;
  const n = usage?.completion_tokens;
  const parts = [
    view.dataset.state === "stopped" ? "stopped" : finish ?? "",
    n !== undefined ? `${n} tokens` : "",
    n && secs > 0 ? `${(n / secs).toFixed(1)} tokens/s` : "",
    first ? `first token ${((first - t0) / 1000).toFixed(2)} s` : "",
  ];
  view.querySelector(".meta").textContent = parts.filter((p) => p).join(" · ");
  showSources(view, ctx);
  status(view.dataset.state === "error" ? "error" : "");
}

async function loadModel() {
  for (;;) {
    const res = await fetch("/v1/models", { headers: headers() }).catch(() => null);
    if (res?.ok) {
      const m = (await res.json()).data[0];
      $("model").textContent = `${m.id} · ${m.meta.context_length} tokens of context`;
      status("");
      return;
    }
    if (res?.status === 401) {
      $("model").textContent = "API key needed";
      $("settings").hidden = false;
      $("toggle-settings").setAttribute("aria-expanded", "true");
      status("enter the server's API key in Settings");
      return;
    }
    status(res ? `model: ${await errorText(res)}` : "server unreachable");
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function loadStores() {
  const res = await fetch("/v1/vector_stores", { headers: headers() }).catch(() => null);
  if (!res?.ok) return; // served only with `serve --store`
  const select = $("store");
  const saved = localStorage.getItem("rocmforge.store") ?? "";
  for (const s of (await res.json()).data) {
    const opt = document.createElement("option");
    opt.value = s.id;
    opt.textContent = `${s.name} (${s.file_counts.total} files)`;
    select.append(opt);
  }
  select.value = saved;
  $("context-settings").hidden = false;
}

function restore() {
  for (const id of SAVED) {
    const v = localStorage.getItem(`rocmforge.${id}`);
    if (v !== null) $(id).value = v;
    $(id).addEventListener("change", () => localStorage.setItem(`rocmforge.${id}`, $(id).value));
  }
  $("api-key").value = sessionStorage.getItem("rocmforge.api-key") ?? "";
  $("api-key").addEventListener("change", () => {
    sessionStorage.setItem("rocmforge.api-key", $("api-key").value);
    loadModel();
    loadStores();
  });
}

function wire() {
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("input").value.trim();
    if (!text || running) return;
    $("input").value = "";
    send(text);
  });
  $("input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("stop").addEventListener("click", () => running?.abort());
  $("new-chat").addEventListener("click", () => {
    running?.abort();
    history = [];
    $("chat").replaceChildren();
    $("input").focus();
  });
  $("toggle-settings").addEventListener("click", () => {
    const open = $("settings").hidden;
    $("settings").hidden = !open;
    $("toggle-settings").setAttribute("aria-expanded", String(open));
  });
}

restore();
wire();
loadModel();
loadStores();
$("input").focus();
