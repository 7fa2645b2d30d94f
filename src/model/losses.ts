/**
 * Pretraining and classification losses and accuracies, as tensors.
 * MLM: cross-entropy over the masked positions, weighted so padding
 * prediction slots count zero (google-research/bert's
 * sum(w·ce) / (sum(w) + 1e-5)); NSP: mean cross-entropy; total = sum
 * (MLM alone when NSP is off: the NSP head then gets no gradient).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClassificationTensors, EncoderTensors, PretrainingTensors } from './batch.js';
import {
  bertForPreTraining,
  bertForQuestionAnswering,
  bertForSequenceClassification,
  bertForTokenClassification,
  type BertModel,
  type ForwardOptions,
} from './bert.js';

export interface PretrainingLosses {
  /** mlm_loss + nsp_loss (scalar), or mlm_loss alone without NSP: what is differentiated. */
  loss: tf.Scalar;
  mlmLoss: tf.Scalar;
  /** null when NSP is off. */
  nspLoss: tf.Scalar | null;
  /** Weighted number of correct MLM predictions and the weight total (for accuracy over accumulated batches). */
  mlmCorrect: tf.Scalar;
  mlmCount: tf.Scalar;
  /** [B·P] int32: the argmax token of every prediction slot (padding slots included; weight 0). */
  mlmPredictions: tf.Tensor1D;
  /** null when NSP is off. */
  nspCorrect: tf.Scalar | null;
  nspCount: number;
  /** [B, H] the last hidden state at [CLS] (evaluation reads how alike it is across inputs). */
  clsStates: tf.Tensor2D;
}

export interface PretrainingLossOptions extends ForwardOptions {
  /** Next-sentence prediction in the loss (default true); false: masked LM only. */
  nsp?: boolean;
}

export function pretrainingLosses(
  model: BertModel,
  inputs: PretrainingTensors,
  options: PretrainingLossOptions,
): PretrainingLosses {
  const out = bertForPreTraining(model, inputs, options);
  const w = inputs.maskedLmWeights;
  const mlmPer = model.ops.softmaxCrossEntropy(out.mlmLogits, inputs.maskedLmIds);
  const mlmCount = tf.sum(w);
  const mlmLoss = tf.div(tf.sum(tf.mul(mlmPer, w)), tf.add(mlmCount, 1e-5)) as tf.Scalar;
  const mlmPredictions = tf.argMax(out.mlmLogits, -1) as tf.Tensor1D;
  const mlmHit = tf.cast(tf.equal(mlmPredictions, inputs.maskedLmIds), 'float32');
  const mlm = {
    clsStates: out.clsOutput,
    mlmLoss,
    mlmCorrect: tf.sum(tf.mul(mlmHit, w)) as tf.Scalar,
    mlmCount: mlmCount as tf.Scalar,
    mlmPredictions,
  };
  if (options.nsp === false) {
    return { loss: mlmLoss, ...mlm, nspLoss: null, nspCorrect: null, nspCount: 0 };
  }
  const nspLoss = tf.mean(
    model.ops.softmaxCrossEntropy(out.nspLogits, inputs.nextSentenceLabels),
  ) as tf.Scalar;
  const nspHit = tf.cast(
    tf.equal(tf.argMax(out.nspLogits, -1), inputs.nextSentenceLabels),
    'float32',
  );
  return {
    loss: tf.add(mlmLoss, nspLoss) as tf.Scalar,
    ...mlm,
    nspLoss,
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

export interface SpanTensors extends EncoderTensors {
  /** [B] int32 answer start / end token positions (0 = [CLS]: no answer in this window). */
  startPositions: tf.Tensor1D;
  endPositions: tf.Tensor1D;
}

/** BertForQuestionAnswering's loss: (CE(start) + CE(end)) / 2, and the number of exactly right spans. */
export function questionAnsweringLosses(
  model: BertModel,
  inputs: SpanTensors,
  options: ForwardOptions,
): { loss: tf.Scalar; correct: tf.Scalar } {
  const { startLogits, endLogits } = bertForQuestionAnswering(model, inputs, options);
  const startCe = tf.mean(model.ops.softmaxCrossEntropy(startLogits, inputs.startPositions));
  const endCe = tf.mean(model.ops.softmaxCrossEntropy(endLogits, inputs.endPositions));
  const hit = tf.logicalAnd(
    tf.equal(tf.argMax(startLogits, -1), inputs.startPositions),
    tf.equal(tf.argMax(endLogits, -1), inputs.endPositions),
  );
  return {
    loss: tf.div(tf.add(startCe, endCe), 2) as tf.Scalar,
    correct: tf.sum(tf.cast(hit, 'float32')) as tf.Scalar,
  };
}

export interface TokenLabelTensors extends EncoderTensors {
  /** [B·T] int32 tag ids (any value where the weight is 0). */
  tokenLabels: tf.Tensor1D;
  /** [B·T] float32: 1 on the first piece of each word, 0 elsewhere (HF's label -100). */
  tokenWeights: tf.Tensor1D;
}

/** BertForTokenClassification's loss: mean CE over the labelled pieces; correct and labelled counts. */
export function tokenClassificationLosses(
  model: BertModel,
  inputs: TokenLabelTensors,
  options: ForwardOptions,
): { loss: tf.Scalar; correct: tf.Scalar; count: tf.Scalar } {
  const logits = bertForTokenClassification(model, inputs, options);
  const w = inputs.tokenWeights;
  const ce = model.ops.softmaxCrossEntropy(logits, inputs.tokenLabels);
  const count = tf.sum(w) as tf.Scalar;
  const loss = tf.div(tf.sum(tf.mul(ce, w)), tf.maximum(count, 1)) as tf.Scalar;
  const hit = tf.cast(tf.equal(tf.argMax(logits, -1), inputs.tokenLabels), 'float32');
  return { loss, correct: tf.sum(tf.mul(hit, w)) as tf.Scalar, count };
}
