/**
 * Fine-tuning BertForSequenceClassification on a GLUE task, BERT's recipe
 * (batch 32, lr 2e-5..5e-5, 3 epochs, 10% warm-up, max_seq_length 128):
 *
 *   read train/dev → encode → model (pretrained encoder + fresh classifier)
 *   → epochs of shuffled batches → evaluate on dev at the end of each epoch
 *   (or every eval_every steps) → keep `best` by the task's main metric.
 *
 * A client of the training engine through tasks/finetune.ts; emits events,
 * knows nothing about terminals.
 */
import { UserError } from '../../errors.js';
import { devSplits, numLabels, type GlueTask } from './tasks.js';
import { readGlueSplit, type GlueExample } from './reader.js';
import { computeGlueMetrics, argmaxRows, type GlueMetrics } from './metrics.js';
import { BertTokenizer } from '../../tokenizer/bert-tokenizer.js';
import { toHfConfigJson, type BertConfig } from '../../model/config.js';
import { ClassificationStep } from '../../train/step.js';
import type { ClassificationBatch } from '../../model/batch.js';
import type { BertModel } from '../../model/bert.js';
import type { Evaluation } from '../../train/loop.js';
import { SHUFFLE_STREAM } from '../../train/epochs.js';
import { now } from '../../ui/events.js';
import { encodeExamples, collateClassification, type EncodedExample } from './encode.js';
import { initialModel } from '../initial-model.js';
import { predictLogits } from './predict.js';
import {
  runFinetuning,
  type FinetuneSession,
  type FinetuneResult as FineTuningResult,
} from '../finetune.js';

/** data_dir when the config names none. */
export const GLUE_DATA_DIR = 'data/glue';

export interface FinetuneOptions extends FinetuneSession {
  task: GlueTask;
}

export type FinetuneResult = FineTuningResult<Record<string, GlueMetrics>>;

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
export async function evaluateDev(
  model: BertModel,
  task: GlueTask,
  dev: ReadonlyMap<string, { examples: readonly GlueExample[]; encoded: EncodedExample[] }>,
  padId: number,
  batchSize: number,
): Promise<Record<string, GlueMetrics>> {
  const out: Record<string, GlueMetrics> = {};
  for (const [split, d] of dev) {
    const logits = await predictLogits(model, d.encoded, padId, batchSize);
    const preds = predictionsFrom(logits, numLabels(task));
    out[split] = computeGlueMetrics(
      task,
      preds,
      d.examples.map((e) => e.label ?? Number.NaN),
    );
  }
  return out;
}

/** GLUE dev metrics as the engine's evaluation: one eval event per dev split, scored on the first. */
function glueEvaluation(metrics: Record<string, GlueMetrics>, task: GlueTask): Evaluation {
  const mainSplit = devSplits(task)[0].name;
  return {
    splits: Object.entries(metrics).map(([split, m]) => [split, m as Record<string, number>]),
    score: metrics[mainSplit]?.[task.mainMetric] ?? Number.NaN,
    record: metrics,
  };
}

/** config.json of a GLUE checkpoint: HF's BertForSequenceClassification plus our task metadata. */
function classifierConfigJson(
  config: BertConfig,
  task: GlueTask,
  metadata: TaskMetadata,
): Record<string, unknown> {
  const labels = numLabels(task);
  const names = labels === 1 ? ['score'] : task.labels;
  return toHfConfigJson(config, 'BertForSequenceClassification', {
    num_labels: labels,
    id2label: Object.fromEntries(names.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(names.map((l, i) => [l, i])),
    finetuning_task: task.name,
    problem_type: labels === 1 ? 'regression' : 'single_label_classification',
    bert: { ...metadata },
  });
}

/** Every dev split of the task, read and encoded once (first max_eval_examples of each). */
async function readDevSets(
  task: GlueTask,
  dataDir: string,
  config: FinetuneOptions['config'],
  tokenizer: BertTokenizer,
): Promise<Map<string, { examples: GlueExample[]; encoded: EncodedExample[] }>> {
  const devData = new Map<string, { examples: GlueExample[]; encoded: EncodedExample[] }>();
  for (const split of devSplits(task)) {
    const d = await readGlueSplit(dataDir, task, split.name, {
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
  return devData;
}

export async function finetune(opts: FinetuneOptions): Promise<FinetuneResult> {
  const { config, task, reporter } = opts;
  const seed = config.train.seed;
  const labels = numLabels(task);
  const dataDir = config.data_dir ?? GLUE_DATA_DIR;

  const train = await readGlueSplit(dataDir, task, 'train', {
    skipBadRows: config.skip_bad_rows,
  });
  const trainExamples = config.max_train_examples
    ? train.examples.slice(0, config.max_train_examples)
    : train.examples;
  if (trainExamples.length === 0) throw new UserError(`${train.file}: no training examples`);
  const init = await initialModel(config, { heads: 'classification', numLabels: labels }, seed);
  const { tokenizer } = init;
  const devData = await readDevSets(task, dataDir, config, tokenizer);
  for (const bad of train.skipped) {
    reporter.emit({
      type: 'warning',
      time: now(),
      message: `${train.file}:${bad.line}: skipped (${bad.reason})`,
    });
  }
  const encoded = encodeExamples(tokenizer, trainExamples, config.max_seq_length);
  const padId = tokenizer.padId;
  const metadata: TaskMetadata = {
    task: task.name,
    data_dir: dataDir,
    max_seq_length: config.max_seq_length,
    lowercase: init.lowercase,
  };
  const devSizes = [...devData.values()].map((d) => d.examples.length).join('+');
  return runFinetuning<ClassificationBatch, EncodedExample, Record<string, GlueMetrics>>({
    ...opts,
    init,
    features: encoded,
    shuffleStream: SHUFFLE_STREAM.glue,
    collate: (examples) => collateClassification(examples, padId, labels === 1),
    Step: ClassificationStep,
    evaluate: async () =>
      glueEvaluation(
        await evaluateDev(init.model, task, devData, padId, config.train.eval_batch_size),
        task,
      ),
    checkpointConfig: classifierConfigJson(init.config, task, metadata),
    dataLabel: `glue/${task.name}: ${encoded.length} train, ${devSizes} dev`,
  });
}
