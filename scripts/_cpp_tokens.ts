/**
 * A small reader for C++ test sources: a tokenizer for string (plain, u8, raw), char and number
 * literals, identifiers, punctuation and comments, and a cursor over its tokens. Used by the
 * scripts that turn llama.cpp's C++ tests into data (extract_grammar_tests.ts,
 * extract_chat_template_tests.ts).
 *
 * @module
 */

/** One C++ token. */
export type Tok =
  | { k: "str"; v: string }
  | { k: "chr"; v: number }
  | { k: "num"; v: number }
  | { k: "id"; v: string }
  | { k: "p"; v: string };

const ESC: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  '"': '"',
  "'": "'",
  "0": "\0",
};

function unescape(body: string): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === "x") {
      const m = /^[0-9a-fA-F]+/.exec(body.slice(i + 1))!;
      out += String.fromCharCode(parseInt(m[0], 16));
      i += m[0].length;
    } else if (e === "u" || e === "U") {
      const n = e === "u" ? 4 : 8;
      out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 1 + n), 16));
      i += n;
    } else if (e in ESC) out += ESC[e];
    else throw new Error(`unknown C++ escape \\${e}`);
  }
  return out;
}

/**
 * The text of a narrow string literal's body: its characters as UTF-8 bytes, `\xNN` as raw
 * bytes (C++ narrow strings hold UTF-8), then decoded.
 */
function stringLiteral(body: string): string {
  if (!body.includes("\\")) return body;
  const enc = new TextEncoder();
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "\\" && body[i + 1] === "x") {
      const m = /^[0-9a-fA-F]+/.exec(body.slice(i + 2))!;
      bytes.push(parseInt(m[0], 16));
      i += 1 + m[0].length;
      continue;
    }
    let j = i + 1;
    if (body[i] === "\\") j = body[i + 1] === "u" ? i + 6 : body[i + 1] === "U" ? i + 10 : i + 2;
    else if (body.codePointAt(i)! > 0xffff) j = i + 2;
    bytes.push(...enc.encode(unescape(body.slice(i, j))));
    i = j - 1;
  }
  return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
}

/** The tokens of C++ source `src` (comments and preprocessor lines dropped). */
export function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) i++;
    else if (src.startsWith("//", i)) {
      i = src.indexOf("\n", i) < 0 ? src.length : src.indexOf("\n", i);
    } else if (src.startsWith("/*", i)) i = src.indexOf("*/", i) + 2;
    else if (c === "#") i = src.indexOf("\n", i) < 0 ? src.length : src.indexOf("\n", i);
    else if (/R"/.test(src.slice(i, i + 2)) || /u8R"/.test(src.slice(i, i + 4))) {
      const q = src.indexOf('"', i);
      const open = src.indexOf("(", q);
      const delim = ")" + src.slice(q + 1, open) + '"';
      const end = src.indexOf(delim, open);
      out.push({ k: "str", v: src.slice(open + 1, end) });
      i = end + delim.length;
    } else if (c === '"' || src.startsWith('u8"', i)) {
      let j = src.indexOf('"', i) + 1;
      const start = j;
      while (src[j] !== '"') j += src[j] === "\\" ? 2 : 1;
      out.push({ k: "str", v: stringLiteral(src.slice(start, j)) });
      i = j + 1;
    } else if (c === "'") {
      let j = i + 1;
      while (src[j] !== "'") j += src[j] === "\\" ? 2 : 1;
      out.push({ k: "chr", v: unescape(src.slice(i + 1, j)).codePointAt(0)! });
      i = j + 1;
    } else if (/[0-9]/.test(c)) {
      const m = /^(0x[0-9a-fA-F]+|[0-9]+)[uUlL]*/.exec(src.slice(i))!;
      out.push({ k: "num", v: Number(m[1]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_0-9:]+/.exec(src.slice(i))!;
      out.push({ k: "id", v: m[0] });
      i += m[0].length;
    } else {
      out.push({ k: "p", v: c });
      i++;
    }
  }
  return out;
}

/** A cursor over C++ tokens. */
export class CppReader {
  i = 0;
  constructor(readonly t: Tok[]) {}
  peek(): Tok | undefined {
    return this.t[this.i];
  }
  punct(v: string): void {
    const x = this.t[this.i++];
    if (x?.k !== "p" || x.v !== v) {
      throw new Error(`expected '${v}' at token ${this.i}: ${JSON.stringify(x)}`);
    }
  }
  /** Adjacent string literals concatenate, as in C++. */
  string(): string {
    let s = "";
    let any = false;
    while (this.peek()?.k === "str") {
      s += (this.t[this.i++] as { v: string }).v;
      any = true;
    }
    if (!any) {
      throw new Error(`expected a string at token ${this.i}: ${JSON.stringify(this.peek())}`);
    }
    return s;
  }
  comma(): void {
    this.punct(",");
  }
}
