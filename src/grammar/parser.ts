/**
 * GBNF parser, a port of llama.cpp's `llama_grammar_parser` (src/llama-grammar.cpp): rules
 * `name ::= alternatives`, literals with escapes, char classes with ranges and negation, `.`,
 * groups, repetition `* + ? {m} {m,} {m,n}` (rewritten into generated rules exactly as
 * llama.cpp does, so rule ids match), comments, and token references `<[id]>` / `!<[id]>`.
 * Errors are {@link GrammarError}s with the offset (UTF-16 index) where parsing stopped.
 *
 * @module
 */
import { GrammarError } from "./errors.ts";
import {
  ALT,
  CHAR,
  CHAR_ALT,
  CHAR_ANY,
  CHAR_NOT,
  CHAR_RNG_UPPER,
  END,
  MAX_REPETITION,
  type ParsedGrammar,
  RULE_REF,
  TOKEN,
  TOKEN_NOT,
} from "./ir.ts";

const NO_MAX = -1;

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined &&
    ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "-" || isDigit(c));
}

class Parser {
  readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  readonly rules: number[][] = [];

  constructor(readonly src: string) {}

  fail(message: string, at: number): never {
    throw new GrammarError("GRAMMAR_SYNTAX", `${message} at offset ${at}`, {
      offset: at,
      actual: this.src.slice(at, at + 20),
    });
  }

  symbolId(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  generateId(base: string): number {
    const id = this.names.length;
    const name = `${base}_${id}`;
    this.ids.set(name, id);
    this.names.push(name);
    return id;
  }

  addRule(id: number, rule: number[]): void {
    while (this.rules.length <= id) this.rules.push([]);
    this.rules[id] = rule;
  }

  space(pos: number, newlineOk: boolean): number {
    const s = this.src;
    for (;;) {
      const c = s[pos];
      if (c === " " || c === "\t") pos++;
      else if (c === "#") {
        while (pos < s.length && s[pos] !== "\r" && s[pos] !== "\n") pos++;
      } else if (newlineOk && (c === "\r" || c === "\n")) pos++;
      else return pos;
    }
  }

  name(pos: number): number {
    let end = pos;
    while (isWordChar(this.src[end])) end++;
    if (end === pos) this.fail("expecting name", pos);
    return end;
  }

  int(pos: number): [number, number] {
    let end = pos;
    while (isDigit(this.src[end])) end++;
    if (end === pos) this.fail("expecting integer", pos);
    return [Number(this.src.slice(pos, end)), end];
  }

  hex(pos: number, size: number): [number, number] {
    const digits = this.src.slice(pos, pos + size);
    if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length !== size) {
      this.fail(`expecting ${size} hex chars`, pos);
    }
    return [parseInt(digits, 16), pos + size];
  }

  char(pos: number): [number, number] {
    const s = this.src;
    if (pos >= s.length) this.fail("unexpected end of input", pos);
    if (s[pos] === "\\") {
      const e = s[pos + 1];
      switch (e) {
        case "x":
          return this.hex(pos + 2, 2);
        case "u":
          return this.hex(pos + 2, 4);
        case "U":
          return this.hex(pos + 2, 8);
        case "t":
          return [9, pos + 2];
        case "r":
          return [13, pos + 2];
        case "n":
          return [10, pos + 2];
        case "\\":
        case '"':
        case "[":
        case "]":
        case "-":
          return [e.charCodeAt(0), pos + 2];
        default:
          this.fail("unknown escape", pos);
      }
    }
    const cp = s.codePointAt(pos)!;
    return [cp, pos + (cp > 0xffff ? 2 : 1)];
  }

  token(pos: number): [number, number] {
    const s = this.src;
    if (s[pos] !== "<") this.fail("expecting '<'", pos);
    if (s[pos + 1] !== "[") {
      throw new GrammarError(
        "GRAMMAR_UNSUPPORTED",
        `token references by text (<...>) need a vocabulary; use <[id]> (offset ${pos})`,
        { offset: pos },
      );
    }
    const [id, end] = this.int(pos + 2);
    if (s[end] !== "]") this.fail("expecting ']'", end);
    if (s[end + 1] !== ">") this.fail("expecting '>'", end + 1);
    return [id, end + 2];
  }

  alternates(pos: number, ruleName: string, ruleId: number, nested: boolean): number {
    const rule: number[] = [];
    pos = this.sequence(pos, ruleName, rule, nested);
    while (this.src[pos] === "|") {
      rule.push(ALT, 0);
      pos = this.space(pos + 1, true);
      pos = this.sequence(pos, ruleName, rule, nested);
    }
    rule.push(END, 0);
    this.addRule(ruleId, rule);
    return pos;
  }

  sequence(src: number, ruleName: string, rule: number[], nested: boolean): number {
    const s = this.src;
    let lastSymStart = rule.length;
    let pos = src;
    let nPrevRules = 1;

    const repeat = (min: number, max: number) => {
      const noMax = max === NO_MAX;
      if (lastSymStart === rule.length) this.fail("expecting preceding item to */+/?/{", pos);
      const prev = rule.slice(lastSymStart);
      let totalRules = 1;
      if (!noMax && max > 0) totalRules = max;
      else if (min > 0) totalRules = min;
      if (nPrevRules * totalRules >= MAX_REPETITION) {
        throw new GrammarError(
          "GRAMMAR_LIMIT",
          `repetition would generate ${nPrevRules * totalRules} rules (limit ${MAX_REPETITION})`,
          { offset: pos, expected: MAX_REPETITION, actual: nPrevRules * totalRules },
        );
      }
      if (min === 0) rule.length = lastSymStart;
      else for (let i = 1; i < min; i++) rule.push(...prev);
      let lastRecId = 0;
      const nOpt = noMax ? 1 : max - min;
      for (let i = 0; i < nOpt; i++) {
        const rec = prev.slice();
        const recId = this.generateId(ruleName);
        if (i > 0 || noMax) rec.push(RULE_REF, noMax ? recId : lastRecId);
        rec.push(ALT, 0, END, 0);
        this.addRule(recId, rec);
        lastRecId = recId;
      }
      if (nOpt > 0) rule.push(RULE_REF, lastRecId);
      nPrevRules *= totalRules;
    };

    while (pos < s.length) {
      const c = s[pos];
      if (c === '"') {
        pos++;
        lastSymStart = rule.length;
        nPrevRules = 1;
        while (s[pos] !== '"') {
          if (pos >= s.length) this.fail("unexpected end of input", pos);
          const [cp, next] = this.char(pos);
          pos = next;
          rule.push(CHAR, cp);
        }
        pos = this.space(pos + 1, nested);
      } else if (c === "[") {
        pos++;
        let startType = CHAR;
        if (s[pos] === "^") {
          pos++;
          startType = CHAR_NOT;
        }
        lastSymStart = rule.length;
        nPrevRules = 1;
        while (s[pos] !== "]") {
          if (pos >= s.length) this.fail("unexpected end of input", pos);
          const [cp, next] = this.char(pos);
          pos = next;
          rule.push(lastSymStart < rule.length ? CHAR_ALT : startType, cp);
          if (s[pos] === "-" && s[pos + 1] !== "]") {
            if (pos + 1 >= s.length) this.fail("unexpected end of input", pos + 1);
            const [hi, after] = this.char(pos + 1);
            pos = after;
            rule.push(CHAR_RNG_UPPER, hi);
          }
        }
        pos = this.space(pos + 1, nested);
      } else if (c === "<" || c === "!") {
        let type = TOKEN;
        if (c === "!") {
          type = TOKEN_NOT;
          pos++;
        }
        const [id, end] = this.token(pos);
        lastSymStart = rule.length;
        nPrevRules = 1;
        rule.push(type, id);
        pos = this.space(end, nested);
      } else if (isWordChar(c)) {
        const end = this.name(pos);
        const ref = this.symbolId(s.slice(pos, end));
        pos = this.space(end, nested);
        lastSymStart = rule.length;
        nPrevRules = 1;
        rule.push(RULE_REF, ref);
      } else if (c === "(") {
        pos = this.space(pos + 1, true);
        const before = this.names.length;
        const sub = this.generateId(ruleName);
        pos = this.alternates(pos, ruleName, sub, true);
        nPrevRules = Math.max(1, this.names.length - before);
        lastSymStart = rule.length;
        rule.push(RULE_REF, sub);
        if (s[pos] !== ")") this.fail("expecting ')'", pos);
        pos = this.space(pos + 1, nested);
      } else if (c === ".") {
        lastSymStart = rule.length;
        nPrevRules = 1;
        rule.push(CHAR_ANY, 0);
        pos = this.space(pos + 1, nested);
      } else if (c === "*" || c === "+" || c === "?") {
        pos = this.space(pos + 1, nested);
        if (c === "*") repeat(0, NO_MAX);
        else if (c === "+") repeat(1, NO_MAX);
        else repeat(0, 1);
      } else if (c === "{") {
        pos = this.space(pos + 1, nested);
        if (!isDigit(s[pos])) this.fail("expecting an int", pos);
        const [min, minEnd] = this.int(pos);
        pos = this.space(minEnd, nested);
        let max = NO_MAX;
        if (s[pos] === "}") {
          max = min;
          pos = this.space(pos + 1, nested);
        } else if (s[pos] === ",") {
          pos = this.space(pos + 1, nested);
          if (isDigit(s[pos])) {
            const [m, end] = this.int(pos);
            max = m;
            pos = this.space(end, nested);
          }
          if (s[pos] !== "}") this.fail("expecting '}'", pos);
          pos = this.space(pos + 1, nested);
        } else {
          this.fail("expecting ','", pos);
        }
        if (min > MAX_REPETITION) {
          throw new GrammarError("GRAMMAR_LIMIT", `repetition count ${min} exceeds the limit`, {
            offset: pos,
            expected: MAX_REPETITION,
            actual: min,
          });
        }
        if (max !== NO_MAX && max > MAX_REPETITION) max = NO_MAX;
        if (max !== NO_MAX && max < min) this.fail(`repetition {${min},${max}} has max < min`, pos);
        repeat(min, max);
      } else {
        break;
      }
    }
    return pos;
  }

  rule(src: number): number {
    const nameEnd = this.name(src);
    let pos = this.space(nameEnd, false);
    const name = this.src.slice(src, nameEnd);
    const id = this.symbolId(name);
    if (this.src.slice(pos, pos + 3) !== "::=") this.fail("expecting ::=", pos);
    pos = this.space(pos + 3, true);
    pos = this.alternates(pos, name, id, false);
    const c = this.src[pos];
    if (c === "\r") pos += this.src[pos + 1] === "\n" ? 2 : 1;
    else if (c === "\n") pos++;
    else if (pos < this.src.length) this.fail("expecting newline or end", pos);
    return this.space(pos, true);
  }

  parse(): ParsedGrammar {
    let pos = this.space(0, true);
    while (pos < this.src.length) pos = this.rule(pos);
    for (let id = 0; id < this.names.length; id++) {
      const rule = this.rules[id];
      if (rule === undefined || rule.length === 0) {
        throw new GrammarError("GRAMMAR_UNDEFINED_RULE", `undefined rule '${this.names[id]}'`, {
          actual: this.names[id],
        });
      }
    }
    return { names: this.names, rules: this.rules };
  }
}

/** Parses GBNF text (GrammarError on bad syntax or an undefined rule). */
export function parseGbnf(text: string): ParsedGrammar {
  if (typeof text !== "string") {
    throw new GrammarError("GRAMMAR_SYNTAX", "grammar must be a string", { actual: typeof text });
  }
  return new Parser(text).parse();
}
