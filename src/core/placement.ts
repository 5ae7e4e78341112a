/**
 * Layer placement: decides which backend holds each layer (-1 = input embedding,
 * nLayers = output head) from the bytes each layer needs and the memory each backend has.
 * With backend "auto" a model that does not fit offloads as many layers as fit, from the
 * output end down, and the rest run on the CPU; an explicit backend that cannot hold the
 * whole model is an OutOfMemoryError.
 *
 * @module
 */
import type { Backend } from "./backend.ts";
import { OutOfMemoryError } from "./errors.ts";

/** Bytes one layer needs on a device: its weights plus its KV cache. */
export interface LayerCost {
  readonly layer: number;
  readonly bytes: number;
}

/** A backend that may hold layers, with the bytes it can give. */
export interface PlacementTarget {
  readonly backend: Backend;
  readonly freeBytes: number;
}

/** The margin kept free on a device: 10% of what is placed plus 100 MiB. */
export function safetyMargin(bytes: number): number {
  return Math.ceil(bytes * 0.1) + 100 * 1024 * 1024;
}

/** Result: the backend of each layer, keyed by layer index. */
export interface LayerPlacement {
  readonly byLayer: ReadonlyMap<number, Backend>;
  /** One line: "hip: layers 22–31, output (1.50 GiB) · cpu: input, layers 0–21". */
  readonly summary: string;
  /** Layers that could not be placed on a preferred device. */
  readonly fellBack: number;
}

/**
 * Places layers on `targets` in order (then `fallback`). `strict` turns any layer that does
 * not fit on the first target into an OutOfMemoryError.
 */
export function placeLayers(
  costs: readonly LayerCost[],
  targets: readonly PlacementTarget[],
  fallback: Backend,
  strict: boolean,
  nLayers: number = Math.max(0, ...costs.map((c) => c.layer)),
): LayerPlacement {
  const byLayer = new Map<number, Backend>();
  const remaining = [...costs].sort((a, b) => b.layer - a.layer); // output end first
  const parts: string[] = [];
  for (const t of targets) {
    let used = 0;
    const placed: number[] = [];
    while (remaining.length > 0) {
      const c = remaining[0];
      const need = used + c.bytes;
      if (need + safetyMargin(need) > t.freeBytes) break;
      used = need;
      placed.push(c.layer);
      byLayer.set(c.layer, t.backend);
      remaining.shift();
    }
    if (strict && remaining.length > 0) {
      const total = costs.reduce((s, c) => s + c.bytes, 0);
      throw new OutOfMemoryError(
        `model needs ${fmt(total + safetyMargin(total))} on ${t.backend.name} with margin, ` +
          `${fmt(t.freeBytes)} free`,
        { expected: total + safetyMargin(total), actual: t.freeBytes, bytes: total },
      );
    }
    if (placed.length) {
      parts.push(`${t.backend.name}: ${describeLayers(placed, nLayers)} (${fmt(used)})`);
    }
  }
  for (const c of remaining) byLayer.set(c.layer, fallback);
  if (remaining.length) {
    parts.push(`${fallback.name}: ${describeLayers(remaining.map((c) => c.layer), nLayers)}`);
  }
  return { byLayer, summary: parts.join(" · "), fellBack: targets.length ? remaining.length : 0 };
}

/**
 * Layers as text: -1 is "input" (the embedding), `nLayers` is "output" (final norm and
 * head), transformer layers in runs: "input, layers 0–3, 7, output".
 */
export function describeLayers(layers: readonly number[], nLayers: number): string {
  const blocks = [...new Set(layers)].filter((l) => l >= 0 && l < nLayers).sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < blocks.length;) {
    let j = i;
    while (j + 1 < blocks.length && blocks[j + 1] === blocks[j] + 1) j++;
    runs.push(i === j ? `${blocks[i]}` : `${blocks[i]}–${blocks[j]}`);
    i = j + 1;
  }
  const parts: string[] = [];
  if (layers.includes(-1)) parts.push("input");
  if (runs.length) parts.push(`${blocks.length === 1 ? "layer" : "layers"} ${runs.join(", ")}`);
  if (layers.includes(nLayers)) parts.push("output");
  return parts.join(", ");
}

/** Bytes as MiB/GiB text. */
export function fmt(bytes: number): string {
  return bytes >= 1 << 30
    ? `${(bytes / (1 << 30)).toFixed(2)} GiB`
    : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}
