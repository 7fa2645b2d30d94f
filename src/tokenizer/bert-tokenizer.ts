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
import { isSpaceCode as isSpace } from './chars.js';
import { SPECIAL_TOKENS, Vocab, loadVocab } from './vocab.js';
import { WordPiece } from './wordpiece.js';
import { ChunkCache, HASH_SEED, hashStep } from './chunk-cache.js';

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
  private readonly cache = new ChunkCache();
  private readonly wordCache = new Map<string, TokenId | TokenId[]>();
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
      let h = hashStep(HASH_SEED, c);
      i++;
      while (i < n) {
        c = text.charCodeAt(i);
        if (c === 32 || (c < 128 ? c === 10 || c === 9 || c === 13 : isSpace(c))) break;
        h = hashStep(h, c);
        i++;
      }
      let e = i - start <= MAX_CACHED_CHUNK ? cache.find(text, start, i, h) : -1;
      if (e < 0) {
        const chunk = text.slice(start, i);
        const ids = this.chunkIds(chunk);
        if (chunk.length > MAX_CACHED_CHUNK) {
          for (let k = 0; k < ids.length; k++) out.push(ids[k]!);
          continue;
        }
        cache.add(chunk, h, ids);
        e = cache.find(text, start, i, h);
      }
      const pool = cache.ids;
      const s = cache.idsStart(e);
      const end = s + cache.idsLength(e);
      for (let k = s; k < end; k++) out.push(pool[k]!);
    }
  }

  /** The uncached path: BasicTokenizer then WordPiece on one whitespace-free chunk. */
  private chunkIds(chunk: string): TokenId[] {
    const tmp = this.scratch;
    tmp.length = 0;
    const words = this.wordCache;
    for (const word of this.basic.tokenize(chunk)) {
      const ids = words.get(word);
      if (ids === undefined) {
        const at = tmp.length;
        this.wordpiece.tokenizeWord(word, tmp);
        if (words.size >= 1 << 18) words.clear();
        words.set(word, tmp.length - at === 1 ? tmp[at]! : tmp.slice(at));
      } else if (typeof ids === 'number') tmp.push(ids);
      else for (let k = 0; k < ids.length; k++) tmp.push(ids[k]!);
    }
    return tmp;
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
    const special = options.addSpecialTokens ?? true;
    const hasPair = pair !== undefined && pair !== null;
    let ids: TokenId[];
    let lengthA: number;
    if (options.maxLength === undefined) {
      // Fast path: append straight into the output.
      ids = special ? [this.clsId] : [];
      this.appendIds(text, ids);
      if (special) ids.push(this.sepId);
      lengthA = ids.length;
      if (hasPair) {
        this.appendIds(pair, ids);
        if (special) ids.push(this.sepId);
      }
    } else {
      const budget = options.maxLength - (special ? (hasPair ? 3 : 2) : 0);
      const [a, b] = truncateSeqPair(
        this.tokenizeToIds(text),
        hasPair ? this.tokenizeToIds(pair) : null,
        Math.max(0, budget),
      );
      ids = special ? [this.clsId, ...a, this.sepId] : [...a];
      lengthA = ids.length;
      if (b !== null) {
        for (const id of b) ids.push(id);
        if (special) ids.push(this.sepId);
      }
    }
    const n = ids.length;
    const tokenTypeIds = new Array<number>(n).fill(0, 0, lengthA).fill(1, lengthA);
    const attentionMask = new Array<number>(n).fill(1);
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

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
