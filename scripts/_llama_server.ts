/**
 * llama.cpp's own HTTP server (llama-server), started for a side-by-side run of
 * scripts/bench_server.ts: the same model, as many slots (`-np`) as the largest stream count,
 * every layer on the GPU (`-ngl 99`) with flash attention, each slot's context sized for its
 * stream. The bench then sends it the same streaming /v1/completions requests it sends ours.
 *
 * @module
 */
import { now } from "../src/runtime/host.ts";
import { type ServiceProcess, startService } from "../src/runtime/service_process.ts";

/** A running llama-server. */
export interface LlamaServer {
  readonly url: string;
  stop(): Promise<number>;
}

/** Options of startLlamaServer. */
export interface LlamaServerOptions {
  readonly bin: string;
  readonly model: string;
  readonly parallel: number;
  /** Tokens each slot must hold (prompt + generated + slack). */
  readonly slotTokens: number;
  readonly port: number;
  /** CPU threads (`-t`), when set. */
  readonly threads?: number;
  /** How long to wait for /health to answer 200 (default 300 s: a 7B upload). */
  readonly readyMs?: number;
}

/** Starts llama-server and resolves once its /health answers 200. */
export async function startLlamaServer(o: LlamaServerOptions): Promise<LlamaServer> {
  const url = `http://127.0.0.1:${o.port}`;
  const args = [
    "-m",
    o.model,
    "--host",
    "127.0.0.1",
    "--port",
    String(o.port),
    "-np",
    String(o.parallel),
    "-c",
    String(o.parallel * o.slotTokens),
    "-ngl",
    "99",
    "-fa",
    "on",
    "--no-webui",
    ...(o.threads ? ["-t", String(o.threads)] : []),
  ];
  const p = startService(o.bin, args);
  await waitReady(p, url, o.readyMs ?? 300_000);
  return { url, stop: () => p.stop() };
}

async function waitReady(p: ServiceProcess, url: string, readyMs: number): Promise<void> {
  const t0 = now();
  let ended = false;
  p.exited.then(() => ended = true);
  while (now() - t0 < readyMs) {
    if (ended) throw new Error(`llama-server exited before it was ready:\n${p.output()}`);
    try {
      const res = await fetch(`${url}/health`);
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await p.stop();
  throw new Error(`llama-server not ready after ${readyMs} ms:\n${p.output()}`);
}
