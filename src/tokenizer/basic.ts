/**
 * BERT's BasicTokenizer, split the way HuggingFace's Rust tokenizers split it:
 * `normalize` is BertNormalizer (clean text, CJK padding, NFD accent strip,
 * lower-casing) and `preTokenize` is BertPreTokenizer (whitespace split, every
 * punctuation character a word of its own).
 */
import { CJK, MARK, PUNCT, REMOVE, SPACE, charClass, lowerCodePoint } from './chars.js';

export interface BasicTokenizerOptions {
  /** Lower-case the text (uncased vocabularies). */
  lowercase: boolean;
  /** Strip accents (NFD, drop Mn). Defaults to `lowercase`, as in BERT and HF. */
  stripAccents?: boolean;
  /** Put CJK ideographs in words of their own (default true). */
  handleChineseChars?: boolean;
}

export class BasicTokenizer {
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  readonly handleChineseChars: boolean;

  constructor(options: BasicTokenizerOptions) {
    this.lowercase = options.lowercase;
    this.stripAccents = options.stripAccents ?? options.lowercase;
    this.handleChineseChars = options.handleChineseChars ?? true;
  }

  /** BertNormalizer: the normalized text, before any splitting. */
  normalize(text: string): string {
    let out = '';
    for (const ch of text) {
      const cls = charClass(ch.codePointAt(0)!);
      if (cls & REMOVE) continue;
      if (cls & SPACE) out += ' ';
      else if (cls & CJK && this.handleChineseChars) out += ' ' + ch + ' ';
      else out += ch;
    }
    if (this.stripAccents) {
      const nfd = out.normalize('NFD');
      out = '';
      for (const ch of nfd) if (!(charClass(ch.codePointAt(0)!) & MARK)) out += ch;
    }
    if (this.lowercase) {
      let lower = '';
      for (const ch of out) lower += lowerCodePoint(ch.codePointAt(0)!);
      out = lower;
    }
    return out;
  }

  /** BertPreTokenizer: split normalized text on whitespace and around punctuation. */
  preTokenize(normalized: string): string[] {
    const words: string[] = [];
    let word = '';
    for (const ch of normalized) {
      const cls = charClass(ch.codePointAt(0)!);
      if (cls & SPACE) {
        if (word) words.push(word);
        word = '';
      } else if (cls & PUNCT || (cls & CJK && this.handleChineseChars)) {
        if (word) words.push(word);
        words.push(ch);
        word = '';
      } else {
        word += ch;
      }
    }
    if (word) words.push(word);
    return words;
  }

  /** The words of `text` (normalize, then pre-tokenize). */
  tokenize(text: string): string[] {
    return this.preTokenize(this.normalize(text));
  }
}
