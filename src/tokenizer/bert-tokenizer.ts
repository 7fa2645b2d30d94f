/**
 * BertTokenizer: special-token matching → BasicTokenizer → WordPiece →
 * `[CLS] A [SEP] (B [SEP])`, with token type ids, attention mask, longest-first
 * truncation and padding. Ids equal HuggingFace's Rust tokenizers' ids for a
 * BertWordPieceTokenizer-style tokenizer.json over the same vocab.
 *
 * Speed: the text is cut at whitespace into chunks; the ids of a chunk depend
 * only on the chunk (every normalization step is per character, and NFD never
 * reorders across a whitespace starter), so chunk → ids is cached and a warm
 * encoder does one Map lookup per whitespace-separated chunk.
 */
import type { TokenId } from '../data/types.js';
import { BasicTokenizer } from './basic.js';
import { SPACE, charClass } from './chars.js';
import { SPECIAL_TOKENS, Vocab, loadVocab } from './vocab.js';
import { WordPiece } from './wordpiece.js';

export interface BertTokenizerOptions {
  /** Lower-case and strip accents (uncased vocabularies). */
  lowercase: boolean;
  /** Override accent stripping (default: same as `lowercase`). */
  stripAccents?: boolean;
  handleChineseChars?: boolean;
  maxInputCharsPerWord?: number;
  /** Tokens matched literally in raw text, before normalization (default: [PAD] [UNK] [CLS] [SEP] [MASK]). */
  specialTokens?: readonly string[];
}

export interface EncodeOptions {
  /** Add [CLS]/[SEP] (default true). */
  addSpecialTokens?: boolean;
  /** Truncate (longest first) to this many tokens, special tokens included. */
  maxLength?: number;
  /** Pad with [PAD] to `maxLength` (requires maxLength). */
  padding?: boolean;
}

export interface Encoding {
  ids: TokenId[];
  tokenTypeIds: number[];
  attentionMask: number[];
}

const CACHE_LIMIT = 1 << 19;
const MAX_CACHED_CHUNK = 64;

export class BertTokenizer {
  readonly vocab: Vocab;
  readonly basic: BasicTokenizer;
  readonly wordpiece: WordPiece;
  readonly lowercase: boolean;
  readonly padId: TokenId;
  readonly unkId: TokenId;
  readonly clsId: TokenId;
  readonly sepId: TokenId;
  readonly maskId: TokenId;
  private readonly specials: { re: RegExp; firstChars: string[] } | null;
  private cache = new Map<string, TokenId | TokenId[]>();
  private readonly scratch: TokenId[] = [];

  constructor(vocab: Vocab, options: BertTokenizerOptions) {
    this.vocab = vocab;
    this.lowercase = options.lowercase;
    this.basic = new BasicTokenizer(options);
    this.wordpiece = new WordPiece(vocab, { maxInputCharsPerWord: options.maxInputCharsPerWord });
    const need = (t: string): TokenId => {
      const id = vocab.id(t);
      if (id === undefined) throw new Error(`BertTokenizer: vocabulary has no ${t}`);
      return id;
    };
    this.padId = need('[PAD]');
    this.unkId = need('[UNK]');
    this.clsId = need('[CLS]');
    this.sepId = need('[SEP]');
    this.maskId = need('[MASK]');
    const specials = (options.specialTokens ?? SPECIAL_TOKENS).filter(
      (t) => vocab.has(t) && t.length > 0,
    );
    if (specials.length === 0) this.specials = null;
    else {
      // Longest first, so the alternation matches leftmost-longest like HF's Aho-Corasick.
      const sorted = [...specials].sort((a, b) => b.length - a.length);
      const re = new RegExp(sorted.map(escapeRegExp).join('|'), 'gu');
      this.specials = { re, firstChars: [...new Set(sorted.map((t) => t[0]!))] };
    }
  }

  static fromVocabFile(path: string, options: BertTokenizerOptions): BertTokenizer {
    return new BertTokenizer(loadVocab(path), options);
  }

  /** Append the ids of `text` (no [CLS]/[SEP]) to `out`; returns how many were appended. */
  appendIds(text: string, out: TokenId[]): number {
    const before = out.length;
    const sp = this.specials;
    if (sp !== null && sp.firstChars.some((c) => text.includes(c))) {
      sp.re.lastIndex = 0;
      let last = 0;
      for (let m = sp.re.exec(text); m !== null; m = sp.re.exec(text)) {
        if (m.index > last) this.appendPlain(text.slice(last, m.index), out);
        out.push(this.vocab.id(m[0])!);
        last = m.index + m[0].length;
      }
      if (last < text.length) this.appendPlain(last === 0 ? text : text.slice(last), out);
    } else {
      this.appendPlain(text, out);
    }
    return out.length - before;
  }

  /** Ids of text without special-token matching. */
  private appendPlain(text: string, out: TokenId[]): void {
    const n = text.length;
    const cache = this.cache;
    let i = 0;
    while (i < n) {
      let c = text.charCodeAt(i);
      if (c === 32 || (c < 128 ? c === 10 || c === 9 || c === 13 : isSpace(c))) {
        i++;
        continue;
      }
      const start = i;
      i++;
      while (i < n) {
        c = text.charCodeAt(i);
        if (c === 32 || (c < 128 ? c === 10 || c === 9 || c === 13 : isSpace(c))) break;
        i++;
      }
      const chunk = text.slice(start, i);
      let ids = cache.get(chunk);
      if (ids === undefined) {
        ids = this.chunkIds(chunk);
        if (chunk.length <= MAX_CACHED_CHUNK) {
          if (cache.size >= CACHE_LIMIT) cache.clear();
          cache.set(chunk, ids);
        }
      }
      if (typeof ids === 'number') out.push(ids);
      else for (let k = 0; k < ids.length; k++) out.push(ids[k]!);
    }
  }

  /** The uncached path: BasicTokenizer then WordPiece on one whitespace-free chunk. */
  private chunkIds(chunk: string): TokenId | TokenId[] {
    const tmp = this.scratch;
    tmp.length = 0;
    for (const word of this.basic.tokenize(chunk)) this.wordpiece.tokenizeWord(word, tmp);
    return tmp.length === 1 ? tmp[0]! : tmp.slice();
  }

  /** Ids of `text` without special tokens. */
  tokenizeToIds(text: string): TokenId[] {
    const out: TokenId[] = [];
    this.appendIds(text, out);
    return out;
  }

  /** WordPiece tokens of `text` (no [CLS]/[SEP]). */
  tokenize(text: string): string[] {
    return this.idsToTokens(this.tokenizeToIds(text));
  }

  idsToTokens(ids: readonly TokenId[]): string[] {
    return ids.map((id) => this.vocab.tokens[id] ?? '[UNK]');
  }

  /** Encode a sentence or a pair for the model. */
  encode(text: string, pair?: string | null, options: EncodeOptions = {}): Encoding {
    let a = this.tokenizeToIds(text);
    let b = pair === undefined || pair === null ? null : this.tokenizeToIds(pair);
    const special = options.addSpecialTokens ?? true;
    if (options.maxLength !== undefined) {
      const budget = options.maxLength - (special ? (b === null ? 2 : 3) : 0);
      [a, b] = truncateSeqPair(a, b, Math.max(0, budget));
    }
    const ids: TokenId[] = [];
    const tokenTypeIds: number[] = [];
    if (special) ids.push(this.clsId);
    for (const id of a) ids.push(id);
    if (special) ids.push(this.sepId);
    for (let k = 0; k < ids.length; k++) tokenTypeIds.push(0);
    if (b !== null) {
      for (const id of b) ids.push(id);
      if (special) ids.push(this.sepId);
      while (tokenTypeIds.length < ids.length) tokenTypeIds.push(1);
    }
    const attentionMask = ids.map(() => 1);
    if (options.padding && options.maxLength !== undefined) {
      while (ids.length < options.maxLength) {
        ids.push(this.padId);
        tokenTypeIds.push(0);
        attentionMask.push(0);
      }
    }
    return { ids, tokenTypeIds, attentionMask };
  }
}

/**
 * Longest-first truncation as HF's Rust tokenizers do it: the shorter
 * sequence keeps all its tokens if the longer can take the rest of the
 * budget; otherwise both get half (the longer one the odd token). (BERT's
 * Python `_truncate_seq_pair` pops one token at a time and, on odd budgets,
 * favours A instead; HF parity is what this module promises.)
 */
export function truncateSeqPair(
  a: TokenId[],
  b: TokenId[] | null,
  maxTokens: number,
): [TokenId[], TokenId[] | null] {
  if (b === null) return [a.length > maxTokens ? a.slice(0, maxTokens) : a, null];
  if (a.length + b.length <= maxTokens) return [a, b];
  const swap = a.length > b.length;
  let short = swap ? b.length : a.length;
  let long = swap ? a.length : b.length;
  long = short > maxTokens ? short : Math.max(short, maxTokens - short);
  if (short + long > maxTokens) {
    short = Math.floor(maxTokens / 2);
    long = short + (maxTokens % 2);
  }
  const na = swap ? long : short;
  const nb = swap ? short : long;
  return [a.slice(0, na), b.slice(0, nb)];
}

function isSpace(c: number): boolean {
  return c === 0xa0 || (c >= 0x1680 && c <= 0x3000 && (charClass(c) & SPACE) !== 0);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
