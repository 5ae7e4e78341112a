/**
 * The {@linkcode Tokenizer} over a loaded {@linkcode Vocab}: special-token partitioning,
 * then SPM, BPE, WordPiece or unigram on the raw fragments, with BOS/EOS/SEP added as llama.cpp's
 * `tokenize_impl` does; decoding through {@linkcode Detokenizer}.
 *
 * @module
 */
import { BpeEncoder } from "./bpe.ts";
import { Detokenizer } from "./detokenize.ts";
import { partition } from "./special.ts";
import { spmEncode } from "./spm.ts";
import type {
  DecodeOptions,
  EncodeOptions,
  StreamDecoder,
  StreamDecoderOptions,
  Tokenizer,
} from "./types.ts";
import { UgmEncoder } from "./ugm.ts";
import { utf8Decode, wellFormed } from "./unicode.ts";
import { checkId, TokenAttr, type Vocab } from "./vocab.ts";
import { wpmEncode } from "./wpm.ts";

/** A tokenizer defined by GGUF tokenizer metadata. */
export class GgufTokenizer implements Tokenizer {
  readonly apiVersion = 1 as const;
  readonly name: string;
  private readonly detok: Detokenizer;
  private readonly bpe: BpeEncoder | undefined;
  private readonly ugm: UgmEncoder | undefined;

  constructor(private readonly vocab: Vocab) {
    this.name = vocab.kind === "bpe" ? `bpe:${vocab.pre}` : vocab.kind;
    this.detok = new Detokenizer(vocab);
    this.bpe = vocab.preset ? new BpeEncoder(vocab, vocab.preset) : undefined;
    this.ugm = vocab.ugm ? new UgmEncoder(vocab, vocab.ugm) : undefined;
  }

  get vocabSize(): number {
    return this.vocab.texts.length;
  }
  get bos(): number | undefined {
    return this.vocab.bos;
  }
  get eos(): number | undefined {
    return this.vocab.eos;
  }
  get eot(): number | undefined {
    return this.vocab.eot;
  }
  get unk(): number | undefined {
    return this.vocab.unk;
  }
  get pad(): number | undefined {
    return this.vocab.pad;
  }
  get addBos(): boolean {
    return this.vocab.addBos;
  }
  get addEos(): boolean {
    return this.vocab.addEos;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const v = this.vocab;
    const addSpecial = opts.addSpecial ?? false;
    const frags = partition(v, wellFormed(text), opts.parseSpecial ?? false);
    const out: number[] = [];
    if (addSpecial && v.addBos) out.push(v.bos!);
    if (v.kind === "spm") {
      let prevSpecial = true; // a space prefix goes before the first text and after specials
      for (const f of frags) {
        if (typeof f === "number") {
          out.push(f);
          prevSpecial = true;
          continue;
        }
        const t = v.addSpacePrefix && prevSpecial ? " " + f : f;
        spmEncode(v, t.replaceAll(" ", "\u2581"), out);
        prevSpecial = false;
      }
    } else {
      for (const f of frags) {
        if (typeof f === "number") out.push(f);
        else if (this.bpe) this.bpe.encode(f, out);
        else if (this.ugm) this.ugm.encode(f, out);
        else wpmEncode(v, f, out);
      }
    }
    if (addSpecial && v.addEos) out.push(v.eos!);
    if (addSpecial && v.kind === "wpm" && v.addSep) out.push(v.sep!);
    return out;
  }

  decode(tokens: readonly number[], opts: DecodeOptions = {}): string {
    return utf8Decode(this.detok.decodeBytes(tokens, opts));
  }

  tokenBytes(id: number): Uint8Array {
    return this.detok.piece(id).slice();
  }

  tokenText(id: number): string {
    checkId(this.vocab, id);
    return this.vocab.texts[id];
  }

  isSpecial(id: number): boolean {
    checkId(this.vocab, id);
    return (this.vocab.attrs[id] & (TokenAttr.CONTROL | TokenAttr.UNKNOWN)) !== 0;
  }

  isEog(id: number): boolean {
    return this.vocab.eog.has(id);
  }

  createStreamDecoder(opts: StreamDecoderOptions = {}): StreamDecoder {
    return this.detok.stream(opts.skipSpecial ?? false);
  }
}
