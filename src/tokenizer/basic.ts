/**
 * BERT's BasicTokenizer, split the way HuggingFace's Rust tokenizers split it:
 * `normalize` is BertNormalizer (clean text, CJK padding, NFD accent strip,
 * lower-casing) and `preTokenize` is BertPreTokenizer (whitespace split, every
 * punctuation character a word of its own).
 */
import {
  ASCII_CLASS,
  CJK,
  MARK,
  PUNCT,
  REMOVE,
  SPACE,
  charClass,
  lowerCodePoint,
} from './chars.js';

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
    return this.asciiWords(text) ?? this.preTokenize(this.normalize(text));
  }

  /**
   * The same for pure-ASCII text without allocating per character: ASCII has
   * no accents, CJK or decompositions, so normalization is lower-casing and
   * dropping controls. Null if `text` has a non-ASCII character.
   */
  private asciiWords(text: string): string[] | null {
    const n = text.length;
    let clean = true;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 128) return null;
      if (ASCII_CLASS[c]! & REMOVE) clean = false;
    }
    if (!clean) return null;
    const s = this.lowercase ? text.toLowerCase() : text;
    const words: string[] = [];
    let start = 0;
    for (let i = 0; i < n; i++) {
      const cls = ASCII_CLASS[s.charCodeAt(i)]!;
      if (cls & (SPACE | PUNCT)) {
        if (i > start) words.push(s.slice(start, i));
        if (cls & PUNCT) words.push(s[i]!);
        start = i + 1;
      }
    }
    if (n > start) words.push(start === 0 ? s : s.slice(start));
    return words;
  }
}
