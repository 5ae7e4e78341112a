/**
 * Building blocks of the JSON Schema converter, ported from llama.cpp's
 * common/json-schema-to-grammar.cpp so the generated GBNF is the same text: the primitive
 * and string-format rules, `build_repetition`, `build_min_max_int` (integer ranges as digit
 * automata) and literal formatting.
 *
 * @module
 */

/** A rule body and the rules it needs. */
export interface BuiltinRule {
  content: string;
  deps: string[];
}

/** Whitespace between JSON tokens (bounded, as llama.cpp). */
export const SPACE_RULE = '| " " | "\\n"{1,2} [ \\t]{0,20}';

/** llama.cpp's PRIMITIVE_RULES. */
export const PRIMITIVE_RULES: Record<string, BuiltinRule> = {
  boolean: { content: '("true" | "false")', deps: [] },
  "decimal-part": { content: "[0-9]{1,16}", deps: [] },
  "integral-part": { content: "[0] | [1-9] [0-9]{0,15}", deps: [] },
  number: {
    content: '("-"? integral-part) ("." decimal-part)? ([eE] [-+]? integral-part)?',
    deps: ["integral-part", "decimal-part"],
  },
  integer: { content: '("-"? integral-part)', deps: ["integral-part"] },
  value: {
    content: "object | array | string | number | boolean | null",
    deps: ["object", "array", "string", "number", "boolean", "null"],
  },
  object: {
    content: '"{" space ( string ":" space value ("," space string ":" space value)* )? space "}"',
    deps: ["string", "value"],
  },
  array: { content: '"[" space ( value ("," space value)* )? space "]"', deps: ["value"] },
  uuid: {
    content: '"\\"" [0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" ' +
      '[0-9a-fA-F]{12} "\\""',
    deps: [],
  },
  char: {
    content: '[^"\\\\\\x7F\\x00-\\x1F] | [\\\\] (["\\\\bfnrt] | "u" [0-9a-fA-F]{4})',
    deps: [],
  },
  string: { content: '"\\"" char* "\\""', deps: ["char"] },
  null: { content: '"null"', deps: [] },
};

/** llama.cpp's STRING_FORMAT_RULES. */
export const STRING_FORMAT_RULES: Record<string, BuiltinRule> = {
  date: {
    content: '[0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [1-2] [0-9] | "3" [0-1] )',
    deps: [],
  },
  time: {
    content: '([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{3} )? ' +
      '( "Z" | ( "+" | "-" ) ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )',
    deps: [],
  },
  "date-time": { content: 'date "T" time', deps: ["date", "time"] },
  "date-string": { content: '"\\"" date "\\""', deps: ["date"] },
  "time-string": { content: '"\\"" time "\\""', deps: ["time"] },
  "date-time-string": { content: '"\\"" date-time "\\""', deps: ["date-time"] },
};

const RESERVED = new Set([
  "root",
  ...Object.keys(PRIMITIVE_RULES),
  ...Object.keys(STRING_FORMAT_RULES),
]);

/** Names the converter must not use for schema-derived rules. */
export function isReservedName(name: string): boolean {
  return RESERVED.has(name);
}

const LITERAL_ESCAPES: Record<string, string> = {
  "\r": "\\r",
  "\n": "\\n",
  '"': '\\"',
  "\\": "\\\\",
};

/** A GBNF string literal for `s`. */
export function formatLiteral(s: string): string {
  return '"' + s.replace(/[\r\n"\\]/g, (c) => LITERAL_ESCAPES[c]) + '"';
}

/** Largest repetition bound meaning "no maximum" (C++ INT_MAX). */
export const NO_MAX = 2147483647;

/** llama.cpp's build_repetition. */
export function buildRepetition(item: string, min: number, max: number, sep = ""): string {
  const hasMax = max !== NO_MAX;
  if (max === 0) return "";
  if (min === 0 && max === 1) return item + "?";
  if (sep === "") {
    if (min === 1 && !hasMax) return item + "+";
    if (min === 0 && !hasMax) return item + "*";
    return item + "{" + min + "," + (hasMax ? String(max) : "") + "}";
  }
  let result = item + " " +
    buildRepetition(`(${sep} ${item})`, min === 0 ? 0 : min - 1, hasMax ? max - 1 : max);
  if (min === 0) result = "(" + result + ")?";
  return result;
}

/** llama.cpp's build_min_max_int; `null` means unbounded on that side. */
export function buildMinMaxInt(
  min: number | null,
  max: number | null,
  out: string[],
  decimalsLeft = 16,
  topLevel = true,
): void {
  const digitRange = (from: string, to: string) => {
    out.push("[", from === to ? from : `${from}-${to}`, "]");
  };
  const moreDigits = (minD: number, maxD: number) => {
    out.push("[0-9]");
    if (minD === maxD && minD === 1) return;
    out.push("{", String(minD));
    if (maxD !== minD) out.push(",", maxD !== NO_MAX ? String(maxD) : "");
    out.push("}");
  };
  const ch = (c: string, d: number) => String.fromCharCode(c.charCodeAt(0) + d);
  const uniformRange = (from: string, to: string): void => {
    let i = 0;
    while (i < from.length && i < to.length && from[i] === to[i]) i++;
    if (i > 0) out.push('"', from.slice(0, i), '"');
    if (i < from.length && i < to.length) {
      if (i > 0) out.push(" ");
      const subLen = from.length - i - 1;
      if (subLen > 0) {
        const fromSub = from.slice(i + 1), toSub = to.slice(i + 1);
        const zeros = "0".repeat(subLen), nines = "9".repeat(subLen);
        let toReached = false;
        out.push("(");
        if (fromSub === zeros) {
          digitRange(from[i], ch(to[i], -1));
          out.push(" ");
          moreDigits(subLen, subLen);
        } else {
          out.push("[", from[i], "] (");
          uniformRange(fromSub, nines);
          out.push(")");
          if (from[i] < ch(to[i], -1)) {
            out.push(" | ");
            if (toSub === nines) {
              digitRange(ch(from[i], 1), to[i]);
              toReached = true;
            } else {
              digitRange(ch(from[i], 1), ch(to[i], -1));
            }
            out.push(" ");
            moreDigits(subLen, subLen);
          }
        }
        if (!toReached) {
          out.push(" | ");
          digitRange(to[i], to[i]);
          out.push(" ");
          uniformRange(zeros, toSub);
        }
        out.push(")");
      } else {
        out.push("[", from[i], "-", to[i], "]");
      }
    }
  };

  if (min !== null && max !== null) {
    if (min < 0 && max < 0) {
      out.push('"-" (');
      buildMinMaxInt(-max, -min, out, decimalsLeft, true);
      out.push(")");
      return;
    }
    if (min < 0) {
      out.push('"-" (');
      buildMinMaxInt(0, -min, out, decimalsLeft, true);
      out.push(") | ");
      min = 0;
    }
    let minS = String(min);
    const maxS = String(max);
    for (let digits = minS.length; digits < maxS.length; digits++) {
      uniformRange(minS, "9".repeat(digits));
      minS = "1" + "0".repeat(digits);
      out.push(" | ");
    }
    uniformRange(minS, maxS);
    return;
  }
  const less = Math.max(decimalsLeft - 1, 1);
  if (min !== null) {
    if (min < 0) {
      out.push('"-" (');
      buildMinMaxInt(null, -min, out, decimalsLeft, false);
      out.push(") | [0] | [1-9] ");
      moreDigits(0, decimalsLeft - 1);
    } else if (min === 0) {
      if (topLevel) {
        out.push("[0] | [1-9] ");
        moreDigits(0, less);
      } else {
        moreDigits(1, decimalsLeft);
      }
    } else if (min <= 9) {
      const c = String(min);
      const start = topLevel ? "1" : "0";
      if (c > start) {
        digitRange(start, ch(c, -1));
        out.push(" ");
        moreDigits(1, less);
        out.push(" | ");
      }
      digitRange(c, "9");
      out.push(" ");
      moreDigits(0, less);
    } else {
      const minS = String(min);
      const len = minS.length;
      const c = minS[0];
      if (c > "1") {
        digitRange(topLevel ? "1" : "0", ch(c, -1));
        out.push(" ");
        moreDigits(len, less);
        out.push(" | ");
      }
      digitRange(c, c);
      out.push(" (");
      buildMinMaxInt(Number(minS.slice(1)), null, out, less, false);
      out.push(")");
      if (c < "9") {
        out.push(" | ");
        digitRange(ch(c, 1), "9");
        out.push(" ");
        moreDigits(len - 1, less);
      }
    }
    return;
  }
  if (max !== null) {
    if (max >= 0) {
      if (topLevel) {
        out.push('"-" [1-9] ');
        moreDigits(0, less);
        out.push(" | ");
      }
      buildMinMaxInt(0, max, out, decimalsLeft, true);
    } else {
      out.push('"-" (');
      buildMinMaxInt(-max, null, out, decimalsLeft, false);
      out.push(")");
    }
  }
}
