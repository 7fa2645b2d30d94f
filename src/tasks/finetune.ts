/**
 * Every fine-tuning task (GLUE, SQuAD, CoNLL-2003) as a client of the training
 * engine (train/loop.ts): BERT's recipe (AdamW, warm-up + linear decay,
 * gradient accumulation) over the task's features in seeded epochs,
 * evaluation per epoch or every eval_every steps and at the end, a checkpoint
 * at each evaluation, `best` by the task's main metric (higher is better).
 */
import { UserError } from '../errors.js';
import type { FinetuneConfig } from '../config/types.js';
import type { BertModel } from '../model/bert.js';
import type { Optimizer } from '../train/optimizer.js';
import { microBatches, optimizerFor } from '../train/recipe.js';
import {
  modelShape,
  train,
  type Evaluation,
  type RunControl,
  type StepMetrics,
  type Stepper,
} from '../train/loop.js';
import { ShuffledEpochs, fineTuningSteps } from '../train/epochs.js';
import type { InitialModel } from './initial-model.js';
import type { EncodedSequence } from '../model/batch.js';
import type { StepOptions } from '../train/step.js';

/** What every fine-tuning task is given: its config and the command's run control. */
export interface FinetuneSession extends RunControl {
  config: FinetuneConfig;
}

/** What a task adds: its features, batches, loss and evaluation. */
export interface FinetuneRun<TBatch, TFeature extends EncodedSequence> extends FinetuneSession {
  init: InitialModel;
  /** The training features (sentences, windows, chunks), already encoded. */
  features: readonly TFeature[];
  /** Rng stream of the epoch shuffles (train/epochs.ts SHUFFLE_STREAM). */
  shuffleStream: number;
  /** One micro-batch of features, padded (model/batch.ts padSequences) with its labels. */
  collate: (features: readonly TFeature[]) => TBatch;
  /** The task's training step: its loss (one of train/step.ts's classes). */
  Step: new (
    model: BertModel,
    optimizer: Optimizer,
    options: StepOptions,
  ) => Stepper<TBatch, StepMetrics>;
  /** The current model on the evaluation split(s); `record` is what checkpoints and `best` keep. */
  evaluate: () => Promise<Evaluation>;
  /** config.json of a checkpoint. */
  checkpointConfig: Record<string, unknown>;
  dataLabel: string;
}

export interface FinetuneResult<TRecord = Record<string, number>> {
  status: 'completed' | 'stopped' | 'failed';
  step: number;
  best: { step: number; metrics: TRecord } | null;
  bestCheckpoint: string | null;
  lastCheckpoint: string | null;
}

export async function runFinetuning<TBatch, TFeature extends EncodedSequence, TRecord>(
  o: FinetuneRun<TBatch, TFeature>,
): Promise<FinetuneResult<TRecord>> {
  const { config, init } = o;
  const count = o.features.length;
  if (count === 0) throw new UserError('no training examples');
  const { micro } = microBatches(config.train);
  const steps = fineTuningSteps(config.train, count, o.stopAtStep);
  const optimizer = optimizerFor(config.train);
  const result = await train({
    command: 'finetune',
    runDir: o.runDir,
    train: config.train,
    totalSteps: steps.totalSteps,
    endStep: steps.endStep,
    model: init.model,
    optimizer,
    stepper: new o.Step(init.model, optimizer, {
      maxGradNorm: config.train.max_grad_norm ?? 0,
      seed: config.train.seed,
    }),
    data: new ShuffledEpochs({
      count,
      micro,
      seed: config.train.seed,
      stream: o.shuffleStream,
      stepsPerEpoch: steps.stepsPerEpoch,
      collate: (indices) => {
        const features = indices.map((i) => o.features[i]);
        const tokens = features.reduce((n, f) => n + f.ids.length, 0);
        return { batch: o.collate(features), examples: features.length, tokens };
      },
    }),
    evaluator: {
      evaluate: o.evaluate,
      better: 'higher',
      perEpoch: config.train.eval_every === null,
      saveEach: true,
      onStop: true,
    },
    checkpoint: {
      config: o.checkpointConfig,
      vocabPath: init.vocabPath,
      stateFields: ({ record }) => ({ metrics: record }),
      atEnd: false,
    },
    describe: {
      backend: o.backend.backend,
      model: {
        size: `${init.config.num_hidden_layers}L/${init.config.hidden_size}H from ${init.source}`,
        ...modelShape(init.model),
      },
      data: o.dataLabel,
      config: config as unknown as Record<string, unknown>,
    },
    control: { stopRequested: o.stopRequested },
    reporter: o.reporter,
  });
  const { best } = result;
  return {
    status: result.status,
    step: result.step,
    best: best ? { step: best.step, metrics: best.record as TRecord } : null,
    bestCheckpoint: result.bestCheckpoint,
    lastCheckpoint: result.lastCheckpoint,
  };
}

/** One evaluation split `dev`, scored by its F1 (SQuAD, CoNLL-2003). */
export function devEvaluation(metrics: Record<string, number>): Evaluation {
  return { splits: [['dev', metrics]], score: metrics.f1 ?? Number.NaN, record: metrics };
}
