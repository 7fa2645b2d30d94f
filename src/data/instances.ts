/**
 * Next-sentence-prediction pairs, after google-research/bert
 * `create_pretraining_data.py` (`create_instances_from_document`,
 * `truncate_seq_pair`).
 *
 * An instance is first planned as a *recipe* — which sentences of which
 * documents form segments A and B and how many tokens truncation removes at
 * each end — because those decisions depend only on sentence lengths. An
 * epoch's plan is a flat Int32Array of recipes (a few words per instance, not
 * the tokens), shuffled as a whole like the reference shuffles its instances;
 * `materializeInstance` copies the tokens of one recipe when a batch needs it.
 *
 * Differences from the reference, on purpose:
 * - The short target length (`short_seq_prob`) is drawn afresh for every
 *   instance. The reference draws it once per document, which with whole
 *   books as documents would make every instance of 10% of the books short.
 * - A chunk of one sentence gets the next sentence as its IsNext segment B
 *   when the coin says IsNext (the reference forces NotNext, which biases
 *   the 50/50 split; only a document's last sentence is still forced).
 * - The NotNext document is drawn uniformly from the *other* documents (the
 *   reference retries 10 times and can fall back to the same document).
 *
 * With `pairing: 'sop'` (ALBERT's sentence-order prediction, `train.objective:
 * mlm+sop`) the same chunks give the pairs, B never comes from another
 * document: the coin swaps A and B instead (label 1 = swapped). A one-sentence
 * chunk always takes the next sentence, and a document's lone last sentence
 * gives no pair.
 *
 * With `pairing: 'nsp+sop'` (`train.objective: mlm+nsp+sop`) the labels are
 * NSP's, and a second coin makes half of the NotNext pairs the chunk's own
 * pair swapped instead of B from another document: 50% in order, 25% from
 * another document, 25% swapped (where the chunk has nothing to swap, the
 * NotNext pair takes another document).
 */
import type { DocumentSource, Sentence, TokenId } from './types.js';
import { Rng } from './rng.js';

/** Stream keys for `Rng.derive(seed, key, ...)`: one per kind of random decision. */
export const RNG_STREAM = { split: 1, instances: 2, shuffle: 3, masking: 4, packing: 5 } as const;

/** Fields of one recipe in an `EpochPlan` (stride = RECIPE_FIELDS). */
const F = {
  docA: 0,
  aStart: 1, // first sentence of A
  aEnd: 2, // one past the last sentence of A
  aTrimFront: 3,
  aTrimBack: 4,
  docB: 5,
  bStart: 6,
  bEnd: 7,
  bTrimFront: 8,
  bTrimBack: 9,
  isRandomNext: 10,
} as const;
export const RECIPE_FIELDS = 11;

export interface InstanceRecipe {
  docA: number;
  aStart: number;
  aEnd: number;
  aTrimFront: number;
  aTrimBack: number;
  docB: number;
  bStart: number;
  bEnd: number;
  bTrimFront: number;
  bTrimBack: number;
  isRandomNext: boolean;
}

/** One NSP pair with its tokens: `[CLS] A [SEP] B [SEP]`, before masking. */
export interface TrainingInstance {
  /** Token ids including [CLS] and the two [SEP]. */
  tokens: Int32Array;
  /** 0 for [CLS] A [SEP], 1 for B [SEP]. */
  tokenTypeIds: Int32Array;
  /** Label 1: B was drawn from another document (NSP: NotNext), or A and B are swapped (SOP). */
  isRandomNext: boolean;
  /** Document ids of A and B (for checks and `data inspect`). */
  docA: number;
  docB: number;
}

export interface InstanceShape {
  max_seq_length: number;
  short_seq_prob: number;
}

/**
 * The sentence-pair task the instances are labelled for: next-sentence (BERT),
 * sentence-order (ALBERT) prediction, or NSP whose NotNext pairs are half
 * swapped pairs of one document.
 */
export type SentencePairTask = 'nsp' | 'sop' | 'nsp+sop';

export interface TruncationResult {
  aTrimFront: number;
  aTrimBack: number;
  bTrimFront: number;
  bTrimBack: number;
}

/**
 * `truncate_seq_pair`: while the pair is longer than `maxNumTokens`, drop one
 * token from the longer segment (B on ties), from the front or the back with
 * equal probability. Returns how many tokens go from each end.
 */
export function truncateSeqPair(
  lenA: number,
  lenB: number,
  maxNumTokens: number,
  rng: Rng,
): TruncationResult {
  const t: TruncationResult = { aTrimFront: 0, aTrimBack: 0, bTrimFront: 0, bTrimBack: 0 };
  while (lenA + lenB > maxNumTokens) {
    const front = rng.random() < 0.5;
    if (lenA > lenB) {
      lenA--;
      if (front) t.aTrimFront++;
      else t.aTrimBack++;
    } else {
      lenB--;
      if (front) t.bTrimFront++;
      else t.bTrimBack++;
    }
  }
  return t;
}

/** Token counts of a document's sentences. */
export function sentenceLengths(sentences: readonly Sentence[]): Int32Array {
  const out = new Int32Array(sentences.length);
  for (let i = 0; i < sentences.length; i++) out[i] = sentences[i].length;
  return out;
}

/** Lengths of every document's sentences, computed once per source and reused. */
export type LengthTable = (doc: number) => Int32Array;

export function lengthTable(source: DocumentSource): LengthTable {
  const cache = new Map<number, Int32Array>();
  return (doc) => {
    let l = cache.get(doc);
    if (!l) {
      l = sentenceLengths(source.document(doc));
      cache.set(doc, l);
    }
    return l;
  };
}

function sumRange(lengths: Int32Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += lengths[i];
  return s;
}

/**
 * `create_instances_from_document`: cut document `docIndex` into chunks of
 * consecutive sentences up to a target length, split each chunk into A and B
 * at a random sentence boundary, and with probability 0.5 replace B by a
 * random stretch of another document from `randomDocs` (ascending ids),
 * putting the unused sentences of the chunk back.
 */
export function createInstancesFromDocument(
  lengths: LengthTable,
  docIndex: number,
  randomDocs: Int32Array,
  shape: InstanceShape,
  rng: Rng,
  emit: (recipe: InstanceRecipe) => void,
  pairing: SentencePairTask = 'nsp',
): void {
  const doc = lengths(docIndex);
  const maxNumTokens = shape.max_seq_length - 3; // [CLS], [SEP], [SEP]
  const drawTarget = (): number =>
    rng.random() < shape.short_seq_prob ? rng.randint(2, maxNumTokens) : maxNumTokens;
  let target = drawTarget();
  let chunkStart = 0;
  let currentLength = 0;
  for (let i = 0; i < doc.length; i++) {
    currentLength += doc[i];
    if (i !== doc.length - 1 && currentLength < target) continue;
    let chunkLen = i + 1 - chunkStart;
    const coinSaysRandom = rng.random() < 0.5;
    // nsp+sop: a second coin turns half of the NotNext pairs into swapped ones, where there is something to swap.
    const swapInstead =
      pairing === 'nsp+sop' && coinSaysRandom && (chunkLen >= 2 || i + 1 < doc.length) && rng.random() < 0.5;
    let pair: PairRanges;
    if (pairing === 'sop' || swapInstead) {
      if (chunkLen === 1) {
        if (i + 1 >= doc.length) break; // a document's lone last sentence: nothing to order it against
        i++;
        chunkLen = 2;
      }
      const split = chunkStart + rng.randint(1, chunkLen - 1);
      const swapped = coinSaysRandom;
      pair = swapped
        ? { docA: docIndex, aStart: split, aEnd: i + 1, docB: docIndex, bStart: chunkStart, bEnd: split, isRandomNext: true }
        : { docA: docIndex, aStart: chunkStart, aEnd: split, docB: docIndex, bStart: split, bEnd: i + 1, isRandomNext: false };
    } else {
      if (chunkLen === 1 && !coinSaysRandom && i + 1 < doc.length) {
        // A one-sentence chunk has no continuation inside it; take the next
        // sentence as B rather than forcing NotNext, which would tilt the
        // IsNext/NotNext balance away from 50/50 (short targets make such
        // chunks common).
        i++;
        chunkLen = 2;
      }
      // `aCount` chunk sentences go to A.
      const aCount = chunkLen >= 2 ? rng.randint(1, chunkLen - 1) : 1;
      const aStart = chunkStart;
      const aEnd = chunkStart + aCount;
      const lenA = sumRange(doc, aStart, aEnd);
      let docB: number;
      let bStart: number;
      let bEnd: number;
      let isRandomNext: boolean;
      if (chunkLen === 1 || coinSaysRandom) {
        isRandomNext = true;
        const targetB = target - lenA;
        docB = pickOtherDocument(randomDocs, docIndex, rng);
        const other = lengths(docB);
        bStart = rng.randint(0, other.length - 1);
        bEnd = bStart;
        let lenB = 0;
        while (bEnd < other.length) {
          lenB += other[bEnd++];
          if (lenB >= targetB) break;
        }
        // The chunk's sentences after A were not used: go back so they start the next chunk.
        i -= chunkLen - aCount;
      } else {
        isRandomNext = false;
        docB = docIndex;
        bStart = aEnd;
        bEnd = i + 1;
      }
      pair = { docA: docIndex, aStart, aEnd, docB, bStart, bEnd, isRandomNext };
    }
    emitTruncated(lengths, pair, maxNumTokens, rng, emit);
    chunkStart = i + 1;
    currentLength = 0;
    target = drawTarget();
  }
}

/** Where an instance's two segments lie, before truncation. */
type PairRanges = Omit<InstanceRecipe, keyof TruncationResult>;

/**
 * `truncate_seq_pair` on the pair's sentences, then emit it, unless a side
 * ended up empty (empty sentences can do that; the reference asserts, we skip).
 */
function emitTruncated(
  lengths: LengthTable,
  pair: PairRanges,
  maxNumTokens: number,
  rng: Rng,
  emit: (recipe: InstanceRecipe) => void,
): void {
  const lenA = sumRange(lengths(pair.docA), pair.aStart, pair.aEnd);
  const lenB = sumRange(lengths(pair.docB), pair.bStart, pair.bEnd);
  const trim = truncateSeqPair(lenA, lenB, maxNumTokens, rng);
  if (lenA - trim.aTrimFront - trim.aTrimBack >= 1 && lenB - trim.bTrimFront - trim.bTrimBack >= 1) {
    emit({ ...pair, ...trim });
  }
}

/** A uniform draw from `docs` (ascending ids) without `exclude`, which may or may not be in `docs`. */
function pickOtherDocument(docs: Int32Array, exclude: number, rng: Rng): number {
  const at = binarySearch(docs, exclude);
  if (at < 0) return docs[rng.below(docs.length)];
  if (docs.length < 2) throw new Error('NotNext needs at least two documents');
  const k = rng.below(docs.length - 1);
  return docs[k >= at ? k + 1 : k];
}

function binarySearch(sorted: Int32Array, x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] === x) return mid;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** One epoch's instances as shuffled recipes. */
export interface EpochPlan {
  readonly epoch: number;
  readonly count: number;
  /** count × RECIPE_FIELDS (NSP pairs; packed sequences: packing.ts's PACK_FIELDS), already in stream order. */
  readonly recipes: Int32Array;
}

export interface PlanOptions extends InstanceShape {
  dupe_factor: number;
}

/**
 * `create_training_instances` for one epoch: every document of `docs`,
 * `dupe_factor` times, each document with its own generator derived from
 * (seed, epoch, dupe, document), then one shuffle of all recipes by
 * (seed, epoch). A pure function of its arguments.
 */
export function planEpoch(
  lengths: LengthTable,
  docs: Int32Array,
  randomDocs: Int32Array,
  options: PlanOptions,
  seed: number,
  epoch: number,
  pairing: SentencePairTask = 'nsp',
): EpochPlan {
  let buf = new Int32Array(1024 * RECIPE_FIELDS);
  let count = 0;
  const emit = (r: InstanceRecipe): void => {
    if ((count + 1) * RECIPE_FIELDS > buf.length) {
      const bigger = new Int32Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const o = count * RECIPE_FIELDS;
    buf[o + F.docA] = r.docA;
    buf[o + F.aStart] = r.aStart;
    buf[o + F.aEnd] = r.aEnd;
    buf[o + F.aTrimFront] = r.aTrimFront;
    buf[o + F.aTrimBack] = r.aTrimBack;
    buf[o + F.docB] = r.docB;
    buf[o + F.bStart] = r.bStart;
    buf[o + F.bEnd] = r.bEnd;
    buf[o + F.bTrimFront] = r.bTrimFront;
    buf[o + F.bTrimBack] = r.bTrimBack;
    buf[o + F.isRandomNext] = r.isRandomNext ? 1 : 0;
    count++;
  };
  for (let dupe = 0; dupe < options.dupe_factor; dupe++) {
    for (const doc of docs) {
      const rng = Rng.derive(seed, RNG_STREAM.instances, epoch, dupe, doc);
      createInstancesFromDocument(lengths, doc, randomDocs, options, rng, emit, pairing);
    }
  }
  const order = Rng.derive(seed, RNG_STREAM.shuffle, epoch).shuffle(
    Int32Array.from({ length: count }, (_, i) => i),
  );
  const recipes = new Int32Array(count * RECIPE_FIELDS);
  for (let k = 0; k < count; k++) {
    recipes.set(buf.subarray(order[k] * RECIPE_FIELDS, (order[k] + 1) * RECIPE_FIELDS), k * RECIPE_FIELDS);
  }
  return { epoch, count, recipes };
}

export function recipeAt(plan: EpochPlan, k: number): InstanceRecipe {
  const o = k * RECIPE_FIELDS;
  const r = plan.recipes;
  return {
    docA: r[o + F.docA],
    aStart: r[o + F.aStart],
    aEnd: r[o + F.aEnd],
    aTrimFront: r[o + F.aTrimFront],
    aTrimBack: r[o + F.aTrimBack],
    docB: r[o + F.docB],
    bStart: r[o + F.bStart],
    bEnd: r[o + F.bEnd],
    bTrimFront: r[o + F.bTrimFront],
    bTrimBack: r[o + F.bTrimBack],
    isRandomNext: r[o + F.isRandomNext] === 1,
  };
}

/** Copy sentences [start, end) of `doc`, minus `front`/`back` tokens, into `out` at `at`. */
function copySegment(
  sentences: readonly Sentence[],
  start: number,
  end: number,
  front: number,
  back: number,
  out: Int32Array,
  at: number,
): number {
  let skip = front;
  let total = 0;
  for (let s = start; s < end; s++) total += sentences[s].length;
  let remaining = total - front - back;
  for (let s = start; s < end && remaining > 0; s++) {
    const sent = sentences[s];
    if (skip >= sent.length) {
      skip -= sent.length;
      continue;
    }
    const take = Math.min(sent.length - skip, remaining);
    out.set(sent.subarray(skip, skip + take), at);
    at += take;
    remaining -= take;
    skip = 0;
  }
  return at;
}

/** The recipe's tokens: `[CLS] A [SEP] B [SEP]` and the segment ids. */
export function materializeInstance(
  source: DocumentSource,
  recipe: InstanceRecipe,
  special: { clsId: TokenId; sepId: TokenId },
): TrainingInstance {
  const docA = source.document(recipe.docA);
  const docB = recipe.docB === recipe.docA ? docA : source.document(recipe.docB);
  const lenA =
    sumSentences(docA, recipe.aStart, recipe.aEnd) - recipe.aTrimFront - recipe.aTrimBack;
  const lenB =
    sumSentences(docB, recipe.bStart, recipe.bEnd) - recipe.bTrimFront - recipe.bTrimBack;
  const tokens = new Int32Array(lenA + lenB + 3);
  tokens[0] = special.clsId;
  let at = copySegment(docA, recipe.aStart, recipe.aEnd, recipe.aTrimFront, recipe.aTrimBack, tokens, 1);
  tokens[at++] = special.sepId;
  at = copySegment(docB, recipe.bStart, recipe.bEnd, recipe.bTrimFront, recipe.bTrimBack, tokens, at);
  tokens[at] = special.sepId;
  const tokenTypeIds = new Int32Array(tokens.length);
  tokenTypeIds.fill(1, lenA + 2);
  return { tokens, tokenTypeIds, isRandomNext: recipe.isRandomNext, docA: recipe.docA, docB: recipe.docB };
}

function sumSentences(sentences: readonly Sentence[], start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += sentences[i].length;
  return s;
}
