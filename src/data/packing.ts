/**
 * MLM-only instances (`train.objective: mlm`), after RoBERTa's FULL-SENTENCES:
 * the documents of an epoch, in a seeded order, form one token stream —
 * each document's sentences in order, a [SEP] between two documents — and
 * the stream is cut into sequences of exactly max_seq_length − 2 tokens,
 * each wrapped as `[CLS] … [SEP]` with segment id 0. Only the last sequence
 * of an epoch may be shorter.
 *
 * Choices (documented in README.md's design notes):
 * - Sequences are filled to the last position, so a sentence that does not
 *   fit is split and its rest opens the next sequence: no token of the
 *   epoch is lost or repeated, and no position is spent on padding.
 * - A document boundary inside the stream is one [SEP] (RoBERTa's extra
 *   separator between documents), kept even where it lands first or last in
 *   a sequence, so the separator rule has no exceptions.
 * - The full-length sequences are shuffled (seeded by epoch) so a batch does
 *   not hold consecutive stretches of one book; the short one stays last.
 * - `dupe_factor` passes over the documents per epoch, each in its own order.
 *
 * As with NSP pairs (instances.ts), an epoch is planned as recipes — where
 * each sequence starts in the stream and how long it is — and the tokens are
 * copied only when a batch needs them.
 */
import type { DocumentSource, TokenId } from './types.js';
import type { EpochPlan, LengthTable, TrainingInstance } from './instances.js';
import { RNG_STREAM } from './instances.js';
import { Rng } from './rng.js';

/** Fields of one packed sequence in `PackedEpochPlan.recipes` (stride = PACK_FIELDS). */
const P = {
  /** Index into `documentOrder` of the document the sequence starts in. */
  docPos: 0,
  /** Sentence and token offset in that document where its first corpus token is. */
  sentence: 1,
  offset: 2,
  /** 1 when the sequence opens with the [SEP] before document `docPos`. */
  sepFirst: 3,
  /** Tokens between [CLS] and the closing [SEP] (separators included). */
  length: 4,
  /** Position in packing (stream) order, before the shuffle. */
  rank: 5,
} as const;
export const PACK_FIELDS = 6;

export interface PackedRecipe {
  docPos: number;
  sentence: number;
  offset: number;
  sepFirst: boolean;
  length: number;
  rank: number;
}

/** An epoch of packed sequences: `recipes` in stream order (shuffled), over `documentOrder`. */
export interface PackedEpochPlan extends EpochPlan {
  /** Document ids in packing order (each document `dupe_factor` times). */
  readonly documentOrder: Int32Array;
}

export interface PackOptions {
  max_seq_length: number;
  dupe_factor: number;
}

function totalTokens(lengths: Int32Array): number {
  let s = 0;
  for (const l of lengths) s += l;
  return s;
}

/**
 * Plan epoch `epoch`: the non-empty documents of `docs` in an order drawn
 * from (seed, epoch) (`dupe_factor` such passes), cut into sequences of
 * max_seq_length − 2 stream tokens, then the full ones shuffled by
 * (seed, epoch). A pure function of its arguments.
 */
export function planPackedEpoch(
  lengths: LengthTable,
  docs: Int32Array,
  options: PackOptions,
  seed: number,
  epoch: number,
): PackedEpochPlan {
  const capacity = options.max_seq_length - 2; // [CLS] … [SEP]
  const nonEmpty = Int32Array.from([...docs].filter((d) => totalTokens(lengths(d)) > 0));
  const order = new Int32Array(nonEmpty.length * options.dupe_factor);
  for (let dupe = 0; dupe < options.dupe_factor; dupe++) {
    const pass = Rng.derive(seed, RNG_STREAM.packing, epoch, dupe).shuffle(Int32Array.from(nonEmpty));
    order.set(pass, dupe * nonEmpty.length);
  }

  let buf = new Int32Array(1024 * PACK_FIELDS);
  let count = 0;
  let used = 0; // stream tokens in the open sequence
  const open = (docPos: number, sentence: number, offset: number, sepFirst: boolean): void => {
    if ((count + 1) * PACK_FIELDS > buf.length) {
      const bigger = new Int32Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const o = count * PACK_FIELDS;
    buf[o + P.docPos] = docPos;
    buf[o + P.sentence] = sentence;
    buf[o + P.offset] = offset;
    buf[o + P.sepFirst] = sepFirst ? 1 : 0;
    buf[o + P.rank] = count;
    count++;
  };
  const close = (length: number): void => {
    buf[(count - 1) * PACK_FIELDS + P.length] = length;
    used = 0;
  };
  for (let docPos = 0; docPos < order.length; docPos++) {
    if (docPos > 0) {
      // The separator between two documents is one stream token.
      if (used === 0) open(docPos, 0, 0, true);
      if (++used === capacity) close(capacity);
    }
    const doc = lengths(order[docPos]);
    for (let s = 0; s < doc.length; s++) {
      let offset = 0;
      while (offset < doc[s]) {
        if (used === 0) open(docPos, s, offset, false);
        const take = Math.min(doc[s] - offset, capacity - used);
        used += take;
        offset += take;
        if (used === capacity) close(capacity);
      }
    }
  }
  if (used > 0) close(used);

  // Shuffle the full sequences; a short last one stays last.
  const full = count > 0 && buf[(count - 1) * PACK_FIELDS + P.length] < capacity ? count - 1 : count;
  const shuffled = Rng.derive(seed, RNG_STREAM.shuffle, epoch).shuffle(
    Int32Array.from({ length: full }, (_, i) => i),
  );
  const recipes = new Int32Array(count * PACK_FIELDS);
  for (let k = 0; k < count; k++) {
    const from = k < full ? shuffled[k] : k;
    recipes.set(buf.subarray(from * PACK_FIELDS, (from + 1) * PACK_FIELDS), k * PACK_FIELDS);
  }
  return { epoch, count, recipes, documentOrder: order };
}

export function packedRecipeAt(plan: PackedEpochPlan, k: number): PackedRecipe {
  const o = k * PACK_FIELDS;
  const r = plan.recipes;
  return {
    docPos: r[o + P.docPos],
    sentence: r[o + P.sentence],
    offset: r[o + P.offset],
    sepFirst: r[o + P.sepFirst] === 1,
    length: r[o + P.length],
    rank: r[o + P.rank],
  };
}

/**
 * The recipe's tokens: `[CLS]`, `length` stream tokens from its start
 * (a [SEP] wherever one document ends and the next begins), `[SEP]`; all
 * segment ids 0. `docA`/`docB` are the documents it starts and ends in, and
 * `isRandomNext` is false (there is no second segment).
 */
export function materializePacked(
  source: DocumentSource,
  plan: PackedEpochPlan,
  recipe: PackedRecipe,
  special: { clsId: TokenId; sepId: TokenId },
): TrainingInstance {
  const tokens = new Int32Array(recipe.length + 2);
  tokens[0] = special.clsId;
  let at = 1;
  let remaining = recipe.length;
  let docPos = recipe.docPos;
  let s = recipe.sentence;
  let offset = recipe.offset;
  if (recipe.sepFirst) {
    tokens[at++] = special.sepId;
    remaining--;
  }
  while (remaining > 0) {
    const doc = source.document(plan.documentOrder[docPos]);
    while (s < doc.length && remaining > 0) {
      const sent = doc[s];
      const take = Math.min(sent.length - offset, remaining);
      tokens.set(sent.subarray(offset, offset + take), at);
      at += take;
      remaining -= take;
      offset += take;
      if (offset >= sent.length) {
        s++;
        offset = 0;
      }
    }
    if (remaining > 0) {
      if (docPos + 1 >= plan.documentOrder.length) {
        throw new Error(`packed sequence ${recipe.rank} runs past the end of epoch ${plan.epoch}`);
      }
      tokens[at++] = special.sepId;
      remaining--;
      docPos++;
      s = 0;
      offset = 0;
    }
  }
  tokens[at] = special.sepId;
  return {
    tokens,
    tokenTypeIds: new Int32Array(tokens.length),
    isRandomNext: false,
    docA: plan.documentOrder[recipe.docPos],
    docB: plan.documentOrder[docPos],
  };
}
