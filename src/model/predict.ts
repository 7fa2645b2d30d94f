/**
 * Inference: forward passes with dropout off and no gradients, one batch at
 * a time, outputs as row-major Float32Arrays (classification logits, span
 * start/end logits, per-token tag logits).
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeTensors, encoderTensors, validateBatch, type EncoderBatch } from './batch.js';
import {
  bertForQuestionAnswering,
  bertForSequenceClassification,
  bertForTokenClassification,
  type BertModel,
} from './bert.js';
import { forwardOnly } from './ops.js';

/** `model` with the formulation for forward passes that no gradient follows. */
export function forInference(model: BertModel): BertModel {
  return { ...model, ops: forwardOnly(model.ops) };
}

/**
 * The indices of `items` in batches of `batchSize`, shortest sequence first,
 * so that each batch pads little; callers put every output back at its index.
 */
export function lengthSortedBatches(
  items: readonly { readonly ids: { readonly length: number } }[],
  batchSize: number,
): number[][] {
  const order = items.map((_, i) => i).sort((a, b) => items[a].ids.length - items[b].ids.length);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize)
    batches.push(order.slice(start, start + batchSize));
  return batches;
}

/**
 * Forward only: classification logits [B, num_labels] (regression: [B, 1])
 * as a row-major Float32Array, for evaluation and predictions.
 */
export async function predictClassification(
  model: BertModel,
  batch: EncoderBatch,
): Promise<Float32Array> {
  validateBatch(batch, model.config);
  const inputs = encoderTensors(batch);
  try {
    const logits = tf.tidy(
      () => bertForSequenceClassification(forInference(model), inputs, { training: false }).logits,
    );
    const data = Float32Array.from((await logits.data()) as Float32Array);
    logits.dispose();
    return data;
  } finally {
    disposeTensors(inputs);
  }
}

/** Forward only: start and end logits, each row-major [B, T]. */
export async function predictSpans(
  model: BertModel,
  batch: EncoderBatch,
): Promise<{ start: Float32Array; end: Float32Array }> {
  validateBatch(batch, model.config);
  const inputs = encoderTensors(batch);
  try {
    const out = tf.tidy(() => {
      const r = bertForQuestionAnswering(forInference(model), inputs, { training: false });
      return [r.startLogits, r.endLogits];
    });
    const start = Float32Array.from((await out[0].data()) as Float32Array);
    const end = Float32Array.from((await out[1].data()) as Float32Array);
    for (const t of out) t.dispose();
    return { start, end };
  } finally {
    disposeTensors(inputs);
  }
}

/** Forward only: token-classification logits, row-major [B·T, num_labels]. */
export async function predictTokenLogits(
  model: BertModel,
  batch: EncoderBatch,
): Promise<Float32Array> {
  validateBatch(batch, model.config);
  const inputs = encoderTensors(batch);
  try {
    const logits = tf.tidy(() =>
      bertForTokenClassification(forInference(model), inputs, { training: false }),
    );
    const data = Float32Array.from((await logits.data()) as Float32Array);
    logits.dispose();
    return data;
  } finally {
    disposeTensors(inputs);
  }
}
