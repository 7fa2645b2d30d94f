/**
 * Pretraining and classification losses and accuracies, as tensors.
 * MLM: cross-entropy over the masked positions, weighted so padding
 * prediction slots count zero (google-research/bert's
 * sum(w·ce) / (sum(w) + 1e-5)); NSP: mean cross-entropy; total = sum.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClassificationTensors, PretrainingTensors } from './batch.js';
import {
  bertForPreTraining,
  bertForSequenceClassification,
  type BertModel,
  type ForwardOptions,
} from './bert.js';

export interface PretrainingLosses {
  /** mlm_loss + nsp_loss (scalar): what is differentiated. */
  loss: tf.Scalar;
  mlmLoss: tf.Scalar;
  nspLoss: tf.Scalar;
  /** Weighted number of correct MLM predictions and the weight total (for accuracy over accumulated batches). */
  mlmCorrect: tf.Scalar;
  mlmCount: tf.Scalar;
  nspCorrect: tf.Scalar;
  nspCount: number;
}

export function pretrainingLosses(
  model: BertModel,
  inputs: PretrainingTensors,
  options: ForwardOptions,
): PretrainingLosses {
  const out = bertForPreTraining(model, inputs, options);
  const w = inputs.maskedLmWeights;
  const mlmPer = model.ops.softmaxCrossEntropy(out.mlmLogits, inputs.maskedLmIds);
  const mlmCount = tf.sum(w);
  const mlmLoss = tf.div(tf.sum(tf.mul(mlmPer, w)), tf.add(mlmCount, 1e-5)) as tf.Scalar;
  const nspLoss = tf.mean(
    model.ops.softmaxCrossEntropy(out.nspLogits, inputs.nextSentenceLabels),
  ) as tf.Scalar;
  const mlmHit = tf.cast(tf.equal(tf.argMax(out.mlmLogits, -1), inputs.maskedLmIds), 'float32');
  const nspHit = tf.cast(
    tf.equal(tf.argMax(out.nspLogits, -1), inputs.nextSentenceLabels),
    'float32',
  );
  return {
    loss: tf.add(mlmLoss, nspLoss) as tf.Scalar,
    mlmLoss,
    nspLoss,
    mlmCorrect: tf.sum(tf.mul(mlmHit, w)) as tf.Scalar,
    mlmCount: mlmCount as tf.Scalar,
    nspCorrect: tf.sum(nspHit) as tf.Scalar,
    nspCount: inputs.batchSize,
  };
}

export interface ClassificationLosses {
  loss: tf.Scalar;
  /** [B, num_labels] logits (regression: [B, 1] predictions). */
  logits: tf.Tensor2D;
  /** Number correct (classification) or 0 (regression). */
  correct: tf.Scalar;
}

/** Cross-entropy over labels, or mean squared error when num_labels == 1 (HF's regression head). */
export function classificationLosses(
  model: BertModel,
  inputs: ClassificationTensors,
  options: ForwardOptions,
): ClassificationLosses {
  const { logits } = bertForSequenceClassification(model, inputs, options);
  if (model.numLabels === 1) {
    const pred = tf.reshape(logits, [-1]);
    return {
      loss: tf.mean(tf.square(tf.sub(pred, tf.cast(inputs.labels, 'float32')))) as tf.Scalar,
      logits,
      correct: tf.scalar(0),
    };
  }
  const labels = tf.cast(inputs.labels, 'int32') as tf.Tensor1D;
  const loss = tf.mean(model.ops.softmaxCrossEntropy(logits, labels)) as tf.Scalar;
  const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), labels), 'float32')) as tf.Scalar;
  return { loss, logits, correct };
}
