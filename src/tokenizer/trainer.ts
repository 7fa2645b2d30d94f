/**
 * WordPiece vocabulary training the way HuggingFace's `WordPieceTrainer`
 * (`BertWordPieceTokenizer.train`) does it: count the words that
 * BertNormalizer + BertPreTokenizer produce, start from the special tokens and
 * the alphabet (the `limit_alphabet` most frequent characters; every
 * non-initial character also as `##c`), then repeatedly merge the most
 * frequent adjacent pair of symbols (BPE) until the vocabulary has
 * `vocabSize` tokens or the best pair is rarer than `minFrequency`. A merge of
 * `a` and `##b` is the token `ab`; of `##a` and `##b`, `##ab`.
 */
import { BasicTokenizer } from './basic.js';
import { isSpaceCode } from './chars.js';
import { SPECIAL_TOKENS, Vocab } from './vocab.js';

export interface WordPieceTrainerOptions {
  vocabSize: number;
  /** Pairs seen fewer times than this are never merged (HF default 0; BertWordPieceTokenizer 2). */
  minFrequency: number;
  /** Keep at most this many distinct characters (the most frequent); undefined = all. */
  limitAlphabet?: number;
  specialTokens?: readonly string[];
  continuingSubwordPrefix?: string;
  /** Called now and then with the vocabulary size reached so far. */
  onProgress?: (size: number) => void;
}

/**
 * Counts words of raw text as BertNormalizer + BertPreTokenizer split them.
 * Whitespace-separated chunks are counted first (cheap), and each distinct
 * chunk is normalized and split once.
 */
export class WordCounter {
  private readonly chunks = new Map<string, number>();
  private readonly basic: BasicTokenizer;

  constructor(lowercase: boolean) {
    this.basic = new BasicTokenizer({ lowercase });
  }

  /** Count the words of `text` (any number of lines). */
  add(text: string): void {
    const chunks = this.chunks;
    const n = text.length;
    let i = 0;
    while (i < n) {
      let c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 9 || c === 13 || (c > 127 && isSpaceCode(c))) {
        i++;
        continue;
      }
      const start = i;
      while (i < n) {
        c = text.charCodeAt(i);
        if (c === 32 || c === 10 || c === 9 || c === 13 || (c > 127 && isSpaceCode(c))) break;
        i++;
      }
      const chunk = text.slice(start, i);
      chunks.set(chunk, (chunks.get(chunk) ?? 0) + 1);
    }
  }

  /** Word → count. */
  words(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [chunk, count] of this.chunks) {
      for (const w of this.basic.tokenize(chunk)) out.set(w, (out.get(w) ?? 0) + count);
    }
    return out;
  }
}

/** Max-heap entry: a pair of symbol ids and the count it had when pushed. */
interface HeapItem {
  key: number;
  count: number;
}

/** HF's Merge order: higher count first; on ties the smaller pair (a, then b) first. */
function before(x: HeapItem, y: HeapItem): boolean {
  return x.count !== y.count ? x.count > y.count : x.key < y.key;
}

class PairHeap {
  private readonly items: HeapItem[] = [];
  get size(): number {
    return this.items.length;
  }
  push(item: HeapItem): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): HeapItem | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

// Pair keys pack two symbol ids; ids stay below 2^24, so keys stay exact doubles.
const PAIR_BASE = 1 << 24;

/** Train a WordPiece vocabulary from word counts. */
export function trainWordPiece(
  wordCounts: ReadonlyMap<string, number>,
  options: WordPieceTrainerOptions,
): Vocab {
  const prefix = options.continuingSubwordPrefix ?? '##';
  const specials = options.specialTokens ?? SPECIAL_TOKENS;
  const tokens: string[] = [];
  const ids = new Map<string, number>();
  const addToken = (t: string): number => {
    let id = ids.get(t);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(t);
      ids.set(t, id);
    }
    return id;
  };
  for (const s of specials) addToken(s);

  // Alphabet: character frequencies weighted by word counts; keep the most frequent.
  const charCounts = new Map<string, number>();
  for (const [w, c] of wordCounts)
    for (const ch of w) charCounts.set(ch, (charCounts.get(ch) ?? 0) + c);
  let alphabet = [...charCounts.entries()];
  if (options.limitAlphabet !== undefined && alphabet.length > options.limitAlphabet) {
    alphabet.sort((x, y) => y[1] - x[1] || cmpCodePoint(x[0], y[0]));
    alphabet = alphabet.slice(0, options.limitAlphabet);
  }
  alphabet.sort((x, y) => cmpCodePoint(x[0], y[0]));
  const kept = new Set(alphabet.map(([ch]) => ch));
  for (const [ch] of alphabet) addToken(ch);

  // Words as symbol-id sequences; characters outside the alphabet are dropped, as HF does.
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of wordCounts) {
    const syms: number[] = [];
    let first = true;
    for (const ch of w) {
      if (kept.has(ch)) syms.push(addToken(first ? ch : prefix + ch));
      first = false;
    }
    words.push(syms);
    counts.push(c);
  }

  // Pair counts and where each pair occurs.
  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: number, touched: Set<number> | null): void => {
    const syms = words[w]!;
    const c = counts[w]! * sign;
    for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i]! * PAIR_BASE + syms[i + 1]!;
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + c);
      if (sign > 0) {
        let set = where.get(key);
        if (set === undefined) where.set(key, (set = new Set()));
        set.add(w);
        touched?.add(key);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1, null);
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) if (count > 0) heap.push({ key, count });

  const minFrequency = options.minFrequency;
  while (tokens.length < options.vocabSize && heap.size > 0) {
    const top = heap.pop()!;
    const current = pairCounts.get(top.key) ?? 0;
    if (current !== top.count) {
      // Stale entry (counts changed since it was pushed): re-queue with the true count.
      if (current > 0) heap.push({ key: top.key, count: current });
      continue;
    }
    if (current < 1 || current < minFrequency) break;
    const a = Math.floor(top.key / PAIR_BASE);
    const b = top.key % PAIR_BASE;
    const ta = tokens[a]!;
    const tb = tokens[b]!;
    const merged = addToken(ta + (tb.startsWith(prefix) ? tb.slice(prefix.length) : tb));
    if (options.onProgress && tokens.length % 1000 === 0) options.onProgress(tokens.length);
    const touched = new Set<number>();
    for (const w of where.get(top.key) ?? []) {
      const syms = words[w]!;
      let has = false;
      for (let i = 0; i + 1 < syms.length; i++) {
        if (syms[i] === a && syms[i + 1] === b) {
          has = true;
          break;
        }
      }
      if (!has) continue;
      addPairs(w, -1, null);
      const next: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(syms[i]!);
      }
      words[w] = next;
      addPairs(w, 1, touched);
    }
    where.delete(top.key);
    pairCounts.delete(top.key);
    for (const key of touched) {
      const c = pairCounts.get(key) ?? 0;
      if (c > 0) heap.push({ key, count: c });
    }
  }
  return new Vocab(tokens);
}

function cmpCodePoint(x: string, y: string): number {
  return x.codePointAt(0)! - y.codePointAt(0)!;
}
