/**
 * GBNF grammars put together as text: every rule name of a grammar prefixed (so two grammars'
 * rules cannot collide), and a union whose root is one of several grammars' roots. Used for a
 * tool call or a formatted answer in one grammar (see src/chat/tool_grammar.ts).
 *
 * @module
 */
import { createGrammar, type Grammar } from "./grammar.ts";

function isWordChar(c: string | undefined): boolean {
  return c !== undefined &&
    ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "-" || (c >= "0" && c <= "9"));
}

/** Index just past the closing `close` of a literal starting at `at` (backslash escapes skipped). */
function skipQuoted(s: string, at: number, close: string): number {
  let i = at + 1;
  while (i < s.length && s[i] !== close) i += s[i] === "\\" ? 2 : 1;
  return i + 1;
}

/**
 * `gbnf` with every rule name (definitions and references) prefixed by `prefix`; literals,
 * character classes, token references (`<...>`), repetition counts and comments unchanged.
 * The text must parse (GrammarError otherwise).
 */
export function prefixRules(gbnf: string, prefix: string): string {
  createGrammar(gbnf);
  let out = "";
  let i = 0;
  const s = gbnf;
  while (i < s.length) {
    const c = s[i];
    let end: number;
    if (c === '"') end = skipQuoted(s, i, '"');
    else if (c === "[") end = skipQuoted(s, i, "]");
    else if (c === "<") end = s.indexOf(">", i) + 1;
    else if (c === "{") end = s.indexOf("}", i) + 1;
    else if (c === "#") {
      end = i;
      while (end < s.length && s[end] !== "\n" && s[end] !== "\r") end++;
    } else if (isWordChar(c)) {
      end = i;
      while (isWordChar(s[end])) end++;
      out += prefix + s.slice(i, end);
      i = end;
      continue;
    } else end = i + 1;
    out += s.slice(i, end);
    i = end;
  }
  return out;
}

/**
 * One grammar matching what any of `alternatives` (GBNF texts, each with a `root` rule)
 * matches: alternative k's rules are prefixed `gK-`, and `root ::= g0-root | g1-root | ...`.
 */
export function unionGbnf(alternatives: readonly string[]): string {
  const parts = alternatives.map((g, k) => prefixRules(g, `g${k}-`));
  const root = alternatives.map((_, k) => `g${k}-root`).join(" | ");
  return [`root ::= ${root}`, ...parts].join("\n");
}

/** {@link unionGbnf} compiled. */
export function unionGrammar(alternatives: readonly string[]): Grammar {
  return createGrammar(unionGbnf(alternatives));
}
