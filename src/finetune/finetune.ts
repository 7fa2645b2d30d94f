/**
 * Fine-tuning BertForSequenceClassification on a GLUE task, BERT's recipe
 * (batch 32, lr 2e-5..5e-5, 3 epochs, 10% warm-up, max_seq_length 128):
 *
 *   read train/dev → encode → model (pretrained encoder + fresh classifier)
 *   → epochs of shuffled batches → evaluate on dev at the end of each epoch
 *   (or every eval_every steps) → keep `best` by the task's main metric.
 *
 * Emits events; knows nothing about terminals.
 */
import { performance } from 'node:perf_hooks';
import { UserError } from '../errors.js';
import { configKeyLocation } from '../config/load.js';
import type { FinetuneConfig } from '../config/types.js';
import { devSplits, numLabels, type GlueTask } from '../data/glue/tasks.js';
import { readGlueSplit, type GlueExample } from '../data/glue/reader.js';
import { computeGlueMetrics, argmaxRows, type GlueMetrics } from '../metrics/glue.js';
import { Rng } from '../data/rng.js';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.js';
import { loadVocab } from '../tokenizer/vocab.js';
import { toHfConfigJson } from '../model/config.js';
import { toHfTensors } from '../model/hf.js';
import { countParameters, disposeParams } from '../model/params.js';
import { ClassificationStep } from '../model/step.js';
import type { BertModel } from '../model/bert.js';
import { microBatches, optimizerFor, scheduleFor } from '../train/recipe.js';
import { saveCheckpoint, type TrainerState } from '../train/checkpoint.js';
import type { BackendChoice } from '../backend/select.js';
import { now, type Reporter } from '../ui/events.js';
import { shouldStop, memoryFields } from '../train/loop-control.js';
import { encodeExamples, collateClassification, type EncodedExample } from './encode.js';
import { initialClassifier } from './init.js';
import { predictLogits } from './predict.js';

export interface FinetuneOptions {
  config: FinetuneConfig;
  task: GlueTask;
  runDir: string;
  stopAtStep: number | null;
  maxMinutes: number | null;
  reporter: Reporter;
  stopRequested: () => boolean;
  backend: BackendChoice;
}

export interface FinetuneResult {
  status: 'completed' | 'stopped' | 'failed';
  step: number;
  best: { step: number; metrics: Record<string, GlueMetrics> } | null;
  bestCheckpoint: string | null;
  lastCheckpoint: string | null;
}

/** Everything `bert eval` needs to know about a fine-tuned checkpoint, stored in its config.json. */
export interface TaskMetadata {
  task: string;
  data_dir: string;
  max_seq_length: number;
  lowercase: boolean;
}

/** Predictions from logits: class ids, or scores for regression. */
export function predictionsFrom(logits: Float32Array, labels: number): Float32Array | Int32Array {
  return labels === 1 ? logits : argmaxRows(logits, labels);
}

/** Score `model` on every dev split of the task. */
export function evaluateDev(
  model: BertModel,
  task: GlueTask,
  dev: ReadonlyMap<string, { examples: readonly GlueExample[]; encoded: EncodedExample[] }>,
  padId: number,
  batchSize: number,
): Record<string, GlueMetrics> {
  const out: Record<string, GlueMetrics> = {};
  for (const [split, d] of dev) {
    const logits = predictLogits(model, d.encoded, padId, batchSize);
    const preds = predictionsFrom(logits, numLabels(task));
    out[split] = computeGlueMetrics(
      task,
      preds,
      d.examples.map((e) => e.label ?? Number.NaN),
    );
  }
  return out;
}

function shuffled(n: number, seed: number, epoch: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const rng = Rng.derive(seed, 7, epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

export async function finetune(opts: FinetuneOptions): Promise<FinetuneResult> {
  const { config, task, reporter } = opts;
  const started = performance.now();
  const seed = config.train.seed;
  const labels = numLabels(task);

  const train = await readGlueSplit(config.data_dir, task, 'train', {
    skipBadRows: config.skip_bad_rows,
  });
  const trainExamples = config.max_train_examples
    ? train.examples.slice(0, config.max_train_examples)
    : train.examples;
  if (trainExamples.length === 0) throw new UserError(`${train.file}: no training examples`);
  const devData = new Map<string, { examples: GlueExample[]; encoded: EncodedExample[] }>();
  const init = await initialClassifier(config.from, labels, config, seed);
  const { model } = init;
  const tokenizer = new BertTokenizer(loadVocab(init.vocabPath), { lowercase: init.lowercase });
  if (config.max_seq_length > init.config.max_position_embeddings) {
    throw new UserError(
      `${configKeyLocation(config, ['max_seq_length'])}: ${config.max_seq_length} exceeds the model's max_position_embeddings (${init.config.max_position_embeddings})`,
    );
  }
  for (const split of devSplits(task)) {
    const d = await readGlueSplit(config.data_dir, task, split.name, {
      skipBadRows: config.skip_bad_rows,
    });
    const examples = config.max_eval_examples
      ? d.examples.slice(0, config.max_eval_examples)
      : d.examples;
    devData.set(split.name, {
      examples,
      encoded: encodeExamples(tokenizer, examples, config.max_seq_length),
    });
  }
  for (const bad of train.skipped) {
    reporter.emit({
      type: 'warning',
      time: now(),
      message: `${train.file}:${bad.line}: skipped (${bad.reason})`,
    });
  }
  const encoded = encodeExamples(tokenizer, trainExamples, config.max_seq_length);
  const { micro, accum } = microBatches(config.train);
  const stepsPerEpoch = Math.ceil(encoded.length / config.train.batch_size);
  const totalSteps =
    config.train.max_steps ?? Math.max(1, Math.ceil((config.train.epochs ?? 3) * stepsPerEpoch));
  const endStep = Math.min(opts.stopAtStep ?? totalSteps, totalSteps);
  const lrAt = scheduleFor(config.train, totalSteps);
  const mainSplit = devSplits(task)[0].name;
  const padId = tokenizer.padId;
  const evalBatch = config.train.eval_batch_size;
  const metadata: TaskMetadata = {
    task: task.name,
    data_dir: config.data_dir,
    max_seq_length: config.max_seq_length,
    lowercase: init.lowercase,
  };

  reporter.emit({
    type: 'run_start',
    time: now(),
    command: 'finetune',
    run: opts.runDir,
    backend: opts.backend.backend,
    model: {
      size: `${init.config.num_hidden_layers}L/${init.config.hidden_size}H from ${init.source}`,
      layers: init.config.num_hidden_layers,
      hidden: init.config.hidden_size,
      heads: init.config.num_attention_heads,
      parameters: countParameters(model.params),
    },
    data: `glue/${task.name}: ${encoded.length} train, ${[...devData.values()].map((d) => d.examples.length).join('+')} dev`,
    totalSteps: endStep,
    config: config as unknown as Record<string, unknown>,
  });

  const optimizer = optimizerFor(config.train);
  const stepper = new ClassificationStep(model, optimizer, {
    maxGradNorm: config.train.max_grad_norm ?? 0,
    seed,
  });

  let step = 0;
  let status: FinetuneResult['status'] = 'completed';
  let best: FinetuneResult['best'] = null;
  let bestCheckpoint: string | null = null;
  let lastCheckpoint: string | null = null;
  let bestScore = Number.NEGATIVE_INFINITY;

  const save = async (
    isBest: boolean,
    evalMetrics: Record<string, GlueMetrics> | null,
  ): Promise<string> => {
    const state: TrainerState = {
      step,
      epoch: step / stepsPerEpoch,
      total_steps: totalSteps,
      data_cursor: { step },
      seed,
      metrics: evalMetrics,
      time: now(),
    };
    const path = await saveCheckpoint(
      opts.runDir,
      {
        model: toHfTensors(model.params),
        optimizer: optimizer.exportState().tensors,
        trainerState: state,
        config: toHfConfigJson(init.config, 'BertForSequenceClassification', {
          num_labels: labels,
          id2label: Object.fromEntries(
            (labels === 1 ? ['score'] : task.labels).map((l, i) => [String(i), l]),
          ),
          label2id: Object.fromEntries(
            (labels === 1 ? ['score'] : task.labels).map((l, i) => [l, i]),
          ),
          finetuning_task: task.name,
          ...(labels === 1
            ? { problem_type: 'regression' }
            : { problem_type: 'single_label_classification' }),
          bert: { ...metadata },
        }),
        vocabPath: init.vocabPath,
      },
      { keepLast: config.train.keep_last, best: isBest },
    );
    reporter.emit({ type: 'checkpoint', time: now(), step, path, best: isBest });
    lastCheckpoint = path;
    if (isBest) bestCheckpoint = path;
    return path;
  };

  const evaluate = async (): Promise<void> => {
    const metrics = evaluateDev(model, task, devData, padId, evalBatch);
    for (const [split, m] of Object.entries(metrics)) {
      reporter.emit({
        type: 'eval',
        time: now(),
        step,
        split,
        metrics: m as Record<string, number>,
      });
    }
    const score = metrics[mainSplit]?.[task.mainMetric] ?? Number.NaN;
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
    let order = shuffled(encoded.length, seed, 0);
    let pos = 0;
    let epoch = 0;
    const nextMicro = (): EncodedExample[] => {
      if (pos >= order.length) {
        epoch += 1;
        order = shuffled(encoded.length, seed, epoch);
        pos = 0;
      }
      const idx = order.subarray(pos, pos + micro);
      pos += idx.length;
      return Array.from(idx, (i) => encoded[i]);
    };
    while (step < endStep) {
      if (await shouldStop(opts, started, reporter)) {
        status = 'stopped';
        break;
      }
      const t0 = performance.now();
      for (let i = 0; i < accum; i++) {
        const examples = nextMicro();
        const batch = collateClassification(examples, padId, labels === 1);
        stepper.accumulate(batch);
        windowExamples += examples.length;
        for (const e of examples) windowTokens += e.ids.length;
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
          ...(labels === 1 ? {} : { accuracy: m.accuracy }),
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
      const epochEnded = step % stepsPerEpoch === 0;
      const evalNow =
        config.train.eval_every !== null ? step % config.train.eval_every === 0 : epochEnded;
      if (evalNow || step === endStep) await evaluate();
      else if (config.train.save_every !== null && step % config.train.save_every === 0)
        await save(false, null);
    }
    if (
      status === 'stopped' &&
      (lastCheckpoint === null || !String(lastCheckpoint).endsWith(`step-${step}`)) &&
      step > 0
    ) {
      await evaluate();
    }
  } finally {
    stepper.dispose();
    optimizer.dispose();
    disposeParams(model.params);
  }
  return { status, step, best, bestCheckpoint, lastCheckpoint };
}
