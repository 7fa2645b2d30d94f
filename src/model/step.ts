/**
 * One optimisation step: forward + backward on one or more micro-batches
 * (gradient accumulation), global-norm clipping, the optimizer update.
 * Every tensor made here is released before returning; the metrics come
 * back as plain numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { globalNormScale, type Optimizer } from '../train/optimizer.js';
import {
  classificationTensors,
  disposeTensors,
  encoderTensors,
  pretrainingTensors,
  validateBatch,
  type ClassificationBatch,
  type EncoderBatch,
  type PretrainingBatch,
} from './batch.js';
import {
  bertForPreTraining,
  bertForQuestionAnswering,
  bertForSequenceClassification,
  bertForTokenClassification,
  type BertModel,
  type ForwardOptions,
} from './bert.js';
import {
  classificationLosses,
  pretrainingLosses,
  questionAnsweringLosses,
  tokenClassificationLosses,
  type SpanTensors,
  type TokenLabelTensors,
} from './losses.js';

/**
 * "No clipping" as a finite clip norm: Number.MAX_VALUE becomes Infinity in
 * float32 and Infinity / Infinity poisons every gradient with NaN.
 */
const FLOAT32_MAX = 3.4e38;

export interface PretrainingMetrics {
  loss: number;
  mlm_loss: number;
  nsp_loss: number;
  mlm_accuracy: number;
  nsp_accuracy: number;
  /** Global gradient norm before clipping. */
  grad_norm: number;
}

export interface ClassificationMetrics {
  loss: number;
  /** Fraction correct (classification); NaN for regression. */
  accuracy: number;
  grad_norm: number;
}

export interface StepOptions {
  /** Global-norm clip (BERT: 1.0); Infinity or 0 turns clipping off. */
  maxGradNorm?: number;
  /** Base seed of dropout; each micro-batch's masks derive from it, the step and the micro-batch index. */
  seed?: number;
}

/** Forward + backward of one scalar loss; `aux` tensors survive (kept) and the caller disposes them. */
function lossAndGrads(
  model: BertModel,
  f: () => { loss: tf.Scalar; aux: tf.Tensor[] },
): {
  grads: Map<string, tf.Tensor>;
  loss: tf.Scalar;
  aux: tf.Tensor[];
} {
  const names = [...model.params.keys()];
  const vars = names.map((n) => model.params.get(n) as tf.Variable);
  let aux: tf.Tensor[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const r = f();
    aux = r.aux.map((t) => tf.keep(t));
    return r.loss;
  }, vars);
  const out = new Map<string, tf.Tensor>();
  names.forEach((n, i) => {
    const g = grads[vars[i].name];
    if (g) out.set(n, g);
  });
  return { grads: out, loss: value, aux };
}

/**
 * Accumulates gradients of micro-batches and applies them as one step.
 * `train.batch_size` = micro-batch × number of `accumulate` calls per `apply`.
 */
abstract class Accumulator<TBatch, TMetrics> {
  protected grads: Map<string, tf.Tensor> | null = null;
  /** Per-metric running sums (kept tensors). */
  protected sums: tf.Tensor[] = [];
  protected micro = 0;

  constructor(
    readonly model: BertModel,
    readonly optimizer: Optimizer,
    readonly options: StepOptions = {},
  ) {}

  /** Micro-batches accumulated since the last apply. */
  get pending(): number {
    return this.micro;
  }

  protected forwardOptions(): ForwardOptions {
    return {
      training: true,
      seed: `${this.options.seed ?? 0}:${this.optimizer.step}:${this.micro}`,
    };
  }

  protected abstract run(batch: TBatch): { loss: tf.Scalar; aux: tf.Tensor[] };
  protected abstract metrics(values: Float32Array, micro: number, gradNorm: number): TMetrics;

  /** Forward + backward on one micro-batch; gradients add up until apply(). */
  accumulate(batch: TBatch): void {
    const { grads, loss, aux } = lossAndGrads(this.model, () => this.run(batch));
    const stats = [loss, ...aux];
    if (this.grads === null) {
      this.grads = grads;
      this.sums = stats;
    } else {
      for (const [name, g] of grads) {
        const old = this.grads.get(name);
        this.grads.set(name, old ? tf.tidy(() => tf.add(old, g)) : g);
        if (old) {
          old.dispose();
          g.dispose();
        }
      }
      this.sums = this.sums.map((s, i) => {
        const next = tf.add(s, stats[i]);
        s.dispose();
        stats[i].dispose();
        return next;
      });
    }
    this.micro += 1;
  }

  /** Average the accumulated gradients, clip, update the parameters at rate `lr`; returns the step's metrics. */
  apply(lr: number): TMetrics {
    if (this.grads === null || this.micro === 0)
      throw new Error('apply() called before accumulate()');
    const n = this.micro;
    const maxNorm = this.options.maxGradNorm ?? 1.0;
    // Averaging over micro-batches and clipping are one scalar factor on the summed
    // gradients, applied inside the optimizer's moment updates (no extra pass).
    const { norm, scale } = globalNormScale(
      this.grads,
      maxNorm > 0 && Number.isFinite(maxNorm) ? maxNorm : FLOAT32_MAX,
      n,
    );
    this.optimizer.applyGradients(this.model.params, this.grads, lr, scale);
    for (const g of this.grads.values()) g.dispose();
    scale.dispose();
    // One read for every number of the step.
    const packed = tf.tidy(() => tf.stack([norm, ...this.sums.map((s) => tf.reshape(s, []))]));
    const values = packed.dataSync() as Float32Array;
    packed.dispose();
    norm.dispose();
    for (const s of this.sums) s.dispose();
    this.grads = null;
    this.sums = [];
    this.micro = 0;
    return this.metrics(values.subarray(1), n, values[0]);
  }

  /** Drop accumulated gradients without applying them. */
  dispose(): void {
    if (this.grads) for (const g of this.grads.values()) g.dispose();
    for (const s of this.sums) s.dispose();
    this.grads = null;
    this.sums = [];
    this.micro = 0;
  }
}

/** MLM + NSP pretraining steps. */
export class PretrainingStep extends Accumulator<PretrainingBatch, PretrainingMetrics> {
  protected run(batch: PretrainingBatch): { loss: tf.Scalar; aux: tf.Tensor[] } {
    validateBatch(batch, this.model.config);
    const inputs = pretrainingTensors(batch);
    try {
      const l = pretrainingLosses(this.model, inputs, this.forwardOptions());
      return {
        loss: l.loss,
        aux: [l.mlmLoss, l.nspLoss, l.mlmCorrect, l.mlmCount, l.nspCorrect, tf.scalar(l.nspCount)],
      };
    } finally {
      disposeTensors(inputs);
    }
  }

  protected metrics(v: Float32Array, n: number, gradNorm: number): PretrainingMetrics {
    const [loss, mlm, nsp, mlmCorrect, mlmCount, nspCorrect, nspCount] = v;
    return {
      loss: loss / n,
      mlm_loss: mlm / n,
      nsp_loss: nsp / n,
      mlm_accuracy: mlmCount > 0 ? mlmCorrect / mlmCount : 0,
      nsp_accuracy: nspCount > 0 ? nspCorrect / nspCount : 0,
      grad_norm: gradNorm,
    };
  }
}

/** Sequence-classification (fine-tuning) steps. */
export class ClassificationStep extends Accumulator<ClassificationBatch, ClassificationMetrics> {
  protected run(batch: ClassificationBatch): { loss: tf.Scalar; aux: tf.Tensor[] } {
    validateBatch(batch, this.model.config);
    const inputs = classificationTensors(batch);
    try {
      const l = classificationLosses(this.model, inputs, this.forwardOptions());
      return { loss: l.loss, aux: [l.correct, tf.scalar(batch.batch_size)] };
    } finally {
      disposeTensors(inputs);
    }
  }

  protected metrics(v: Float32Array, n: number, gradNorm: number): ClassificationMetrics {
    const [loss, correct, count] = v;
    return {
      loss: loss / n,
      accuracy: this.model.numLabels === 1 ? NaN : correct / count,
      grad_norm: gradNorm,
    };
  }
}

/** One pretraining step on one batch (no accumulation). */
export function trainStep(
  model: BertModel,
  optimizer: Optimizer,
  batch: PretrainingBatch,
  lr: number,
  options: StepOptions = {},
): PretrainingMetrics {
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

/**
 * Forward only: classification logits [B, num_labels] (regression: [B, 1])
 * as a row-major Float32Array, for evaluation and predictions.
 */
export function predictClassification(model: BertModel, batch: EncoderBatch): Float32Array {
  validateBatch(batch, model.config);
  const inputs = encoderTensors(batch);
  try {
    const logits = tf.tidy(
      () => bertForSequenceClassification(model, inputs, { training: false }).logits,
    );
    const data = Float32Array.from(logits.dataSync() as Float32Array);
    logits.dispose();
    return data;
  } finally {
    disposeTensors(inputs);
  }
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

function spanTensors(batch: SpanBatch): SpanTensors {
  return {
    ...encoderTensors(batch),
    startPositions: tf.tensor1d(batch.start_positions, 'int32'),
    endPositions: tf.tensor1d(batch.end_positions, 'int32'),
  };
}

function tokenLabelTensors(batch: TokenLabelBatch): TokenLabelTensors {
  return {
    ...encoderTensors(batch),
    tokenLabels: tf.tensor1d(batch.labels, 'int32'),
    tokenWeights: tf.tensor1d(batch.label_weights, 'float32'),
  };
}

/** SQuAD fine-tuning steps; accuracy = fraction of windows whose argmax start and end are both right. */
export class QuestionAnsweringStep extends Accumulator<SpanBatch, ClassificationMetrics> {
  protected run(batch: SpanBatch): { loss: tf.Scalar; aux: tf.Tensor[] } {
    validateBatch(batch, this.model.config);
    const inputs = spanTensors(batch);
    try {
      const l = questionAnsweringLosses(this.model, inputs, this.forwardOptions());
      return { loss: l.loss, aux: [l.correct, tf.scalar(batch.batch_size)] };
    } finally {
      disposeTensors(inputs);
    }
  }

  protected metrics(v: Float32Array, n: number, gradNorm: number): ClassificationMetrics {
    const [loss, correct, count] = v;
    return { loss: loss / n, accuracy: correct / count, grad_norm: gradNorm };
  }
}

/** NER fine-tuning steps; accuracy over the labelled (first) pieces. */
export class TokenClassificationStep extends Accumulator<TokenLabelBatch, ClassificationMetrics> {
  protected run(batch: TokenLabelBatch): { loss: tf.Scalar; aux: tf.Tensor[] } {
    validateBatch(batch, this.model.config);
    const inputs = tokenLabelTensors(batch);
    try {
      const l = tokenClassificationLosses(this.model, inputs, this.forwardOptions());
      return { loss: l.loss, aux: [l.correct, l.count] };
    } finally {
      disposeTensors(inputs);
    }
  }

  protected metrics(v: Float32Array, n: number, gradNorm: number): ClassificationMetrics {
    const [loss, correct, count] = v;
    return { loss: loss / n, accuracy: count > 0 ? correct / count : 0, grad_norm: gradNorm };
  }
}

/** Forward only: start and end logits, each row-major [B, T]. */
export function predictSpans(
  model: BertModel,
  batch: EncoderBatch,
): { start: Float32Array; end: Float32Array } {
  validateBatch(batch, model.config);
  const inputs = encoderTensors(batch);
  try {
    const out = tf.tidy(() => {
      const r = bertForQuestionAnswering(model, inputs, { training: false });
      return [r.startLogits, r.endLogits];
    });
    const start = Float32Array.from(out[0].dataSync() as Float32Array);
    const end = Float32Array.from(out[1].dataSync() as Float32Array);
    for (const t of out) t.dispose();
    return { start, end };
  } finally {
    disposeTensors(inputs);
  }
}

/** Forward only: token-classification logits, row-major [B·T, num_labels]. */
export function predictTokenLogits(model: BertModel, batch: EncoderBatch): Float32Array {
  validateBatch(batch, model.config);
  const inputs = encoderTensors(batch);
  try {
    const logits = tf.tidy(() => bertForTokenClassification(model, inputs, { training: false }));
    const data = Float32Array.from(logits.dataSync() as Float32Array);
    logits.dispose();
    return data;
  } finally {
    disposeTensors(inputs);
  }
}
