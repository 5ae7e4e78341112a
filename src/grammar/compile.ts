/**
 * Checks a parsed grammar the way llama.cpp's `llama_grammar_init_impl` does (the root rule
 * exists, no rule is left-recursive)
 * and flattens its rules into typed arrays for the matcher.
 *
 * @module
 */
import { GrammarError } from "./errors.ts";
import { ALT, END, type ParsedGrammar, RULE_REF } from "./ir.ts";

/** A checked grammar with all rules in flat arrays (positions index `type`/`value`). */
export interface CompiledGrammar {
  readonly names: readonly string[];
  /** Element types of every rule, concatenated. */
  readonly type: Uint8Array;
  /** Element values of every rule, concatenated (RULE_REF values are rule ids). */
  readonly value: Int32Array;
  /** Position of each rule's first element. */
  readonly ruleStart: Int32Array;
  /** Rule id where matching starts. */
  readonly root: number;
}

function isEndOfSeq(t: number): boolean {
  return t === END || t === ALT;
}

/** Port of llama_grammar_detect_left_recursion (rule: flat pairs). */
function detectLeftRecursion(
  rules: readonly (readonly number[])[],
  i: number,
  visited: Uint8Array,
  inProgress: Uint8Array,
  mayBeEmpty: Uint8Array,
): boolean {
  if (inProgress[i]) return true;
  inProgress[i] = 1;
  const rule = rules[i];
  let atStart = true;
  for (let k = 0; k < rule.length; k += 2) {
    if (isEndOfSeq(rule[k])) {
      if (atStart) {
        mayBeEmpty[i] = 1;
        break;
      }
      atStart = true;
    } else {
      atStart = false;
    }
  }
  let recurse = true;
  for (let k = 0; k < rule.length; k += 2) {
    if (rule[k] === RULE_REF && recurse) {
      const ref = rule[k + 1];
      if (detectLeftRecursion(rules, ref, visited, inProgress, mayBeEmpty)) return true;
      if (!mayBeEmpty[ref]) recurse = false;
    } else if (isEndOfSeq(rule[k])) {
      recurse = true;
    } else {
      recurse = false;
    }
  }
  inProgress[i] = 0;
  visited[i] = 1;
  return false;
}

/** Validates and flattens `g`, starting at rule `root` (GrammarError when invalid). */
export function compileGrammar(g: ParsedGrammar, root = "root"): CompiledGrammar {
  const n = g.rules.length;
  const rootId = g.names.indexOf(root);
  if (rootId < 0) {
    throw new GrammarError("GRAMMAR_NO_ROOT", `grammar has no '${root}' rule`, {
      expected: root,
      actual: g.names.slice(0, 20),
    });
  }
  const visited = new Uint8Array(n), inProgress = new Uint8Array(n), empty = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (visited[i]) continue;
    if (detectLeftRecursion(g.rules, i, visited, inProgress, empty)) {
      throw new GrammarError(
        "GRAMMAR_LEFT_RECURSION",
        `left recursion detected for rule '${g.names[i]}'`,
        { actual: g.names[i] },
      );
    }
  }
  let total = 0;
  for (const r of g.rules) total += r.length >> 1;
  const type = new Uint8Array(total), value = new Int32Array(total);
  const ruleStart = new Int32Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    ruleStart[i] = at;
    const r = g.rules[i];
    for (let k = 0; k < r.length; k += 2) {
      type[at] = r[k];
      value[at] = r[k + 1];
      at++;
    }
  }
  return { names: g.names, type, value, ruleStart, root: rootId };
}
