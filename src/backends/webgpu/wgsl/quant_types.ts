/**
 * The weight types the WebGPU kernels read, each described once: its block (from the ggml
 * type table), the chunk of elements one decode step yields, and a WGSL body that decodes
 * chunk `sub` of the block at byte `o` into `v`. The matmul, embedding and norm kernels are
 * generated from one template each around `wgslDecoder(type)`; nothing is written per type
 * besides the decode body, which is the type's format.
 *
 * Q4_1 and Q5_1 decode without their per-block offset m (`hasMin`): the product adds
 * m * s, where s is the activation block's float16 sum of llama.cpp's Q8_1 format, so the
 * offsets round as on the CPU.
 *
 * @module
 */
import { GGMLType, typeTraits } from "../../../gguf/ggml_types.ts";
import { WGSL_LOADS } from "./common.ts";

/** How one weight type decodes. */
export interface WgslType {
  readonly type: GGMLType;
  /** Elements decoded per step (a divisor of the block). */
  readonly chunk: number;
  /** WGSL statements: decode chunk `sub` of the block at byte `o` into `v` (ptr to array). */
  readonly body: string;
  /** WGSL expression of the block's offset m at byte `o` (types whose product adds m * s). */
  readonly min?: string;
}

const nib = (
  v: string,
) =>
  /* wgsl */ `for (var i = 0u; i < 4u; i++) {
    let q = ld32(o + QS + 4u * i);
    for (var j = 0u; j < 4u; j++) {
      let by = (q >> (8u * j)) & 0xffu;
      ${v}
    }
  }`;

const TYPES: readonly WgslType[] = [
  {
    type: GGMLType.F32,
    chunk: 1,
    body: `(*v)[0] = bitcast<f32>(w[o >> 2u]);`,
  },
  { type: GGMLType.F16, chunk: 1, body: `(*v)[0] = ldh(o);` },
  {
    type: GGMLType.Q4_0,
    chunk: 32,
    body: `let d = ldh(o); const QS = 2u;
  ${
      nib(`(*v)[4u * i + j] = d * (f32(by & 15u) - 8.0);
      (*v)[4u * i + j + 16u] = d * (f32(by >> 4u) - 8.0);`)
    }`,
  },
  {
    type: GGMLType.Q4_1,
    chunk: 32,
    body: `let d = ldh(o); const QS = 4u;
  ${
      nib(`(*v)[4u * i + j] = d * f32(by & 15u);
      (*v)[4u * i + j + 16u] = d * f32(by >> 4u);`)
    }`,
    min: `ldh(o + 2u)`,
  },
  {
    type: GGMLType.Q5_0,
    chunk: 32,
    body: `let d = ldh(o); let qh = ld32(o + 2u); const QS = 6u;
  ${
      nib(`let e = 4u * i + j;
      (*v)[e] = d * (f32((by & 15u) | (((qh >> e) & 1u) << 4u)) - 16.0);
      (*v)[e + 16u] = d * (f32((by >> 4u) | (((qh >> (e + 16u)) & 1u) << 4u)) - 16.0);`)
    }`,
  },
  {
    type: GGMLType.Q5_1,
    chunk: 32,
    body: `let d = ldh(o); let qh = ld32(o + 4u); const QS = 8u;
  ${
      nib(`let e = 4u * i + j;
      (*v)[e] = d * f32((by & 15u) | (((qh >> e) & 1u) << 4u));
      (*v)[e + 16u] = d * f32((by >> 4u) | (((qh >> (e + 16u)) & 1u) << 4u));`)
    }`,
    min: `ldh(o + 2u)`,
  },
  {
    type: GGMLType.Q8_0,
    chunk: 32,
    body: `let d = ldh(o);
  for (var i = 0u; i < 8u; i++) {
    let q = ld32(o + 2u + 4u * i);
    for (var j = 0u; j < 4u; j++) { (*v)[4u * i + j] = d * f32(i32(q << (24u - 8u * j)) >> 24u); }
  }`,
  },
  {
    // Sub-block sub of 8: scale/min pair sub, nibble half (sub & 1) of qs[32 * (sub / 2) ..].
    type: GGMLType.Q4_K,
    chunk: 32,
    body: `let sm = kscale(o + 4u, sub);
  let d1 = ldh(o) * f32(sm & 63u); let m1 = ldh(o + 2u) * f32(sm >> 8u);
  let q0 = o + 16u + 32u * (sub >> 1u); let sh = (sub & 1u) * 4u;
  for (var i = 0u; i < 8u; i++) {
    let q = ld32(q0 + 4u * i);
    for (var j = 0u; j < 4u; j++) { (*v)[4u * i + j] = d1 * f32((q >> (8u * j + sh)) & 15u) - m1; }
  }`,
  },
  {
    type: GGMLType.Q5_K,
    chunk: 32,
    body: `let sm = kscale(o + 4u, sub);
  let d1 = ldh(o) * f32(sm & 63u); let m1 = ldh(o + 2u) * f32(sm >> 8u);
  let q0 = o + 48u + 32u * (sub >> 1u); let sh = (sub & 1u) * 4u;
  for (var i = 0u; i < 8u; i++) {
    let q = ld32(q0 + 4u * i); let h = ld32(o + 16u + 4u * i);
    for (var j = 0u; j < 4u; j++) {
      let hi = ((h >> (8u * j + sub)) & 1u) << 4u;
      (*v)[4u * i + j] = d1 * f32(((q >> (8u * j + sh)) & 15u) | hi) - m1;
    }
  }`,
  },
  {
    // Chunk sub of 8: half sub / 4 of the block, quarter k = sub % 4 (llama.cpp's q1..q4).
    type: GGMLType.Q6_K,
    chunk: 32,
    body: `let hf = sub >> 2u; let k = sub & 3u; let d = ldh(o + 208u);
  let l0 = o + 64u * hf + (k & 1u) * 32u; let lsh = (k >> 1u) * 4u;
  let h0 = o + 128u + 32u * hf; let hsh = 2u * k;
  let s0 = o + 192u + 8u * hf + 2u * k;
  for (var i = 0u; i < 8u; i++) {
    let ql = ld32(l0 + 4u * i); let qh = ld32(h0 + 4u * i);
    let dl = d * lds8(s0 + (i >> 2u));
    for (var j = 0u; j < 4u; j++) {
      let q = ((ql >> (8u * j + lsh)) & 15u) | (((qh >> (8u * j + hsh)) & 3u) << 4u);
      (*v)[4u * i + j] = dl * (f32(q) - 32.0);
    }
  }`,
  },
];

/** The six-bit scale and min pair j of a K-quant block (ggml's get_scale_min_k4): sc | m << 8. */
const KSCALE = /* wgsl */ `
fn kscale(q: u32, j: u32) -> u32 {
  if (j < 4u) { return (ld8(q + j) & 63u) | ((ld8(q + j + 4u) & 63u) << 8u); }
  let sc = (ld8(q + j + 4u) & 15u) | ((ld8(q + j - 4u) >> 6u) << 4u);
  let m = (ld8(q + j + 4u) >> 4u) | ((ld8(q + j) >> 6u) << 4u);
  return sc | (m << 8u);
}
`;

const BY_TYPE = new Map<number, WgslType>(TYPES.map((t) => [t.type, t]));

/** Weight types the WebGPU matmul and embedding kernels read. */
export const WEBGPU_MATRIX_TYPES: ReadonlySet<number> = new Set(BY_TYPE.keys());

/** Types the norm kernels read their weight in (float types). */
export const WEBGPU_VECTOR_TYPES: ReadonlySet<number> = new Set([GGMLType.F32, GGMLType.F16]);

/** The decode description of `type`; throws for a type without one. */
export function wgslType(type: number): WgslType {
  const t = BY_TYPE.get(type);
  if (!t) throw new Error(`no WGSL decoder for ggml type ${type}`);
  return t;
}

/** Block facts of `type`: elements and bytes per block. */
export function blockOf(type: number): { elems: number; bytes: number } {
  const t = typeTraits(type);
  return { elems: t.blockSize, bytes: t.typeSize };
}

/**
 * WGSL of `dq(rb, c, v)`: decodes chunk c of the row at byte rb into v, and (types with an
 * offset) `dqmin(rb, c)`. Needs WGSL_LOADS.
 */
export function wgslDecoder(type: number): string {
  const t = wgslType(type);
  const { elems, bytes } = blockOf(type);
  const perBlock = elems / t.chunk;
  const locate = `let o = rb + (c / ${perBlock}u) * ${bytes}u; let sub = c % ${perBlock}u;`;
  const k = type === GGMLType.Q4_K || type === GGMLType.Q5_K ? KSCALE : "";
  const min = t.min
    ? `fn dqmin(rb: u32, c: u32) -> f32 { ${locate} _ = sub; return ${t.min}; }`
    : "";
  return `${k}
const CH: u32 = ${t.chunk}u;
fn dq(rb: u32, c: u32, v: ptr<function, array<f32, ${t.chunk}>>) {
  ${locate} _ = sub;
  ${t.body}
}
${min}
`;
}

/**
 * WGSL_LOADS and wgslDecoder(type) reading the binding `name` instead of `w`, every function
 * suffixed `_name` (`dq_name`, `dqmin_name`), for kernels that decode two weights.
 */
export function wgslDecoderOn(type: number, name: string): string {
  return (WGSL_LOADS + wgslDecoder(type))
    .replace("const CH: u32", `const CH_${name}: u32`)
    .replace(/\bw\[/g, `${name}[`)
    .replace(/\b(ld8|ld16|ld32|ldh|lds8|kscale|dqmin|dq)\(/g, `$1_${name}(`);
}
