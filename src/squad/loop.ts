/**
 * The fine-tuning loop shared by the span (SQuAD) and token (CoNLL-2003)
 * tasks: the GLUE loop's recipe (AdamW, warm-up + linear decay, gradient
 * accumulation, evaluation per epoch or every eval_every steps, `best` by
 * the main metric) over task-specific batches and evaluation. Emits events;
 * knows nothing about terminals.
 */
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';
import type { FinetuneConfig } from '../config/types.js';
import { Rng } from '../data/rng.js';
import { toHfTensors } from '../model/hf.js';
import { countParameters, disposeParams, initialValue } from '../model/params.js';
import type { ClassificationMetrics } from '../model/step.js';
import type { BertModel } from '../model/bert.js';
import type { BertHeads } from '../model/params.js';
import type { Optimizer } from '../train/optimizer.js';
import { microBatches, optimizerFor, scheduleFor } from '../train/recipe.js';
import { saveCheckpoint, type TrainerState } from '../train/checkpoint.js';
import type { BackendChoice } from '../backend/select.js';
import { now, type Reporter } from '../ui/events.js';
import { shouldStop, memoryFields } from '../train/loop-control.js';
import { initialClassifier, type InitialModel } from '../finetune/init.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBertDirectory } from '../export/load.js';
import { fromHfTensors } from '../model/hf.js';
import { bertModelFromParams } from '../model/bert.js';

export interface Stepper<TBatch> {
  accumulate(batch: TBatch): void;
  apply(lr: number): ClassificationMetrics;
  dispose(): void;
}

export interface TaskLoopOptions<TBatch> {
  config: FinetuneConfig;
  init: InitialModel;
  runDir: string;
  stopAtStep: number | null;
  maxMinutes: number | null;
  reporter: Reporter;
  stopRequested: () => boolean;
  backend: BackendChoice;
  /** Number of training features (windows / sentence chunks). */
  trainCount: number;
  /** One micro-batch from feature indices, and how many real tokens it holds. */
  collate: (indices: readonly number[]) => { batch: TBatch; tokens: number };
  makeStepper: (model: BertModel, optimizer: Optimizer, seed: number) => Stepper<TBatch>;
  /** Metrics of the current model on the evaluation split. */
  evaluate: () => Record<string, number>;
  evalSplit: string;
  mainMetric: string;
  /** config.json of a checkpoint. */
  checkpointConfig: () => Record<string, unknown>;
  dataLabel: string;
}

export interface TaskLoopResult {
  status: 'completed' | 'stopped' | 'failed';
  step: number;
  best: { step: number; metrics: Record<string, number> } | null;
  bestCheckpoint: string | null;
  lastCheckpoint: string | null;
}

function shuffled(n: number, seed: number, epoch: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const rng = Rng.derive(seed, 11, epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * A pretrained encoder with a fresh span or token head: loads like the GLUE
 * classifier (same sources, same checks), then drops the pooler (HF's span
 * and token models have none) and swaps in the task head.
 */
export async function initialTaskModel(
  config: FinetuneConfig,
  heads: Extract<BertHeads, 'question_answering' | 'token_classification'>,
  numLabels: number,
  seed: number,
): Promise<InitialModel> {
  if (config.from !== null && config.from !== 'none')
    return loadTaskHeads(config.from, heads, numLabels, seed);
  const init = await initialClassifier(config.from, numLabels, config, seed);
  const { params } = init.model;
  for (const name of ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']) {
    params.get(name)?.dispose();
    params.delete(name);
  }
  if (heads === 'question_answering') {
    for (const name of ['classifier.weight', 'classifier.bias']) {
      params.get(name)?.dispose();
      params.delete(name);
    }
    const H = init.config.hidden_size;
    const specs = [
      { name: 'qa_outputs.weight', kind: 'linear' as const, shape: [H, 2] },
      { name: 'qa_outputs.bias', kind: 'bias' as const, shape: [2] },
    ];
    specs.forEach((spec, i) => {
      const v = initialValue(spec, init.config, seed + 1000 + i);
      params.set(spec.name, tf.variable(v, true));
      v.dispose();
    });
  }
  init.model.heads = heads;
  init.model.numLabels = heads === 'question_answering' ? 2 : numLabels;
  return init;
}

/**
 * From a checkpoint or HF directory: the encoder must be complete; the task
 * head is taken from the file when it is there (continuing a SQuAD/NER model,
 * or an HF BertForQuestionAnswering) and fresh otherwise; a pooler is ignored.
 */
async function loadTaskHeads(
  from: string,
  heads: Extract<BertHeads, 'question_answering' | 'token_classification'>,
  numLabels: number,
  seed: number,
): Promise<InitialModel> {
  const bert = await readBertDirectory(from, '--from');
  const labels = heads === 'question_answering' ? 2 : numLabels;
  // A classifier of another size (e.g. a GLUE model's) is a different head: start it fresh.
  const tensors = new Map(bert.tensors);
  const classifier = tensors.get('classifier.weight');
  if (heads === 'question_answering' || (classifier && classifier.shape[0] !== labels)) {
    tensors.delete('classifier.weight');
    tensors.delete('classifier.bias');
  }
  const loaded = fromHfTensors(tensors, bert.config, {
    heads,
    numLabels: labels,
    newHeads: { seed },
    source: join(bert.dir, 'model.safetensors'),
  });
  // transformers >= 5 saves tokenizer.json only: keep a vocab.txt for our checkpoints.
  let vocabPath = bert.vocabPath;
  if (vocabPath === null) {
    vocabPath = join(mkdtempSync(join(tmpdir(), 'bert-vocab-')), 'vocab.txt');
    writeFileSync(vocabPath, bert.vocab.toText());
  }
  return {
    model: bertModelFromParams(bert.config, loaded.params, heads, labels),
    config: bert.config,
    vocabPath,
    lowercase: bert.lowercase,
    source: bert.dir,
    initialized: loaded.initialized,
  };
}

export async function runTaskLoop<TBatch>(o: TaskLoopOptions<TBatch>): Promise<TaskLoopResult> {
  const { config, reporter, init } = o;
  const { model } = init;
  const started = performance.now();
  const seed = config.train.seed;
  if (o.trainCount === 0) throw new UserError('no training examples');
  const { micro, accum } = microBatches(config.train);
  const stepsPerEpoch = Math.ceil(o.trainCount / config.train.batch_size);
  const totalSteps =
    config.train.max_steps ?? Math.max(1, Math.ceil((config.train.epochs ?? 3) * stepsPerEpoch));
  const endStep = Math.min(o.stopAtStep ?? totalSteps, totalSteps);
  const lrAt = scheduleFor(config.train, totalSteps);
  reporter.emit({
    type: 'run_start',
    time: now(),
    command: 'finetune',
    run: o.runDir,
    backend: o.backend.backend,
    model: {
      size: `${init.config.num_hidden_layers}L/${init.config.hidden_size}H from ${init.source}`,
      layers: init.config.num_hidden_layers,
      hidden: init.config.hidden_size,
      heads: init.config.num_attention_heads,
      parameters: countParameters(model.params),
    },
    data: o.dataLabel,
    totalSteps: endStep,
    config: config as unknown as Record<string, unknown>,
  });
  const optimizer = optimizerFor(config.train);
  const stepper = o.makeStepper(model, optimizer, seed);
  let step = 0;
  let status: TaskLoopResult['status'] = 'completed';
  let best: TaskLoopResult['best'] = null;
  let bestCheckpoint: string | null = null;
  let lastCheckpoint: string | null = null;
  let bestScore = Number.NEGATIVE_INFINITY;

  const save = async (isBest: boolean, metrics: Record<string, number> | null): Promise<void> => {
    const state: TrainerState = {
      step,
      epoch: step / stepsPerEpoch,
      total_steps: totalSteps,
      data_cursor: { step },
      seed,
      metrics,
      time: now(),
    };
    const path = await saveCheckpoint(
      o.runDir,
      {
        model: toHfTensors(model.params),
        optimizer: optimizer.exportState().tensors,
        trainerState: state,
        config: o.checkpointConfig(),
        vocabPath: init.vocabPath,
      },
      { keepLast: config.train.keep_last, best: isBest },
    );
    reporter.emit({ type: 'checkpoint', time: now(), step, path, best: isBest });
    lastCheckpoint = path;
    if (isBest) bestCheckpoint = path;
  };
  const evaluate = async (): Promise<void> => {
    const metrics = o.evaluate();
    reporter.emit({ type: 'eval', time: now(), step, split: o.evalSplit, metrics });
    const score = metrics[o.mainMetric] ?? Number.NaN;
    const isBest = best === null || (Number.isFinite(score) && score > bestScore);
    if (isBest) {
      bestScore = Number.isFinite(score) ? score : bestScore;
      best = { step, metrics };
    }
    await save(isBest, metrics);
  };

  try {
    let windowTokens = 0;
    let windowExamples = 0;
    let windowStart = performance.now();
    let order = shuffled(o.trainCount, seed, 0);
    let pos = 0;
    let epoch = 0;
    let evaluatedAt = -1;
    while (step < endStep) {
      if (await shouldStop(o, started, reporter)) {
        status = 'stopped';
        break;
      }
      const t0 = performance.now();
      const epochBefore = epoch;
      for (let i = 0; i < accum; i++) {
        const idx = Array.from(order.subarray(pos, pos + micro));
        pos += idx.length;
        // Start the next epoch as soon as this one is used up, so the step that ends an
        // epoch is the one that counts it (and evaluates once, not again on the next step).
        if (pos >= order.length) {
          epoch += 1;
          order = shuffled(o.trainCount, seed, epoch);
          pos = 0;
        }
        const { batch, tokens } = o.collate(idx);
        stepper.accumulate(batch);
        windowExamples += idx.length;
        windowTokens += tokens;
      }
      const lr = lrAt(step);
      const m = stepper.apply(lr);
      step += 1;
      if (!Number.isFinite(m.loss)) {
        status = 'failed';
        reporter.emit({
          type: 'warning',
          time: now(),
          message: `loss is ${m.loss} at step ${step}: stopping`,
        });
        break;
      }
      if (step % config.train.log_every === 0 || step === 1 || step === endStep) {
        const secs = (performance.now() - windowStart) / 1000;
        reporter.emit({
          type: 'step',
          time: now(),
          step,
          totalSteps: endStep,
          epoch: step / stepsPerEpoch,
          loss: m.loss,
          accuracy: m.accuracy,
          lr,
          grad_norm: m.grad_norm,
          tokens_per_s: windowTokens / secs,
          examples_per_s: windowExamples / secs,
          step_ms: performance.now() - t0,
          ...memoryFields(),
        });
        windowTokens = 0;
        windowExamples = 0;
        windowStart = performance.now();
      }
      const evalNow =
        config.train.eval_every !== null
          ? step % config.train.eval_every === 0
          : epoch !== epochBefore;
      if (evalNow || step === endStep) {
        await evaluate();
        evaluatedAt = step;
      } else if (config.train.save_every !== null && step % config.train.save_every === 0)
        await save(false, null);
    }
    if (status === 'stopped' && step > 0 && evaluatedAt !== step) await evaluate();
  } finally {
    stepper.dispose();
    optimizer.dispose();
    disposeParams(model.params);
  }
  return { status, step, best, bestCheckpoint, lastCheckpoint };
}
