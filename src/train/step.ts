/**
 * One optimisation step: forward + backward on one or more micro-batches
 * (gradient accumulation), global-norm clipping, the optimizer update.
 * Every tensor made here is released before returning; the metrics come
 * back as plain numbers. The engine (train/loop.ts) drives these per task.
 */
import * as tf from '@tensorflow/tfjs-core';
import { globalNormScale, type Optimizer } from './optimizer.js';
import {
  classificationTensors,
  disposeTensors,
  encoderTensors,
  pretrainingTensors,
  validateBatch,
  type ClassificationBatch,
  type EncoderBatch,
  type PretrainingBatch,
  type SpanBatch,
  type TokenLabelBatch,
} from '../model/batch.js';
import type { BertModel, ForwardOptions } from '../model/bert.js';
import type { PretrainObjective } from '../config/types.js';
import { PRETRAIN_OBJECTIVE_DEFAULT, trainsPairHead } from '../data/objective.js';
import {
  classificationLosses,
  pretrainingLosses,
  questionAnsweringLosses,
  tokenClassificationLosses,
  type SpanTensors,
  type TokenLabelTensors,
} from '../model/losses.js';

/**
 * "No clipping" as a finite clip norm: Number.MAX_VALUE becomes Infinity in
 * float32 and Infinity / Infinity poisons every gradient with NaN.
 */
const FLOAT32_MAX = 3.4e38;

export interface PretrainingMetrics {
  loss: number;
  mlm_loss: number;
  /** Absent when the objective is mlm. */
  nsp_loss?: number;
  mlm_accuracy: number;
  /** Absent when the objective is mlm. */
  nsp_accuracy?: number;
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
abstract class Accumulator<TBatch extends EncoderBatch, TMetrics> {
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

  /**
   * One micro-batch's forward pass: `batch` checked against the model's config
   * and made into tensors, `losses` run on them, the input tensors released after.
   */
  protected forward<TInputs extends object>(
    batch: TBatch,
    toTensors: (batch: TBatch) => TInputs,
    losses: (inputs: TInputs) => { loss: tf.Scalar; aux: tf.Tensor[] },
  ): { loss: tf.Scalar; aux: tf.Tensor[] } {
    validateBatch(batch, this.model.config);
    const inputs = toTensors(batch);
    try {
      return losses(inputs);
    } finally {
      disposeTensors(inputs);
    }
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
  async apply(lr: number): Promise<TMetrics> {
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
    norm.dispose();
    for (const s of this.sums) s.dispose();
    // Reset before the read's await: meanwhile the accumulator holds no disposed tensors.
    this.grads = null;
    this.sums = [];
    this.micro = 0;
    const values = (await packed.data()) as Float32Array;
    packed.dispose();
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

export interface PretrainingStepOptions extends StepOptions {
  /**
   * mlm+nsp (default): loss = MLM + NSP; mlm+sop: the NSP head learns sentence
   * order instead (the data decides the labels). mlm: MLM only; the pooler and NSP
   * head get no gradient, so the optimizer leaves them alone (no update, no
   * weight decay: it skips parameters without a gradient).
   */
  objective?: PretrainObjective;
}

/** Pretraining steps: MLM + NSP, or MLM only. */
export class PretrainingStep extends Accumulator<PretrainingBatch, PretrainingMetrics> {
  private readonly nsp: boolean;

  constructor(model: BertModel, optimizer: Optimizer, options: PretrainingStepOptions = {}) {
    super(model, optimizer, options);
    this.nsp = trainsPairHead(options.objective ?? PRETRAIN_OBJECTIVE_DEFAULT);
  }

  protected run(batch: PretrainingBatch): { loss: tf.Scalar; aux: tf.Tensor[] } {
    return this.forward(batch, pretrainingTensors, (inputs) => {
      const l = pretrainingLosses(this.model, inputs, { ...this.forwardOptions(), nsp: this.nsp });
      if (!l.nspLoss || !l.nspCorrect) {
        return { loss: l.loss, aux: [l.mlmLoss, l.mlmCorrect, l.mlmCount] };
      }
      return {
        loss: l.loss,
        aux: [l.mlmLoss, l.nspLoss, l.mlmCorrect, l.mlmCount, l.nspCorrect, tf.scalar(l.nspCount)],
      };
    });
  }

  protected metrics(v: Float32Array, n: number, gradNorm: number): PretrainingMetrics {
    if (!this.nsp) {
      const [loss, mlm, mlmCorrect, mlmCount] = v;
      return {
        loss: loss / n,
        mlm_loss: mlm / n,
        mlm_accuracy: mlmCount > 0 ? mlmCorrect / mlmCount : 0,
        grad_norm: gradNorm,
      };
    }
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
    return this.forward(batch, classificationTensors, (inputs) => {
      const l = classificationLosses(this.model, inputs, this.forwardOptions());
      return { loss: l.loss, aux: [l.correct, tf.scalar(batch.batch_size)] };
    });
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
    return this.forward(batch, spanTensors, (inputs) => {
      const l = questionAnsweringLosses(this.model, inputs, this.forwardOptions());
      return { loss: l.loss, aux: [l.correct, tf.scalar(batch.batch_size)] };
    });
  }

  protected metrics(v: Float32Array, n: number, gradNorm: number): ClassificationMetrics {
    const [loss, correct, count] = v;
    return { loss: loss / n, accuracy: correct / count, grad_norm: gradNorm };
  }
}

/** NER fine-tuning steps; accuracy over the labelled (first) pieces. */
export class TokenClassificationStep extends Accumulator<TokenLabelBatch, ClassificationMetrics> {
  protected run(batch: TokenLabelBatch): { loss: tf.Scalar; aux: tf.Tensor[] } {
    return this.forward(batch, tokenLabelTensors, (inputs) => {
      const l = tokenClassificationLosses(this.model, inputs, this.forwardOptions());
      return { loss: l.loss, aux: [l.correct, l.count] };
    });
  }

  protected metrics(v: Float32Array, n: number, gradNorm: number): ClassificationMetrics {
    const [loss, correct, count] = v;
    return { loss: loss / n, accuracy: count > 0 ? correct / count : 0, grad_norm: gradNorm };
  }
}
