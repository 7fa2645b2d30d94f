/**
 * Test-only helpers around the training steps: one step without
 * accumulation, and held-out sums per batch that combine exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Optimizer } from '../../src/train/optimizer.js';
import {
  disposeTensors,
  pretrainingTensors,
  validateBatch,
  type PretrainingBatch,
} from '../../src/model/batch.js';
import { bertForPreTraining, type BertModel } from '../../src/model/bert.js';
import {
  PretrainingStep,
  type PretrainingMetrics,
  type StepOptions,
} from '../../src/train/step.js';

/** One pretraining step on one batch (no accumulation). */
export async function trainStep(
  model: BertModel,
  optimizer: Optimizer,
  batch: PretrainingBatch,
  lr: number,
  options: StepOptions = {},
): Promise<PretrainingMetrics> {
  const step = new PretrainingStep(model, optimizer, options);
  step.accumulate(batch);
  return step.apply(lr);
}

/** Sums over an evaluation batch, so several batches combine exactly (weighted by predictions). */
export interface PretrainingEvalSums {
  /** Σ over masked slots of weight·cross-entropy. */
  mlm_loss_sum: number;
  /** Σ of weights (number of real predictions). */
  mlm_count: number;
  mlm_correct: number;
  nsp_loss_sum: number;
  nsp_correct: number;
  nsp_count: number;
}

/** Forward only (no dropout, no gradients): the held-out sums of one pretraining batch. */
export function evalPretrainingBatch(
  model: BertModel,
  batch: PretrainingBatch,
): PretrainingEvalSums {
  validateBatch(batch, model.config);
  const inputs = pretrainingTensors(batch);
  try {
    const values = tf.tidy(() => {
      const out = bertForPreTraining(model, inputs, { training: false });
      const w = inputs.maskedLmWeights;
      const mlmCe = model.ops.softmaxCrossEntropy(out.mlmLogits, inputs.maskedLmIds);
      const nspCe = model.ops.softmaxCrossEntropy(out.nspLogits, inputs.nextSentenceLabels);
      const mlmHit = tf.cast(tf.equal(tf.argMax(out.mlmLogits, -1), inputs.maskedLmIds), 'float32');
      const nspHit = tf.cast(
        tf.equal(tf.argMax(out.nspLogits, -1), inputs.nextSentenceLabels),
        'float32',
      );
      return tf.stack([
        tf.sum(tf.mul(mlmCe, w)),
        tf.sum(w),
        tf.sum(tf.mul(mlmHit, w)),
        tf.sum(nspCe),
        tf.sum(nspHit),
      ]);
    });
    const [mlmLoss, mlmCount, mlmCorrect, nspLoss, nspCorrect] = values.dataSync();
    values.dispose();
    return {
      mlm_loss_sum: mlmLoss,
      mlm_count: mlmCount,
      mlm_correct: mlmCorrect,
      nsp_loss_sum: nspLoss,
      nsp_correct: nspCorrect,
      nsp_count: batch.batch_size,
    };
  } finally {
    disposeTensors(inputs);
  }
}

/** Combine evaluation sums into the reported metrics (same names as training steps). */
export function pretrainingEvalMetrics(
  sums: PretrainingEvalSums[],
): Omit<PretrainingMetrics, 'grad_norm'> {
  const t = sums.reduce(
    (a, s) => ({
      mlm_loss_sum: a.mlm_loss_sum + s.mlm_loss_sum,
      mlm_count: a.mlm_count + s.mlm_count,
      mlm_correct: a.mlm_correct + s.mlm_correct,
      nsp_loss_sum: a.nsp_loss_sum + s.nsp_loss_sum,
      nsp_correct: a.nsp_correct + s.nsp_correct,
      nsp_count: a.nsp_count + s.nsp_count,
    }),
    {
      mlm_loss_sum: 0,
      mlm_count: 0,
      mlm_correct: 0,
      nsp_loss_sum: 0,
      nsp_correct: 0,
      nsp_count: 0,
    },
  );
  const mlm = t.mlm_count > 0 ? t.mlm_loss_sum / t.mlm_count : 0;
  const nsp = t.nsp_count > 0 ? t.nsp_loss_sum / t.nsp_count : 0;
  return {
    loss: mlm + nsp,
    mlm_loss: mlm,
    nsp_loss: nsp,
    mlm_accuracy: t.mlm_count > 0 ? t.mlm_correct / t.mlm_count : 0,
    nsp_accuracy: t.nsp_count > 0 ? t.nsp_correct / t.nsp_count : 0,
  };
}
