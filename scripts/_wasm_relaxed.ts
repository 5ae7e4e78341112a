/**
 * Turns a module built with RF_RELAXED=1 into a relaxed-SIMD module: clang 14 cannot emit
 * `i32x4.relaxed_dot_i8x16_i7x16_add_s`, so the kernels call an imported placeholder
 * (`rf_relaxed.dot_i8x16_i7x16_add_s`, see kernels/wasm/rf_wasm.h); this pass, with
 * Binaryen (npm, pinned), replaces every call with the instruction and drops the import.
 * Binaryen's output is deterministic for a given input and version.
 *
 * @module
 */
import binaryen from "npm:binaryen@132.0.0";

const PLACEHOLDER = /\(import "rf_relaxed" "dot_i8x16_i7x16_add_s" \(func \$([^\s()]+)[^\n]*\n/;

/** The relaxed-SIMD module for `pre` (the RF_RELAXED=1 link output). */
export function applyRelaxedDot(pre: Uint8Array): Uint8Array {
  const m0 = binaryen.readBinary(pre);
  m0.setFeatures(binaryen.Features.All);
  let text = m0.emitText();
  m0.dispose();
  const imp = text.match(PLACEHOLDER);
  if (!imp) throw new Error("relaxed build has no placeholder import to replace");
  const name = imp[1].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  text = text.replace(PLACEHOLDER, "");
  const calls = new RegExp(`\\(call \\$${name}(?=[\\s)])`, "g");
  const n = (text.match(calls) ?? []).length;
  if (n === 0) throw new Error("relaxed build never calls the placeholder");
  text = text.replace(calls, "(i32x4.relaxed_dot_i8x16_i7x16_add_s");
  if (text.includes(`$${imp[1]}`)) throw new Error("placeholder still referenced");
  const m = binaryen.parseText(text);
  try {
    m.setFeatures(binaryen.Features.All);
    if (!m.validate()) throw new Error("Binaryen rejected the relaxed module");
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}
