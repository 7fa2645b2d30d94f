/**
 * Batching: masked instances → the typed arrays the model takes, row-major,
 * padded with [PAD] (id of the vocab) and zeros.
 */
import type { LoaderCursor, MaskedInstance, PretrainingStream } from './stream.js';

/**
 * One pretraining batch (B = batch_size, T = seq_length, P = num_predictions).
 * Field names are google-research/bert's feature names; the shape matches the
 * model's `PretrainingBatch` (src/model/batch.ts), so it goes straight in.
 */
export interface PretrainingBatch {
  batch_size: number;
  seq_length: number;
  /** P = max_predictions_per_seq. */
  num_predictions: number;
  /** Real (non-padding) tokens in the batch. */
  num_tokens: number;
  /** [B, T] token ids after masking, [PAD]-padded. */
  input_ids: Int32Array;
  /** [B, T] 0 for `[CLS] A [SEP]`, 1 for `B [SEP]`, 0 on padding. */
  token_type_ids: Int32Array;
  /** [B, T] 1 on real tokens, 0 on padding. */
  attention_mask: Int32Array;
  /** [B, P] positions of the masked tokens, 0 in unused slots. */
  masked_lm_positions: Int32Array;
  /** [B, P] original ids at those positions, 0 in unused slots. */
  masked_lm_ids: Int32Array;
  /** [B, P] 1 for real predictions, 0 for padding slots. */
  masked_lm_weights: Float32Array;
  /** [B] 0 = IsNext, 1 = NotNext (random B). */
  next_sentence_labels: Int32Array;
}

export interface BatchShape {
  max_seq_length: number;
  max_predictions_per_seq: number;
  pad_to: 'batch' | 'max';
  padId: number;
}

export function collateBatch(instances: readonly MaskedInstance[], shape: BatchShape): PretrainingBatch {
  const B = instances.length;
  let longest = 0;
  for (const inst of instances) longest = Math.max(longest, inst.inputIds.length);
  if (longest > shape.max_seq_length) {
    throw new RangeError(`instance of ${longest} tokens exceeds max_seq_length ${shape.max_seq_length}`);
  }
  const T = shape.pad_to === 'max' ? shape.max_seq_length : longest;
  const P = shape.max_predictions_per_seq;
  const batch: PretrainingBatch = {
    batch_size: B,
    seq_length: T,
    num_predictions: P,
    num_tokens: 0,
    input_ids: new Int32Array(B * T),
    token_type_ids: new Int32Array(B * T),
    attention_mask: new Int32Array(B * T),
    masked_lm_positions: new Int32Array(B * P),
    masked_lm_ids: new Int32Array(B * P),
    masked_lm_weights: new Float32Array(B * P),
    next_sentence_labels: new Int32Array(B),
  };
  if (shape.padId !== 0) batch.input_ids.fill(shape.padId);
  instances.forEach((inst, b) => {
    const n = inst.inputIds.length;
    batch.input_ids.set(inst.inputIds, b * T);
    batch.token_type_ids.set(inst.tokenTypeIds, b * T);
    batch.attention_mask.fill(1, b * T, b * T + n);
    batch.num_tokens += n;
    const p = inst.maskedLmPositions.length;
    if (p > P) throw new RangeError(`${p} predictions exceed max_predictions_per_seq ${P}`);
    batch.masked_lm_positions.set(inst.maskedLmPositions, b * P);
    batch.masked_lm_ids.set(inst.maskedLmIds, b * P);
    batch.masked_lm_weights.fill(1, b * P, b * P + p);
    batch.next_sentence_labels[b] = inst.isRandomNext ? 1 : 0;
  });
  return batch;
}

/** The buffers of a batch, for `postMessage` transfer lists. */
export function batchBuffers(batch: PretrainingBatch): ArrayBuffer[] {
  return [
    batch.input_ids,
    batch.token_type_ids,
    batch.attention_mask,
    batch.masked_lm_positions,
    batch.masked_lm_ids,
    batch.masked_lm_weights,
    batch.next_sentence_labels,
  ].map((a) => a.buffer as ArrayBuffer);
}

export interface BatchWithCursor {
  batch: PretrainingBatch;
  /** Where the stream continues after this batch (null: a single-epoch stream is done). */
  cursor: LoaderCursor | null;
}

/**
 * Batches of `batchSize` instances from `cursor` on; batches run across epoch
 * boundaries. A single-epoch stream ends with a short last batch.
 */
export function* buildBatches(
  stream: PretrainingStream,
  cursor: LoaderCursor,
  batchSize: number,
  shape: BatchShape,
): Generator<BatchWithCursor> {
  let c: LoaderCursor | null = cursor;
  while (c) {
    const instances: MaskedInstance[] = [];
    while (c && instances.length < batchSize) {
      instances.push(stream.instanceAt(c));
      c = stream.advance(c);
    }
    yield { batch: collateBatch(instances, shape), cursor: c };
  }
}
