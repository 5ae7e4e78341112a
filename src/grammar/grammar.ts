/**
 * The public grammar object: GBNF text parsed, checked and ready to match.
 *
 * @module
 */
import { compileGrammar } from "./compile.ts";
import { GrammarEngine } from "./engine.ts";
import { GrammarMatcher } from "./matcher.ts";
import { parseGbnf } from "./parser.ts";

/** Options of {@link createGrammar}. */
export interface GrammarOptions {
  /** Rule where matching starts (default "root"). */
  root?: string;
}

/** A compiled GBNF grammar; matchers and samplers created from it share its caches. */
export class Grammar {
  /** The GBNF text. */
  readonly source: string;
  /** The start rule. */
  readonly root: string;
  /** The memoizing matcher engine. */
  readonly engine: GrammarEngine;

  constructor(source: string, options: GrammarOptions = {}) {
    this.source = source;
    this.root = options.root ?? "root";
    this.engine = new GrammarEngine(compileGrammar(parseGbnf(source), this.root));
  }

  /** A matcher at the start of the grammar. */
  matcher(): GrammarMatcher {
    return new GrammarMatcher(this.engine);
  }

  /** Whether the whole of `text` matches the grammar. */
  matches(text: string): boolean {
    const m = this.matcher();
    return m.acceptString(text) && m.accepting;
  }
}

/** Parses and checks GBNF text (GrammarError with code and offset when it is invalid). */
export function createGrammar(gbnf: string, options: GrammarOptions = {}): Grammar {
  return new Grammar(gbnf, options);
}
