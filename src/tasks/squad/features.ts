/**
 * SQuAD examples → model windows (google-research/bert run_squad.py's
 * features): `[CLS] question [SEP] context window [SEP]`, the question cut
 * to max_query_length pieces, the context covered by windows of at most
 * max_seq_length tokens that start doc_stride pieces apart. Each window
 * remembers which context piece every position holds (for mapping spans
 * back to text) and where it is the piece's "max context" window.
 */
import type { BertTokenizer } from '../../tokenizer/bert-tokenizer.js';
import { tokenizeWithOffsets, type PieceOffsets } from '../../tokenizer/offsets.js';
import type { SquadExample } from './data.js';

export interface SquadFeatureOptions {
  maxSeqLength: number;
  docStride: number;
  maxQueryLength: number;
}

export interface SquadFeature {
  /** Index of the example in the input list. */
  example: number;
  ids: Int32Array;
  typeIds: Int32Array;
  /** Per position: the context piece index, or −1 (question, specials). */
  pieceIndex: Int32Array;
  /** Per position: true where this window gives the piece the most context on both sides. */
  maxContext: Uint8Array;
  /** Training target (position of the first answer), 0/0 = [CLS] when the window misses it. */
  startPosition: number;
  endPosition: number;
}

/** Context pieces with offsets, cached per paragraph (its questions share it). */
export class ContextCache {
  private readonly cache = new Map<string, PieceOffsets>();
  constructor(private readonly tokenizer: BertTokenizer) {}
  get(context: string): PieceOffsets {
    let p = this.cache.get(context);
    if (!p) {
      p = tokenizeWithOffsets(this.tokenizer, context);
      this.cache.set(context, p);
    }
    return p;
  }
}

/** The context pieces [start, end] (inclusive) covering a character range, or null if none does. */
export function charSpanToPieces(
  pieces: PieceOffsets,
  charStart: number,
  charEnd: number,
): { start: number; end: number } | null {
  let start = -1;
  let end = -1;
  for (let i = 0; i < pieces.ids.length; i++) {
    if (start < 0 && pieces.ends[i] > charStart) start = i;
    if (pieces.starts[i] < charEnd) end = i;
  }
  if (start < 0 || end < start) return null;
  return { start, end };
}

/** The original text of context pieces [start, end] (inclusive). */
export function piecesToText(
  context: string,
  pieces: PieceOffsets,
  start: number,
  end: number,
): string {
  return context.slice(pieces.starts[start], pieces.ends[end]);
}

/** Window start offsets (in context pieces) covering `n` pieces. */
export function windowStarts(n: number, maxContext: number, docStride: number): number[] {
  const starts: number[] = [];
  let start = 0;
  for (;;) {
    starts.push(start);
    if (start + maxContext >= n) break;
    start += Math.min(maxContext, docStride);
  }
  return starts;
}

/** Features of every example; `cache` lets callers keep paragraph tokenisations (e.g. for post-processing). */
export function squadFeatures(
  tokenizer: BertTokenizer,
  examples: readonly SquadExample[],
  options: SquadFeatureOptions,
  cache = new ContextCache(tokenizer),
): SquadFeature[] {
  const out: SquadFeature[] = [];
  examples.forEach((ex, e) => {
    const question = tokenizer.tokenizeToIds(ex.question).slice(0, options.maxQueryLength);
    const pieces = cache.get(ex.context);
    const n = pieces.ids.length;
    const maxContext = options.maxSeqLength - question.length - 3;
    if (maxContext < 1) throw new Error('max_seq_length leaves no room for the context');
    const starts = windowStarts(n, maxContext, options.docStride);
    const answer = ex.answers[0];
    const span = answer
      ? charSpanToPieces(pieces, answer.start, answer.start + answer.text.length)
      : null;
    for (const ws of starts) {
      const len = Math.min(maxContext, n - ws);
      const offset = question.length + 2;
      const T = offset + len + 1;
      const ids = new Int32Array(T);
      const typeIds = new Int32Array(T);
      const pieceIndex = new Int32Array(T).fill(-1);
      const maxCtx = new Uint8Array(T);
      ids[0] = tokenizer.clsId;
      ids.set(question, 1);
      ids[question.length + 1] = tokenizer.sepId;
      for (let i = 0; i < len; i++) {
        const p = ws + i;
        ids[offset + i] = pieces.ids[p];
        typeIds[offset + i] = 1;
        pieceIndex[offset + i] = p;
        maxCtx[offset + i] = isMaxContext(starts, maxContext, n, ws, p) ? 1 : 0;
      }
      ids[T - 1] = tokenizer.sepId;
      typeIds[T - 1] = 1;
      let startPosition = 0;
      let endPosition = 0;
      if (span && span.start >= ws && span.end < ws + len) {
        startPosition = offset + span.start - ws;
        endPosition = offset + span.end - ws;
      }
      out.push({
        example: e,
        ids,
        typeIds,
        pieceIndex,
        maxContext: maxCtx,
        startPosition,
        endPosition,
      });
    }
  });
  return out;
}

/**
 * run_squad.py's _check_is_max_context: of the windows holding piece `p`,
 * the one whose min(left context, right context) + 0.01·length is largest.
 */
function isMaxContext(
  starts: readonly number[],
  maxContext: number,
  n: number,
  current: number,
  p: number,
): boolean {
  let bestScore = -Infinity;
  let best = -1;
  for (const ws of starts) {
    const len = Math.min(maxContext, n - ws);
    const end = ws + len - 1;
    if (p < ws || p > end) continue;
    const score = Math.min(p - ws, end - p) + 0.01 * len;
    if (score > bestScore) {
      bestScore = score;
      best = ws;
    }
  }
  return best === current;
}
