/**
 * Pretraining (MLM + NSP, or MLM only with `train.objective: mlm`) as a
 * client of the training engine (train/loop.ts):
 *
 *   vocab → shards (tokenized on first use) → model (fresh, --init-from, or
 *   the checkpoint being resumed) → loader worker → train(): micro-batches,
 *   schedule, held-out evaluation every eval_every on fixed batches from the
 *   held-out documents or `data.heldout_corpus` (`best` = lowest held-out
 *   loss), checkpoints every save_every and at the end.
 *
 * Knows nothing about terminals: the engine emits events to a Reporter and
 * polls a StopSignal between steps (Ctrl-C / `q` → finish the step, save, stop).
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserError } from '../../errors.js';
import type { PretrainConfig, PretrainObjective } from '../../config/types.js';
import { loadVocab } from '../../tokenizer/vocab.js';
import { openShards } from '../../data/shards.js';
import { ensureHeldoutShards, ensureShards } from '../../train/shards.js';
import { trainingPipelineConfig } from '../../data/config.js';
import { PRETRAIN_OBJECTIVE_DEFAULT, trainsPairHead } from '../../data/objective.js';
import type { DocumentSource } from '../../data/types.js';
import { buildMaskingVocab } from '../../data/vocab.js';
import { createPipeline, type DataSplitName, type Pipeline } from '../../data/pipeline.js';
import { buildBatches, type PretrainingBatch as DataBatch } from '../../data/batch.js';
import { PretrainingLoader, type LoaderCursor } from '../../data/loader.js';
import { START_CURSOR } from '../../data/stream.js';
import { toHfConfigJson, fromHfConfigJson, type BertConfig } from '../../model/config.js';
import { bertConfigFromSection } from '../../config/model.js';
import type { BertModel } from '../../model/bert.js';
import { freshModel, modelFromTensors } from '../../model/load.js';
import { pretrainingTensors, disposeTensors, type PretrainingBatch } from '../../model/batch.js';
import { pretrainingLosses } from '../../model/losses.js';
import { forInference } from '../../model/predict.js';
import { PretrainingStep } from '../../train/step.js';
import type { Optimizer } from '../../train/optimizer.js';
import { microBatches, optimizerFor } from '../../train/recipe.js';
import { loadCheckpoint, type CheckpointDir, type TrainerState } from '../../train/checkpoint.js';
import { now, type Reporter } from '../../ui/events.js';
import {
  modelShape,
  train as trainLoop,
  type Evaluator,
  type MicroBatch,
  type RunControl,
  type TrainingData,
} from '../../train/loop.js';
import {
  loadPretrainingInit,
  initFromRecordOf,
  type InitialPretrainingModel,
} from '../../export/init-from.js';
import { meanPairwiseCosine } from '../../metrics/similarity.js';

export interface PretrainOptions extends RunControl {
  config: PretrainConfig;
  /** Checkpoint to continue from (--resume), or null for a fresh run. */
  resumeFrom: CheckpointDir | null;
  /** --init-from: start from these weights (our checkpoint or a HF directory), not a random init. */
  initFrom?: string | null;
}

export interface PretrainResult {
  status: 'completed' | 'stopped' | 'failed';
  step: number;
  lastCheckpoint: string | null;
  finalMetrics: Record<string, number>;
}

/** The model config a pretraining config describes (named size + overrides + the vocab's size). */
export function modelConfigFor(config: PretrainConfig, vocabSize: number): BertConfig {
  const m = config.model;
  if (m.vocab_size !== null && m.vocab_size !== vocabSize) {
    throw new UserError(
      `model.vocab_size: ${m.vocab_size} does not match the ${vocabSize} tokens of ${config.data.vocab}`,
    );
  }
  if (config.data.max_seq_length > m.max_position_embeddings) {
    throw new UserError(
      `data.max_seq_length (${config.data.max_seq_length}) exceeds model.max_position_embeddings`,
    );
  }
  return bertConfigFromSection(m, vocabSize);
}

/** Steps of the run: train.max_steps, or epochs × batches per epoch; Infinity when only train.budget_minutes ends it. */
function totalStepsFor(config: PretrainConfig, instancesPerEpoch: number): number {
  if (config.train.max_steps !== null) return config.train.max_steps;
  if (config.train.epochs === null) {
    if (config.train.budget_minutes !== null) return Number.POSITIVE_INFINITY;
    throw new UserError(
      "train: set max_steps, epochs or budget_minutes (the schedule's length; --max-steps only stops a run early)",
    );
  }
  return Math.max(
    1,
    Math.ceil((config.train.epochs * instancesPerEpoch) / config.train.batch_size),
  );
}

/**
 * Held-out metrics over fixed batches (no dropout): MLM loss and accuracy,
 * `distinct_top_predictions` (how many different token ids the model's argmax
 * takes over all masked positions: 1 for a collapsed model that predicts one
 * token everywhere), `cls_mean_cosine` (the mean cosine similarity of the
 * final [CLS] states of different held-out sequences: near 1 when [CLS] no
 * longer depends on the input, as after MLM-only pretraining, which slows a
 * classifier fine-tuned on it), and with NSP its loss and accuracy. `loss` is
 * what `best` is judged by: mlm_loss + nsp_loss, or mlm_loss alone without NSP.
 */
export async function evaluatePretraining(
  model: BertModel,
  batches: readonly PretrainingBatch[],
  objective: PretrainObjective = PRETRAIN_OBJECTIVE_DEFAULT,
): Promise<Record<string, number>> {
  const nsp = trainsPairHead(objective);
  let mlmLoss = 0;
  let nspLoss = 0;
  let mlmCorrect = 0;
  let mlmCount = 0;
  let nspCorrect = 0;
  let nspCount = 0;
  const predicted = new Set<number>();
  const clsStates: Float32Array[] = [];
  for (const b of batches) {
    const inputs = pretrainingTensors(b);
    const [packed, predictions, cls] = tf.tidy(() => {
      const l = pretrainingLosses(forInference(model), inputs, { training: false, nsp });
      const zero = tf.scalar(0);
      return [
        tf.stack([l.mlmLoss, l.nspLoss ?? zero, l.mlmCorrect, l.mlmCount, l.nspCorrect ?? zero]),
        l.mlmPredictions,
        l.clsStates,
      ];
    });
    disposeTensors(inputs);
    const [v, ids, clsValues] = await Promise.all([packed.data(), predictions.data(), cls.data()]);
    clsStates.push(clsValues as Float32Array);
    tf.dispose([packed, predictions, cls]);
    // Slot k of the predictions is slot k of the batch's [B, P] prediction arrays.
    for (let k = 0; k < ids.length; k++) if (b.masked_lm_weights[k] > 0) predicted.add(ids[k]);
    mlmLoss += v[0] * v[3];
    nspLoss += v[1] * b.batch_size;
    mlmCorrect += v[2];
    mlmCount += v[3];
    nspCorrect += v[4];
    nspCount += b.batch_size;
  }
  const mlm = mlmLoss / Math.max(mlmCount, 1e-9);
  const hidden = model.config.hidden_size;
  const allCls = new Float32Array(clsStates.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of clsStates) {
    allCls.set(c, at);
    at += c.length;
  }
  const alike = meanPairwiseCosine(allCls, allCls.length / hidden, hidden);
  const shared = {
    distinct_top_predictions: predicted.size,
    // NaN (fewer than two sequences) would not survive JSON: left out then.
    ...(Number.isNaN(alike) ? {} : { cls_mean_cosine: alike }),
  };
  if (!nsp) {
    return {
      mlm_loss: mlm,
      mlm_accuracy: mlmCorrect / Math.max(mlmCount, 1e-9),
      loss: mlm,
      ...shared,
    };
  }
  return {
    mlm_loss: mlm,
    mlm_accuracy: mlmCorrect / Math.max(mlmCount, 1e-9),
    nsp_loss: nspLoss / Math.max(nspCount, 1),
    nsp_accuracy: nspCorrect / Math.max(nspCount, 1),
    loss: mlm + nspLoss / Math.max(nspCount, 1),
    ...shared,
  };
}

interface StartingPoint {
  model: BertModel;
  optimizer: Optimizer;
  /** Set when resuming: the trainer state the checkpoint holds. */
  state: TrainerState | null;
}

async function restore(
  dir: CheckpointDir,
  config: PretrainConfig,
  modelConfig: BertConfig,
): Promise<StartingPoint> {
  const ckpt = await loadCheckpoint(dir);
  if (!ckpt.trainerState || !ckpt.optimizer) {
    throw new UserError(
      `${dir}: not a training checkpoint (no trainer_state.json / optimizer.safetensors)`,
    );
  }
  const saved = fromHfConfigJson(ckpt.config, join(dir, 'config.json'));
  for (const k of [
    'vocab_size',
    'hidden_size',
    'num_hidden_layers',
    'num_attention_heads',
    'intermediate_size',
    'layer_norm',
    'tie_word_embeddings',
  ] as const) {
    if (saved[k] !== modelConfig[k]) {
      throw new UserError(
        `${dir}: checkpoint has ${k} ${saved[k]}, the config asks for ${modelConfig[k]} (resume with the model section it was trained with)`,
      );
    }
  }
  const { model } = modelFromTensors(
    ckpt.model,
    saved,
    { heads: 'pretraining' },
    { source: join(dir, 'model.safetensors') },
  );
  const optimizer = optimizerFor(config.train);
  optimizer.importState(
    ckpt.optimizer,
    ckpt.trainerState.step,
    model.params,
    join(dir, 'optimizer.safetensors'),
  );
  return { model, optimizer, state: ckpt.trainerState };
}

/** The model training starts from: the checkpoint resumed, the --init-from weights, or a fresh init. */
async function startingPoint(
  opts: PretrainOptions,
  modelConfig: BertConfig,
  initial: InitialPretrainingModel | null,
): Promise<StartingPoint> {
  const { config, reporter } = opts;
  const log = (message: string): void => reporter.emit({ type: 'log', time: now(), message });
  if (opts.resumeFrom) {
    const r = await restore(opts.resumeFrom, config, modelConfig);
    log(`resuming from ${opts.resumeFrom} at step ${r.state!.step}`);
    return r;
  }
  const optimizer = optimizerFor(config.train);
  if (initial) {
    const fresh = initial.initialized.length ? `; fresh: ${initial.initialized.join(', ')}` : '';
    log(`initialised from ${initial.source}${fresh}`);
    return { model: initial.model, optimizer, state: null };
  }
  const model = freshModel(modelConfig, { heads: 'pretraining' }, config.train.seed);
  return { model, optimizer, state: null };
}

/** The loader worker's batches as the engine's training data; the cursor travels with each. */
class LoaderData implements TrainingData<DataBatch> {
  private waitMs = 0;

  constructor(
    private readonly loader: PretrainingLoader,
    private position: LoaderCursor,
  ) {}

  async next(): Promise<MicroBatch<DataBatch>> {
    const waitStart = performance.now();
    const item = await this.loader.next();
    this.waitMs += performance.now() - waitStart;
    if (!item) throw new Error('the training data stream ended unexpectedly');
    if (item.cursor) this.position = item.cursor;
    return { batch: item.batch, examples: item.batch.batch_size, tokens: item.batch.num_tokens };
  }

  get passes(): number {
    return this.position.epoch;
  }

  epochAt(): number {
    return this.position.epoch;
  }

  cursor(): LoaderCursor {
    return this.position;
  }

  stats(): Record<string, number> {
    const s = { queue_depth: this.loader.queueDepth, data_wait_ms: this.waitMs };
    this.waitMs = 0;
    return s;
  }

  stop(): Promise<void> {
    return this.loader.stop();
  }
}

/** A run's train or held-out pipeline: its corpus split and masked by its data settings, objective and seed. */
function runPipeline(
  config: PretrainConfig,
  source: DocumentSource,
  maskingVocab: ReturnType<typeof buildMaskingVocab>,
  split: DataSplitName,
): Pipeline {
  return createPipeline(
    source,
    maskingVocab,
    trainingPipelineConfig(config),
    config.train.seed,
    split,
  );
}

/**
 * Fixed held-out batches, built once: the same text and masks at every
 * evaluation. From `data.heldout_corpus`'s shards when set, else from the
 * documents `heldout_fraction` keeps out of training.
 */
async function heldoutBatchesFor(
  config: PretrainConfig,
  source: DocumentSource,
  maskingVocab: ReturnType<typeof buildMaskingVocab>,
  micro: number,
  reporter: Reporter,
): Promise<DataBatch[]> {
  const batches: DataBatch[] = [];
  if (config.train.eval_every === null) return batches;
  let heldout: Pipeline;
  if (config.data.heldout_corpus) {
    const dir = await ensureHeldoutShards(config.data, reporter);
    heldout = runPipeline(config, openShards(dir), maskingVocab, 'heldout_corpus');
  } else if (config.data.heldout_fraction > 0) {
    heldout = runPipeline(config, source, maskingVocab, 'heldout');
  } else {
    return batches;
  }
  for (const { batch } of buildBatches(heldout.stream, START_CURSOR, micro, heldout.shape)) {
    batches.push(batch);
    if (batches.length >= config.train.eval_batches) break;
  }
  return batches;
}

/** Held-out MLM (and NSP) metrics as the engine's evaluation (lower loss is better). */
function heldoutEvaluator(
  model: BertModel,
  batches: readonly DataBatch[],
  objective: PretrainObjective,
): Evaluator | null {
  if (batches.length === 0) return null;
  return {
    evaluate: async () => {
      const m = await evaluatePretraining(model, batches, objective);
      return { splits: [['heldout', m]], score: m.loss, record: m };
    },
    better: 'lower',
    perEpoch: false,
    saveEach: false,
    onStop: false,
  };
}

/** What a pretraining run starts from: vocab, shards, the model's config and where its weights come from. */
async function prepare(opts: PretrainOptions) {
  const { config } = opts;
  const vocabTokens = loadVocab(config.data.vocab).tokens;
  const maskingVocab = buildMaskingVocab(vocabTokens, config.data.vocab);
  // --init-from: the checkpoint decides the model's shape; a resumed --init-from run reads it back.
  const initial =
    opts.initFrom && !opts.resumeFrom
      ? await loadPretrainingInit(opts.initFrom, {
          vocabPath: config.data.vocab,
          maxSeqLength: config.data.max_seq_length,
          seed: config.train.seed,
        })
      : null;
  const initRecord = opts.resumeFrom ? initFromRecordOf(opts.resumeFrom) : null;
  const modelConfig =
    initial?.config ?? initRecord?.config ?? modelConfigFor(config, vocabTokens.length);
  const shardsDir = await ensureShards(config.data, opts.reporter);
  const source = openShards(shardsDir);
  const { micro } = microBatches(config.train);
  const train = runPipeline(config, source, maskingVocab, 'train');
  return {
    vocabTokens,
    initial,
    initFrom: initial?.source ?? initRecord?.initFrom ?? null,
    modelConfig,
    shardsDir,
    source,
    micro,
    totalSteps: totalStepsFor(config, train.stream.epochPlan(0).count),
    heldoutBatches: await heldoutBatchesFor(config, source, maskingVocab, micro, opts.reporter),
  };
}

/** config.json of every pretraining checkpoint. */
function checkpointConfig(
  config: PretrainConfig,
  modelConfig: BertConfig,
  initFrom: string | null,
): Record<string, unknown> {
  return toHfConfigJson(modelConfig, 'BertForPreTraining', {
    bert: {
      lowercase: config.data.lowercase,
      run: config.name,
      ...(initFrom ? { init_from: initFrom } : {}),
    },
  });
}

function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

export async function pretrain(opts: PretrainOptions): Promise<PretrainResult> {
  const { config } = opts;
  const p = await prepare(opts);
  const { model, optimizer, state } = await startingPoint(opts, p.modelConfig, p.initial);
  const cursor = (state?.data_cursor as LoaderCursor | undefined) ?? START_CURSOR;
  const loader = PretrainingLoader.start({
    source: { kind: 'shards', dir: p.shardsDir },
    vocabTokens: p.vocabTokens,
    config: trainingPipelineConfig(config),
    seed: config.train.seed,
    batchSize: p.micro,
    split: 'train',
    cursor,
  });
  const result = await trainLoop({
    command: 'pretrain',
    runDir: opts.runDir,
    train: config.train,
    totalSteps: p.totalSteps,
    endStep: opts.stopAtStep ?? p.totalSteps,
    model,
    optimizer,
    stepper: new PretrainingStep(model, optimizer, {
      maxGradNorm: config.train.max_grad_norm ?? 0,
      seed: config.train.seed,
      objective: config.train.objective,
    }),
    data: new LoaderData(loader, cursor),
    evaluator: heldoutEvaluator(model, p.heldoutBatches, config.train.objective),
    checkpoint: {
      config: checkpointConfig(config, p.modelConfig, p.initFrom),
      vocabPath: config.data.vocab,
      stateFields: ({ lr, best }) => ({ best_heldout_loss: best, lr }),
      atEnd: true,
    },
    describe: {
      backend: opts.backend.backend,
      model: { size: config.model.size, ...modelShape(model) },
      data:
        `${p.shardsDir} (${p.source.numDocuments} documents)` +
        (config.data.heldout_corpus ? `; held out: ${config.data.heldout_corpus.join(', ')}` : ''),
      config: config as unknown as Record<string, unknown>,
    },
    resume: state
      ? {
          step: state.step,
          best: numberOrNull(state.best_heldout_loss),
          trainMs: numberOrNull(state.elapsed_train_ms) ?? 0,
        }
      : undefined,
    control: { stopRequested: opts.stopRequested },
    reporter: opts.reporter,
  });
  const finalMetrics: Record<string, number> = { ...result.lastMetrics };
  for (const [k, v] of Object.entries(result.lastEval?.splits[0][1] ?? {}))
    finalMetrics[`heldout_${k}`] = v;
  const { status, step, lastCheckpoint } = result;
  return { status, step, lastCheckpoint, finalMetrics };
}
