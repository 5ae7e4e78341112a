/**
 * Greedy decoding that never waits on the host between tokens: each step's pass ends with an
 * argmax kernel that writes the chosen token into the next step's embedding input and
 * advances the position in the device's state buffer; `stepsPerSubmit` passes go into one
 * command buffer, and the picked tokens come back in one readback at the end. A round trip
 * through `mapAsync` costs ~11 ms in Deno (issue 20), so a readback per token would cap decode
 * near 90 tokens/s whatever the kernels do.
 *
 * The caller checks stop conditions on the returned tokens afterwards (the steps after an
 * end-of-generation token are wasted work, not wrong output: the cache beyond it is simply
 * overwritten by the next evaluation).
 *
 * @module
 */
import type { GreedyDecodeRequest } from "../../core/backend.ts";
import { BackendError, InvalidArgumentError } from "../../core/errors.ts";
import type { WebGpuContext } from "./context.ts";
import { MAX_DECODE_STEPS } from "./program.ts";

/** The request type lives in the backend contract (BackendContext.decodeGreedy). */
export type { GreedyDecodeRequest };

/** Runs `req.steps` greedy steps on the device; returns the picked tokens. */
export function decodeGreedy(ctx: WebGpuContext, req: GreedyDecodeRequest): Promise<Int32Array> {
  const { graph, steps, pos0 } = req;
  const per = req.stepsPerSubmit ?? 32;
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_DECODE_STEPS) {
    return Promise.reject(
      new InvalidArgumentError(`steps must be an integer in 1..${MAX_DECODE_STEPS}`, {
        field: "steps",
        actual: steps,
      }),
    );
  }
  if (!Number.isInteger(per) || per < 1) {
    return Promise.reject(
      new InvalidArgumentError("stepsPerSubmit must be a positive integer", {
        field: "stepsPerSubmit",
        actual: per,
      }),
    );
  }
  if (graph.nTokens !== 1) {
    return Promise.reject(
      new InvalidArgumentError("greedy decode runs a one-token graph", {
        expected: 1,
        actual: graph.nTokens,
      }),
    );
  }
  if (pos0 + steps > req.kv.spec.capacity) {
    return Promise.reject(
      new BackendError("BACKEND_CALL_FAILED", "KV cache overflow", {
        expected: req.kv.spec.capacity,
        actual: pos0 + steps,
      }),
    );
  }
  const nodes = graph.nodes.map((_, i) => i);
  const tokens = new Int32Array([req.token]);
  return ctx.serial(async () => {
    const p = await ctx.prepare(graph, nodes, [], req.kv, pos0, true, steps);
    ctx.checkTokens(graph, nodes, tokens);
    const picked = p.picked!;
    return await ctx.scoped(async () => {
      const dev = ctx.dev;
      dev.write(p.state, 0, new Uint32Array([pos0, 0, 0, 0]));
      dev.write(p.tokens, 0, tokens);
      for (let s = 0; s < steps; s += per) {
        const enc = dev.device.createCommandEncoder();
        const n = Math.min(per, steps - s);
        for (let k = 0; k < n; k++) p.encodePass(enc);
        if (s + n === steps) enc.copyBufferToBuffer(picked.buffer, 0, picked.staging, 0, steps * 4);
        dev.device.queue.submit([enc.finish()]);
      }
      const bytes = await p.read(picked.staging);
      return new Int32Array(bytes, 0, steps);
    });
  });
}
