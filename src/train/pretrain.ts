/**
 * The pretraining loop (MLM + NSP), visible top to bottom:
 *
 *   vocab → shards (tokenized on first use) → model (fresh, or the checkpoint
 *   being resumed) → loader worker → for each step: micro-batches → one
 *   optimizer step → events; every eval_every: held-out MLM/NSP metrics;
 *   every save_every and at the end: an atomic checkpoint.
 *
 * Knows nothing about terminals: it emits events to a Reporter and polls a
 * StopSignal between steps (Ctrl-C / `q` → finish the step, save, stop).
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserError } from '../errors.js';
import type { PretrainConfig } from '../config/types.js';
import { loadVocab } from '../tokenizer/vocab.js';
import { openShards } from '../data/shards.js';
import { ensureShards } from './shards.js';
import { buildMaskingVocab } from '../data/vocab.js';
import { createPipeline } from '../data/pipeline.js';
import { buildBatches, type PretrainingBatch as DataBatch } from '../data/batch.js';
import { PretrainingLoader, type LoaderCursor } from '../data/loader.js';
import { START_CURSOR } from '../data/stream.js';
import { toHfConfigJson, fromHfConfigJson, type BertConfig } from '../model/config.js';
import { bertConfigFromSection } from '../config/model.js';
import { createBertModel, bertModelFromParams, type BertModel } from '../model/bert.js';
import { toHfTensors, fromHfTensors } from '../model/hf.js';
import { countParameters, disposeParams } from '../model/params.js';
import { pretrainingTensors, disposeTensors } from '../model/batch.js';
import { pretrainingLosses } from '../model/losses.js';
import { PretrainingStep, type PretrainingMetrics } from '../model/step.js';
import type { Optimizer } from './optimizer.js';
import { microBatches, optimizerFor, scheduleFor } from './recipe.js';
import {
  saveCheckpoint,
  loadCheckpoint,
  NonFiniteWeightsError,
  type CheckpointDir,
  type TrainerState,
} from './checkpoint.js';
import { now, type Reporter } from '../ui/events.js';
import { shouldStop, memoryFields } from './loop-control.js';
import { loadPretrainingInit, initFromRecordOf } from '../export/init-from.js';
import type { BackendChoice } from '../backend/select.js';

export interface PretrainOptions {
  config: PretrainConfig;
  runDir: string;
  /** Checkpoint to continue from (--resume), or null for a fresh run. */
  resumeFrom: CheckpointDir | null;
  /** --max-steps: stop after this step (the LR schedule still follows train.max_steps). */
  stopAtStep: number | null;
  /** --max-minutes. */
  maxMinutes: number | null;
  reporter: Reporter;
  stopRequested: () => boolean;
  backend: BackendChoice;
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

/** Steps of the LR schedule: train.max_steps, or epochs × batches per epoch. */
function totalStepsFor(config: PretrainConfig, instancesPerEpoch: number): number {
  if (config.train.max_steps !== null) return config.train.max_steps;
  if (config.train.epochs === null) throw new UserError('train: set max_steps or epochs');
  return Math.max(
    1,
    Math.ceil((config.train.epochs * instancesPerEpoch) / config.train.batch_size),
  );
}

/** Held-out MLM/NSP loss and accuracy over fixed batches (no dropout). */
export function evaluatePretraining(
  model: BertModel,
  batches: readonly DataBatch[],
): Record<string, number> {
  let mlmLoss = 0;
  let nspLoss = 0;
  let mlmCorrect = 0;
  let mlmCount = 0;
  let nspCorrect = 0;
  let nspCount = 0;
  for (const b of batches) {
    const inputs = pretrainingTensors(b);
    const packed = tf.tidy(() => {
      const l = pretrainingLosses(model, inputs, { training: false });
      return tf.stack([l.mlmLoss, l.nspLoss, l.mlmCorrect, l.mlmCount, l.nspCorrect]);
    });
    disposeTensors(inputs);
    const v = packed.dataSync();
    packed.dispose();
    mlmLoss += v[0] * v[3];
    nspLoss += v[1] * b.batch_size;
    mlmCorrect += v[2];
    mlmCount += v[3];
    nspCorrect += v[4];
    nspCount += b.batch_size;
  }
  return {
    mlm_loss: mlmLoss / Math.max(mlmCount, 1e-9),
    mlm_accuracy: mlmCorrect / Math.max(mlmCount, 1e-9),
    nsp_loss: nspLoss / Math.max(nspCount, 1),
    nsp_accuracy: nspCorrect / Math.max(nspCount, 1),
    loss: mlmLoss / Math.max(mlmCount, 1e-9) + nspLoss / Math.max(nspCount, 1),
  };
}

interface ResumeState {
  model: BertModel;
  optimizer: Optimizer;
  state: TrainerState;
}

async function restore(
  dir: CheckpointDir,
  config: PretrainConfig,
  modelConfig: BertConfig,
): Promise<ResumeState> {
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
  ] as const) {
    if (saved[k] !== modelConfig[k]) {
      throw new UserError(
        `${dir}: checkpoint has ${k} ${saved[k]}, the config asks for ${modelConfig[k]} (another model size?)`,
      );
    }
  }
  const loaded = fromHfTensors(ckpt.model, saved, {
    heads: 'pretraining',
    source: join(dir, 'model.safetensors'),
  });
  const model = bertModelFromParams(saved, loaded.params, 'pretraining');
  const optimizer = optimizerFor(config.train);
  optimizer.importState(
    ckpt.optimizer,
    ckpt.trainerState.step,
    model.params,
    join(dir, 'optimizer.safetensors'),
  );
  return { model, optimizer, state: ckpt.trainerState };
}

export async function pretrain(opts: PretrainOptions): Promise<PretrainResult> {
  const { config, runDir, reporter } = opts;
  const started = performance.now();
  const vocab = loadVocab(config.data.vocab);
  const vocabTokens = vocab.tokens;
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
  const initFrom = initial?.source ?? initRecord?.initFrom ?? null;
  const modelConfig =
    initial?.config ?? initRecord?.config ?? modelConfigFor(config, vocabTokens.length);
  const shardsDir = await ensureShards(config.data, reporter);
  const source = openShards(shardsDir);
  const { micro, accum } = microBatches(config.train);
  const pipelineConfig = { ...config.data };
  const train = createPipeline(source, maskingVocab, pipelineConfig, config.train.seed, 'train');
  const totalSteps = totalStepsFor(config, train.stream.epochPlan(0).count);

  // Fixed held-out batches, built once: the same text and masks at every evaluation.
  const heldoutBatches: DataBatch[] = [];
  if (config.data.heldout_fraction > 0 && config.train.eval_every !== null) {
    const heldout = createPipeline(
      source,
      maskingVocab,
      pipelineConfig,
      config.train.seed,
      'heldout',
    );
    for (const { batch } of buildBatches(heldout.stream, START_CURSOR, micro, heldout.shape)) {
      heldoutBatches.push(batch);
      if (heldoutBatches.length >= config.train.eval_batches) break;
    }
  }

  let model: BertModel;
  let optimizer: Optimizer;
  let cursor: LoaderCursor = START_CURSOR;
  let step = 0;
  let bestMetric = Number.POSITIVE_INFINITY;
  if (opts.resumeFrom) {
    const r = await restore(opts.resumeFrom, config, modelConfig);
    model = r.model;
    optimizer = r.optimizer;
    step = r.state.step;
    cursor = r.state.data_cursor as LoaderCursor;
    bestMetric =
      typeof r.state.best_heldout_loss === 'number' ? r.state.best_heldout_loss : bestMetric;
    reporter.emit({
      type: 'log',
      time: now(),
      message: `resuming from ${opts.resumeFrom} at step ${step}`,
    });
  } else if (initial) {
    model = initial.model;
    optimizer = optimizerFor(config.train);
    reporter.emit({
      type: 'log',
      time: now(),
      message: `initialised from ${initial.source}${initial.initialized.length ? `; fresh: ${initial.initialized.join(', ')}` : ''}`,
    });
  } else {
    model = createBertModel(modelConfig, { heads: 'pretraining', seed: config.train.seed });
    optimizer = optimizerFor(config.train);
  }
  const endStep = opts.stopAtStep ?? totalSteps;
  const lrAt = scheduleFor(config.train, totalSteps);

  reporter.emit({
    type: 'run_start',
    time: now(),
    command: 'pretrain',
    run: runDir,
    backend: opts.backend.backend,
    model: {
      size: config.model.size,
      layers: modelConfig.num_hidden_layers,
      hidden: modelConfig.hidden_size,
      heads: modelConfig.num_attention_heads,
      parameters: countParameters(model.params),
    },
    data: `${shardsDir} (${source.numDocuments} documents)`,
    totalSteps: endStep,
    config: config as unknown as Record<string, unknown>,
  });

  const stepper = new PretrainingStep(model, optimizer, {
    maxGradNorm: config.train.max_grad_norm ?? 0,
    seed: config.train.seed,
  });
  const loader = PretrainingLoader.start({
    source: { kind: 'shards', dir: shardsDir },
    vocabTokens,
    config: pipelineConfig,
    seed: config.train.seed,
    batchSize: micro,
    split: 'train',
    cursor,
  });

  let lastCheckpoint = null as string | null;
  let lastMetrics: PretrainingMetrics | null = null;
  let lastEval: Record<string, number> = {};
  let status: PretrainResult['status'] = 'completed';
  let epoch = cursor.epoch;

  const save = async (best = false): Promise<void> => {
    const opt = optimizer.exportState();
    const state: TrainerState = {
      step,
      epoch,
      total_steps: totalSteps,
      data_cursor: cursor,
      seed: config.train.seed,
      best_heldout_loss: Number.isFinite(bestMetric) ? bestMetric : null,
      lr: lrAt(step),
      time: now(),
    };
    lastCheckpoint = await saveCheckpoint(
      runDir,
      {
        model: toHfTensors(model.params),
        optimizer: opt.tensors,
        trainerState: state,
        config: toHfConfigJson(modelConfig, 'BertForPreTraining', {
          bert: {
            lowercase: config.data.lowercase,
            run: config.name,
            ...(initFrom ? { init_from: initFrom } : {}),
          },
        }),
        vocabPath: config.data.vocab,
      },
      { keepLast: config.train.keep_last, best },
    );
    reporter.emit({ type: 'checkpoint', time: now(), step, path: lastCheckpoint, best });
  };

  const evaluate = async (): Promise<boolean> => {
    if (heldoutBatches.length === 0) return false;
    lastEval = evaluatePretraining(model, heldoutBatches);
    reporter.emit({ type: 'eval', time: now(), step, split: 'heldout', metrics: lastEval });
    if (lastEval.loss < bestMetric) {
      bestMetric = lastEval.loss;
      return true;
    }
    return false;
  };

  try {
    try {
      let windowTokens = 0;
      let windowExamples = 0;
      let windowStart = performance.now();
      let dataWaitMs = 0;
      while (step < endStep) {
        if (await shouldStop(opts, started, reporter)) {
          status = 'stopped';
          break;
        }
        const stepStart = performance.now();
        for (let i = 0; i < accum; i++) {
          const waitStart = performance.now();
          const item = await loader.next();
          dataWaitMs += performance.now() - waitStart;
          if (!item) throw new Error('the training data stream ended unexpectedly');
          stepper.accumulate(item.batch);
          windowTokens += item.batch.num_tokens;
          windowExamples += item.batch.batch_size;
          if (item.cursor) cursor = item.cursor;
        }
        epoch = cursor.epoch;
        const lr = lrAt(step);
        const m = stepper.apply(lr);
        step += 1;
        if (!Number.isFinite(m.loss)) {
          status = 'failed';
          reporter.emit({
            type: 'warning',
            time: now(),
            message: `loss is ${m.loss} at step ${step}: stopping; last good checkpoint: ${lastCheckpoint ?? 'none'}`,
          });
          break;
        }
        lastMetrics = m;
        const stepMs = performance.now() - stepStart;
        if (step % config.train.log_every === 0 || step === 1 || step === endStep) {
          const elapsed = (performance.now() - windowStart) / 1000;
          reporter.emit({
            type: 'step',
            time: now(),
            step,
            totalSteps: endStep,
            epoch,
            loss: m.loss,
            mlm_loss: m.mlm_loss,
            nsp_loss: m.nsp_loss,
            mlm_accuracy: m.mlm_accuracy,
            nsp_accuracy: m.nsp_accuracy,
            lr,
            grad_norm: m.grad_norm,
            tokens_per_s: windowTokens / elapsed,
            examples_per_s: windowExamples / elapsed,
            step_ms: stepMs,
            queue_depth: loader.queueDepth,
            data_wait_ms: dataWaitMs,
            ...memoryFields(),
          });
          windowTokens = 0;
          windowExamples = 0;
          dataWaitMs = 0;
          windowStart = performance.now();
        }
        const evalNow = config.train.eval_every !== null && step % config.train.eval_every === 0;
        const isBest = evalNow ? await evaluate() : false;
        if ((config.train.save_every !== null && step % config.train.save_every === 0) || isBest) {
          await save(isBest);
        }
      }
      if (status !== 'failed') {
        if (
          status === 'completed' &&
          config.train.eval_every !== null &&
          step % config.train.eval_every !== 0
        ) {
          const isBest = await evaluate();
          if (isBest) await save(true);
        }
        if (!lastCheckpoint || !lastCheckpoint.endsWith(`step-${step}`)) await save(false);
      }
    } catch (err) {
      if (!(err instanceof NonFiniteWeightsError)) throw err;
      status = 'failed';
      reporter.emit({
        type: 'warning',
        time: now(),
        message: `${err.message} at step ${step}: stopping without saving; last good checkpoint: ${lastCheckpoint ?? 'none'}`,
      });
    }
  } finally {
    await loader.stop();
    stepper.dispose();
    optimizer.dispose();
    disposeParams(model.params);
  }
  const finalMetrics: Record<string, number> = {};
  if (lastMetrics) Object.assign(finalMetrics, lastMetrics);
  for (const [k, v] of Object.entries(lastEval)) finalMetrics[`heldout_${k}`] = v;
  return { status, step, lastCheckpoint, finalMetrics };
}
