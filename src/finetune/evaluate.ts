/**
 * Evaluating a fine-tuned checkpoint: metrics on dev, predictions in the
 * GLUE-server layout for dev and test. The checkpoint's config.json says
 * which task it was trained on (`bert.task`) and how its inputs were made.
 */
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { loadCheckpoint, type CheckpointDir } from '../train/checkpoint.js';
import { fromHfConfigJson } from '../model/config.js';
import { fromHfTensors } from '../model/hf.js';
import { bertModelFromParams } from '../model/bert.js';
import { disposeParams } from '../model/params.js';
import { findGlueTask, numLabels, resolveSplits, type GlueTask } from '../data/glue/tasks.js';
import { readGlueSplit } from '../data/glue/reader.js';
import { writeSubmission } from '../data/glue/submission.js';
import { computeGlueMetrics, type GlueMetrics } from '../metrics/glue.js';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.js';
import { loadVocab } from '../tokenizer/vocab.js';
import { encodeExamples } from './encode.js';
import { predictLogits } from './predict.js';
import { predictionsFrom, type TaskMetadata } from './finetune.js';

export interface SplitEvaluation {
  task: string;
  split: string;
  examples: number;
  /** Empty for unlabelled (test) splits. */
  metrics: GlueMetrics;
  predictions: string;
}

export interface EvaluateOptions {
  checkpoint: CheckpointDir;
  split: 'dev' | 'test';
  dataDir?: string;
  outDir: string;
  batchSize?: number;
  /** Skip malformed TSV rows instead of stopping (`--skip-bad-rows`). */
  skipBadRows?: boolean;
  onProgress?: (split: string, done: number, total: number) => void;
}

export async function evaluateCheckpoint(o: EvaluateOptions): Promise<SplitEvaluation[]> {
  const ckpt = await loadCheckpoint(o.checkpoint);
  const meta = ckpt.config.bert as Partial<TaskMetadata> | undefined;
  const task: GlueTask | undefined = meta?.task ? findGlueTask(meta.task) : undefined;
  if (!task) {
    throw new UserError(
      `${join(o.checkpoint, 'config.json')}: no fine-tuning task recorded (bert.task); evaluate a checkpoint written by \`bert finetune\``,
    );
  }
  const cfg = fromHfConfigJson(ckpt.config, join(o.checkpoint, 'config.json'));
  const labels = numLabels(task);
  const { params } = fromHfTensors(ckpt.model, cfg, {
    heads: 'classification',
    numLabels: labels,
    source: join(o.checkpoint, 'model.safetensors'),
  });
  const model = bertModelFromParams(cfg, params, 'classification', labels);
  const tokenizer = new BertTokenizer(loadVocab(ckpt.vocabPath), {
    lowercase: meta?.lowercase ?? true,
  });
  const dataDir = o.dataDir ?? meta?.data_dir ?? 'data/glue';
  const results: SplitEvaluation[] = [];
  try {
    for (const split of resolveSplits(task, o.split)) {
      const data = await readGlueSplit(dataDir, task, split.name, {
        skipBadRows: o.skipBadRows ?? false,
      });
      const encoded = encodeExamples(tokenizer, data.examples, meta?.max_seq_length ?? 128);
      const logits = predictLogits(model, encoded, tokenizer.padId, o.batchSize ?? 64, (done) =>
        o.onProgress?.(split.name, done, encoded.length),
      );
      const preds = predictionsFrom(logits, labels);
      const labelled = data.examples.every((e) => e.label !== undefined);
      const metrics = labelled
        ? computeGlueMetrics(
            task,
            preds,
            data.examples.map((e) => e.label!),
          )
        : {};
      const path = await writeSubmission(
        join(o.outDir, split.name),
        task,
        split.name,
        data.examples,
        preds,
      );
      results.push({
        task: task.name,
        split: split.name,
        examples: data.examples.length,
        metrics,
        predictions: path,
      });
    }
  } finally {
    disposeParams(model.params);
  }
  return results;
}
