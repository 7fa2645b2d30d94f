/**
 * The held-out split: a fraction of the documents, chosen by seed, is kept out
 * of training for evaluation (MLM and NSP on text the model never saw).
 */
import { UserError } from '../errors.js';
import { Rng } from './rng.js';
import { RNG_STREAM } from './instances.js';
import type { DocumentSource } from './types.js';

export interface DocumentSplit {
  /** Training documents, ascending ids. */
  train: Int32Array;
  /** Held-out documents, ascending ids (may be empty). */
  heldout: Int32Array;
}

/** Ids of the documents that hold at least one token, ascending. */
export function nonEmptyDocuments(source: DocumentSource): Int32Array {
  const nonEmpty: number[] = [];
  for (let d = 0; d < source.numDocuments; d++) {
    if (source.document(d).some((s) => s.length > 0)) nonEmpty.push(d);
  }
  return Int32Array.from(nonEmpty);
}

/**
 * Shuffle the non-empty documents by seed and hold out
 * max(1, round(fraction × n)) of them (none when fraction is 0), always
 * leaving at least `minTrain` for training: two for NotNext pairs (the
 * default), one for packed MLM-only sequences.
 */
export function splitDocuments(
  source: DocumentSource,
  heldoutFraction: number,
  seed: number,
  where = 'data',
  minTrain: 1 | 2 = 2,
): DocumentSplit {
  if (!(heldoutFraction >= 0 && heldoutFraction < 1)) {
    throw new UserError(`${where}.heldout_fraction: expected a number in [0, 1), got ${heldoutFraction}`);
  }
  const nonEmpty = nonEmptyDocuments(source);
  if (nonEmpty.length < minTrain) {
    throw new UserError(
      minTrain === 2
        ? `${where}.shards: found ${nonEmpty.length} non-empty document(s); next-sentence pairs need at least 2 (documents are separated by blank lines in the corpus)`
        : `${where}.shards: found no non-empty document`,
    );
  }
  const order = Rng.derive(seed, RNG_STREAM.split).shuffle(Int32Array.from(nonEmpty));
  let held = heldoutFraction > 0 ? Math.max(1, Math.round(heldoutFraction * order.length)) : 0;
  held = Math.min(held, order.length - minTrain);
  const heldout = order.slice(0, held).sort();
  const train = order.slice(held).sort();
  return { train, heldout };
}
