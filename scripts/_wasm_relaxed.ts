/**
 * Turns a module built with RF_RELAXED=1 into a relaxed-SIMD module: clang 14 cannot emit
 * relaxed-SIMD instructions, so the kernels call imported placeholders (module
 * `rf_relaxed`, see kernels/wasm/rf_wasm.h); this pass, with Binaryen (npm, pinned),
 * replaces every call with its instruction and drops the imports. Binaryen's output is
 * deterministic for a given input and version.
 *
 * @module
 */
import binaryen from "npm:binaryen@132.0.0";

/** Placeholder import name -> the instruction that replaces calls to it. */
export const RELAXED_PLACEHOLDERS: Readonly<Record<string, string>> = {
  dot_i8x16_i7x16_s: "i16x8.relaxed_dot_i8x16_i7x16_s",
  madd: "f32x4.relaxed_madd",
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The relaxed-SIMD module for `pre` (the RF_RELAXED=1 link output). */
export function applyRelaxedDot(pre: Uint8Array): Uint8Array {
  const m0 = binaryen.readBinary(pre);
  m0.setFeatures(binaryen.Features.All);
  let text = m0.emitText();
  m0.dispose();
  let replaced = 0;
  for (const [name, instr] of Object.entries(RELAXED_PLACEHOLDERS)) {
    const imp = new RegExp(`\\(import "rf_relaxed" "${name}" \\(func \\$([^\\s()]+)[^\\n]*\\n`);
    const m = text.match(imp);
    if (!m) continue; // not used by this build
    text = text.replace(imp, "");
    const calls = new RegExp(`\\(call \\$${escape(m[1])}(?=[\\s)])`, "g");
    const n = (text.match(calls) ?? []).length;
    if (n === 0) throw new Error(`relaxed build imports ${name} but never calls it`);
    text = text.replace(calls, `(${instr}`);
    if (text.includes(`$${m[1]}`)) throw new Error(`placeholder ${name} still referenced`);
    replaced += n;
  }
  if (replaced === 0) throw new Error("relaxed build has no placeholder import to replace");
  if (text.includes(`"rf_relaxed"`)) throw new Error("unknown rf_relaxed import left");
  const m = binaryen.parseText(text);
  try {
    m.setFeatures(binaryen.Features.All);
    if (!m.validate()) throw new Error("Binaryen rejected the relaxed module");
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}
