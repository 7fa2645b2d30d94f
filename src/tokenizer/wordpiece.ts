/**
 * WordPiece (Schuster & Nakajima; google-research/bert `WordpieceTokenizer`):
 * greedy longest-match-first over a vocabulary, continuation pieces prefixed
 * with `##`, and the whole word becomes [UNK] if any part cannot be matched
 * or it is longer than `maxInputCharsPerWord` characters.
 */
import type { TokenId } from '../data/types.js';
import type { Vocab } from './vocab.js';

export interface WordPieceOptions {
  unkToken?: string;
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
}

export class WordPiece {
  readonly vocab: Vocab;
  readonly unkId: TokenId;
  readonly prefix: string;
  readonly maxInputCharsPerWord: number;
  /** Longest token (UTF-16 units, prefix removed): no match can be longer. */
  private readonly maxPieceLength: number;

  constructor(vocab: Vocab, options: WordPieceOptions = {}) {
    this.vocab = vocab;
    const unk = options.unkToken ?? '[UNK]';
    const unkId = vocab.id(unk);
    if (unkId === undefined) throw new Error(`WordPiece: vocabulary has no ${unk}`);
    this.unkId = unkId;
    this.prefix = options.continuingSubwordPrefix ?? '##';
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    let longest = 1;
    for (const t of vocab.tokens) {
      const len = t.startsWith(this.prefix) ? t.length - this.prefix.length : t.length;
      if (len > longest) longest = len;
    }
    this.maxPieceLength = longest;
  }

  /** Append the ids of one (normalized, pre-tokenized) word to `out`. */
  tokenizeWord(word: string, out: TokenId[]): void {
    const n = word.length;
    // The limit counts characters (code points), as HF does.
    if (n > this.maxInputCharsPerWord && codePointLength(word) > this.maxInputCharsPerWord) {
      out.push(this.unkId);
      return;
    }
    const map = this.vocab.map;
    const mark = out.length;
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.maxPieceLength);
      let found: number | undefined;
      while (end > start) {
        // Never cut a surrogate pair in two.
        const last = word.charCodeAt(end - 1);
        if (last >= 0xd800 && last <= 0xdbff && end < n) {
          end--;
          continue;
        }
        const piece = start > 0 ? this.prefix + word.slice(start, end) : word.slice(start, end);
        found = map.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) {
        out.length = mark;
        out.push(this.unkId);
        return;
      }
      out.push(found);
      start = end;
    }
  }
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}
