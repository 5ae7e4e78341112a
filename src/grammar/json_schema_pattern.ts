/**
 * JSON Schema `pattern` (an anchored regex subset) → GBNF, ported from llama.cpp's
 * `_pattern_to_rule`: literals, `.`, groups (`(...)`, `(?:...)`), classes `[...]` with GBNF
 * escapes, alternation, `* + ?` and `{m,n}`. Lookarounds, shorthand classes (`\d`, `\w`),
 * inner anchors and backreferences are "unsupported"; malformed patterns are "invalid".
 *
 * @module
 */
import { buildRepetition, NO_MAX } from "./json_schema_rules.ts";

/** A valid regex with no grammar equivalent. */
export class UnsupportedPattern extends Error {}
/** A pattern that is not a valid regex. */
export class InvalidPattern extends Error {}

const MAX_PATTERN_DEPTH = 100;
const NON_LITERAL = new Set([..."|.()[]{}*+?^$"]);
const ESCAPED_IN_REGEX_ONLY = new Set([..."^$.[]()|{}*+?"]);

/** Length of a GBNF escape (\xNN \uNNNN \UNNNNNNNN \t \r \n \\ \" \[ \]) at `pos`, else 0. */
function gbnfEscapeLength(p: string, pos: number): number {
  if (pos + 1 >= p.length || p[pos] !== "\\") return 0;
  let nHex = 0;
  switch (p[pos + 1]) {
    case "x":
      nHex = 2;
      break;
    case "u":
      nHex = 4;
      break;
    case "U":
      nHex = 8;
      break;
    case "t":
    case "r":
    case "n":
    case "\\":
    case '"':
    case "[":
    case "]":
      return 2;
    default:
      return 0;
  }
  if (pos + 2 + nHex > p.length) return 0;
  return /^[0-9a-fA-F]*$/.test(p.slice(pos + 2, pos + 2 + nHex)) ? 2 + nHex : 0;
}

type Piece = [text: string, literal: boolean];

/** Converts `pattern`; `addRule` registers a rule and returns its (possibly renamed) name. */
export function patternToRule(
  pattern: string,
  name: string,
  addRule: (name: string, rule: string) => string,
  dotall = false,
): string {
  if (pattern.length < 2 || pattern[0] !== "^" || pattern[pattern.length - 1] !== "$") {
    throw new UnsupportedPattern("not anchored with '^' and '$'");
  }
  const sub = pattern.slice(1, -1);
  const subRuleIds = new Map<string, string>();
  let i = 0;
  const length = sub.length;
  let depth = 0;
  const toRule = ([s, lit]: Piece) => lit ? `"${s}"` : s;

  const transform = (): Piece => {
    const seq: Piece[] = [];
    const getDot = () => addRule("dot", dotall ? "[\\U00000000-\\U0010FFFF]" : "[^\\x0A\\x0D]");
    const joinSeq = (): Piece => {
      const ret: Piece[] = [];
      let literal = "";
      for (const item of seq) {
        if (item[1]) literal += item[0];
        else {
          if (literal) ret.push([literal, true]);
          literal = "";
          ret.push(item);
        }
      }
      if (literal) ret.push([literal, true]);
      return [ret.map(toRule).join(" "), false];
    };
    while (i < length) {
      const c = sub[i];
      if (c === ".") {
        seq.push([getDot(), false]);
        i++;
      } else if (c === "(") {
        i++;
        if (i < length && sub[i] === "?") {
          if (i + 1 < length && sub[i + 1] === ":") i += 2;
          else throw new UnsupportedPattern("unsupported group syntax");
        }
        if (++depth > MAX_PATTERN_DEPTH) throw new UnsupportedPattern("pattern nesting too deep");
        seq.push(["(" + toRule(transform()) + ")", false]);
      } else if (c === ")") {
        i++;
        if (depth === 0) throw new InvalidPattern("unbalanced parentheses");
        depth--;
        return joinSeq();
      } else if (c === "^" || c === "$") {
        throw new UnsupportedPattern("anchor inside the pattern");
      } else if (c === "[") {
        let cls = "[";
        i++;
        while (i < length && sub[i] !== "]") {
          if (sub[i] === "\\") {
            const n = gbnfEscapeLength(sub, i);
            if (n === 0) {
              throw new UnsupportedPattern(
                `unsupported escape in character class: ${sub.slice(i, i + 2)}`,
              );
            }
            cls += sub.slice(i, i + n);
            i += n;
          } else {
            cls += sub[i++];
          }
        }
        if (i >= length) throw new InvalidPattern("unterminated character class");
        cls += "]";
        i++;
        seq.push([cls, false]);
      } else if (c === "|") {
        seq.push(["|", false]);
        i++;
      } else if (c === "*" || c === "+" || c === "?") {
        if (seq.length === 0) throw new InvalidPattern("nothing to repeat");
        seq[seq.length - 1] = [toRule(seq[seq.length - 1]) + c, false];
        i++;
      } else if (c === "{") {
        let curly = "{";
        i++;
        while (i < length && sub[i] !== "}") curly += sub[i++];
        if (i >= length) throw new UnsupportedPattern("unterminated curly brackets");
        i++;
        const nums = curly.slice(1).split(",");
        let min = 0, max = NO_MAX;
        if (nums.length !== 1 && nums.length !== 2) {
          throw new UnsupportedPattern("wrong number of values in curly brackets");
        }
        const int = (s: string) => {
          const m = /^\s*[-+]?\d+/.exec(s);
          if (!m) throw new UnsupportedPattern("invalid number in curly brackets");
          return parseInt(m[0], 10);
        };
        if (nums.length === 1) min = max = int(nums[0]);
        else {
          if (nums[0] !== "") min = int(nums[0]);
          if (nums[1] !== "") max = int(nums[1]);
        }
        if (seq.length === 0) throw new InvalidPattern("nothing to repeat");
        const last = seq[seq.length - 1];
        let text = last[0];
        if (!last[1]) {
          let id = subRuleIds.get(text);
          if (id === undefined) {
            id = addRule(`${name}-${subRuleIds.size + 1}`, text);
            subRuleIds.set(text, id);
          }
          text = id;
        }
        seq[seq.length - 1] = [buildRepetition(last[1] ? `"${text}"` : text, min, max, ""), false];
      } else {
        let literal = "";
        while (i < length) {
          if (sub[i] === "\\") {
            if (i === length - 1) throw new InvalidPattern("trailing backslash");
            const next = sub[i + 1];
            if (ESCAPED_IN_REGEX_ONLY.has(next)) {
              literal += next;
              i += 2;
            } else {
              const n = gbnfEscapeLength(sub, i);
              if (n === 0) {
                throw new UnsupportedPattern(`unsupported escape: ${sub.slice(i, i + 2)}`);
              }
              literal += sub.slice(i, i + n);
              i += n;
            }
          } else if (sub[i] === '"') {
            literal += '\\"';
            i++;
          } else if (
            !NON_LITERAL.has(sub[i]) &&
            (i === length - 1 || literal === "" || sub[i + 1] === "." ||
              !NON_LITERAL.has(sub[i + 1]))
          ) {
            literal += sub[i++];
          } else {
            break;
          }
        }
        if (literal === "") throw new UnsupportedPattern(`unsupported character: ${c}`);
        seq.push([literal, true]);
      }
    }
    return joinSeq();
  };

  const rule = toRule(transform());
  if (depth !== 0) throw new InvalidPattern("unbalanced parentheses");
  return addRule(name, `"\\"" (${rule}) "\\""`);
}
