/**
 * Batches as the data pipeline hands them over (typed arrays, row-major),
 * and their conversion to tensors. Field names follow google-research/bert.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Inputs every BERT batch has: [batch_size, seq_length] each. */
export interface EncoderBatch {
  batch_size: number;
  seq_length: number;
  input_ids: Int32Array;
  token_type_ids: Int32Array;
  /** 1 = real token, 0 = padding. */
  attention_mask: Int32Array;
}

/** A pretraining batch (MLM + NSP). */
export interface PretrainingBatch extends EncoderBatch {
  /** Prediction slots per sequence (max_predictions_per_seq). */
  num_predictions: number;
  /** [batch_size, num_predictions]: positions within each sequence. */
  masked_lm_positions: Int32Array;
  /** [batch_size, num_predictions]: the original token ids. */
  masked_lm_ids: Int32Array;
  /** [batch_size, num_predictions]: 1 for a real prediction, 0 for a padding slot. */
  masked_lm_weights: Float32Array;
  /** [batch_size]: 0 = IsNext, 1 = NotNext (google-research/bert). */
  next_sentence_labels: Int32Array;
}

/** A sequence-classification batch: int labels, or float targets for regression (num_labels = 1). */
export interface ClassificationBatch extends EncoderBatch {
  labels: Int32Array | Float32Array;
}

/** A SQuAD training batch: [batch_size] answer start/end positions (0 = [CLS] when the window misses the answer). */
export interface SpanBatch extends EncoderBatch {
  start_positions: Int32Array;
  end_positions: Int32Array;
}

/** A token-classification batch: [batch_size, seq_length] tag ids and weights (0 = ignored in the loss). */
export interface TokenLabelBatch extends EncoderBatch {
  labels: Int32Array;
  label_weights: Float32Array;
}

/** One encoded sequence: its token ids and, for pairs, segment ids (0 when absent). */
export interface EncodedSequence {
  ids: ArrayLike<number>;
  typeIds?: ArrayLike<number>;
}

/** The encoder inputs of sequences padded to the longest of them (`padId`, attention 0). */
export function padSequences(sequences: readonly EncodedSequence[], padId: number): EncoderBatch {
  const B = sequences.length;
  const T = sequences.reduce((m, s) => Math.max(m, s.ids.length), 1);
  const input_ids = new Int32Array(B * T).fill(padId);
  const token_type_ids = new Int32Array(B * T);
  const attention_mask = new Int32Array(B * T);
  sequences.forEach((s, b) => {
    input_ids.set(s.ids, b * T);
    if (s.typeIds) token_type_ids.set(s.typeIds, b * T);
    attention_mask.fill(1, b * T, b * T + s.ids.length);
  });
  return { batch_size: B, seq_length: T, input_ids, token_type_ids, attention_mask };
}

export interface EncoderTensors {
  batchSize: number;
  seqLength: number;
  /** Flattened [B·T] int32. */
  inputIds: tf.Tensor1D;
  tokenTypeIds: tf.Tensor1D;
  /** [B·T] int32: t for every row, so position embeddings are a row gather. */
  positionIds: tf.Tensor1D;
  /** [B, 1, 1, T] float32: 0 for tokens, −10000 for padding, added to attention scores (as BERT). */
  attentionBias: tf.Tensor4D;
  /** [B] int32 flat row index of each [CLS] (b·T). */
  clsRows: tf.Tensor1D;
}

export interface PretrainingTensors extends EncoderTensors {
  numPredictions: number;
  /** [B·P] int32 flat row index b·T + position. */
  maskedRows: tf.Tensor1D;
  maskedLmIds: tf.Tensor1D;
  maskedLmWeights: tf.Tensor1D;
  nextSentenceLabels: tf.Tensor1D;
}

export interface ClassificationTensors extends EncoderTensors {
  labels: tf.Tensor1D;
}

function checkLength(name: string, a: { length: number }, n: number): void {
  if (a.length !== n) throw new Error(`batch.${name} has ${a.length} values, expected ${n}`);
}

export function encoderTensors(batch: EncoderBatch): EncoderTensors {
  const B = batch.batch_size;
  const T = batch.seq_length;
  checkLength('input_ids', batch.input_ids, B * T);
  checkLength('token_type_ids', batch.token_type_ids, B * T);
  checkLength('attention_mask', batch.attention_mask, B * T);
  const positions = new Int32Array(B * T);
  const bias = new Float32Array(B * T);
  for (let i = 0; i < B * T; i++) {
    positions[i] = i % T;
    bias[i] = batch.attention_mask[i] ? 0 : -10000;
  }
  const cls = new Int32Array(B);
  for (let b = 0; b < B; b++) cls[b] = b * T;
  return {
    batchSize: B,
    seqLength: T,
    inputIds: tf.tensor1d(batch.input_ids, 'int32'),
    tokenTypeIds: tf.tensor1d(batch.token_type_ids, 'int32'),
    positionIds: tf.tensor1d(positions, 'int32'),
    attentionBias: tf.tensor4d(bias, [B, 1, 1, T]),
    clsRows: tf.tensor1d(cls, 'int32'),
  };
}

export function pretrainingTensors(batch: PretrainingBatch): PretrainingTensors {
  const B = batch.batch_size;
  const T = batch.seq_length;
  const P = batch.num_predictions;
  checkLength('masked_lm_positions', batch.masked_lm_positions, B * P);
  checkLength('masked_lm_ids', batch.masked_lm_ids, B * P);
  checkLength('masked_lm_weights', batch.masked_lm_weights, B * P);
  checkLength('next_sentence_labels', batch.next_sentence_labels, B);
  const rows = new Int32Array(B * P);
  for (let i = 0; i < B * P; i++) rows[i] = Math.floor(i / P) * T + batch.masked_lm_positions[i];
  return {
    ...encoderTensors(batch),
    numPredictions: P,
    maskedRows: tf.tensor1d(rows, 'int32'),
    maskedLmIds: tf.tensor1d(batch.masked_lm_ids, 'int32'),
    maskedLmWeights: tf.tensor1d(batch.masked_lm_weights, 'float32'),
    nextSentenceLabels: tf.tensor1d(batch.next_sentence_labels, 'int32'),
  };
}

export function classificationTensors(batch: ClassificationBatch): ClassificationTensors {
  checkLength('labels', batch.labels, batch.batch_size);
  const dtype = batch.labels instanceof Float32Array ? 'float32' : 'int32';
  return { ...encoderTensors(batch), labels: tf.tensor1d(batch.labels, dtype) };
}

/** Dispose every tensor field of a tensors object. */
export function disposeTensors(t: object): void {
  for (const v of Object.values(t)) if (v instanceof tf.Tensor) v.dispose();
}

/**
 * Check a batch against the model before it reaches the kernels: ids in
 * range (WASM's GatherNd does not check), sequence within the position table.
 */
export function validateBatch(
  batch: EncoderBatch & Partial<Pick<PretrainingBatch, 'masked_lm_ids' | 'masked_lm_positions'>>,
  limits: { vocab_size: number; type_vocab_size: number; max_position_embeddings: number },
): void {
  if (batch.seq_length > limits.max_position_embeddings) {
    throw new Error(
      `batch seq_length ${batch.seq_length} exceeds max_position_embeddings ${limits.max_position_embeddings}`,
    );
  }
  const check = (name: string, a: Int32Array | undefined, bound: number): void => {
    if (!a) return;
    for (let i = 0; i < a.length; i++) {
      if (a[i] < 0 || a[i] >= bound)
        throw new Error(`batch.${name}[${i}] = ${a[i]} is outside [0, ${bound})`);
    }
  };
  check('input_ids', batch.input_ids, limits.vocab_size);
  check('token_type_ids', batch.token_type_ids, limits.type_vocab_size);
  check('masked_lm_ids', batch.masked_lm_ids, limits.vocab_size);
  check('masked_lm_positions', batch.masked_lm_positions, batch.seq_length);
}
