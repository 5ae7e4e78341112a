/**
 * Kernel parameters: every kernel reads a uniform struct of 4-byte scalars declared once as
 * a field list; the WGSL struct and the host's packing both come from that list, so their
 * layouts cannot drift apart.
 *
 * @module
 */

/** A kernel's parameter fields, in order: name -> scalar type. */
export type ParamFields = readonly (readonly [string, "u32" | "f32"])[];

/** A generated kernel: its WGSL and its parameter fields. */
export interface KernelSource {
  readonly code: string;
  readonly fields: ParamFields;
  /** Invocations per workgroup. */
  readonly wg: number;
}

/** Bytes each dispatch's parameter block takes in the uniform buffer (offset alignment). */
export const PARAM_SLOT = 256;

/** WGSL `struct P { ... }` and the binding `p` of it at `binding`. */
export function paramStruct(fields: ParamFields, binding: number): string {
  const body = fields.map(([n, t]) => `  ${n}: ${t},`).join("\n");
  return `struct P {\n${body}\n}\n@group(0) @binding(${binding}) var<uniform> p: P;\n`;
}

/** Packs `values` (by field name) into a parameter block. Throws for a missing field. */
export function packParams(
  fields: ParamFields,
  values: Readonly<Record<string, number>>,
): Uint8Array {
  const out = new Uint8Array(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(out.buffer);
  fields.forEach(([name, type], i) => {
    const v = values[name];
    if (v === undefined) throw new Error(`kernel parameter ${name} missing`);
    if (type === "u32") view.setUint32(i * 4, v, true);
    else view.setFloat32(i * 4, v, true);
  });
  return out;
}

/** A 1-D launch of `threads` invocations in workgroups of `wg`, folded into x and y. */
export function grid1d(threads: number, wg: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / wg));
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x), 1];
}

/** WGSL: the flat invocation index of a grid1d launch (needs `wid`, `lid`, `nwg`). */
export const FLAT_INDEX = `(wid.y * nwg.x + wid.x) * WG + lid.x`;
