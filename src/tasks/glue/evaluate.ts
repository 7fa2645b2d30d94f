/**
 * Evaluating a fine-tuned checkpoint: metrics on dev, predictions in the
 * GLUE-server layout for dev and test. The checkpoint's config.json says
 * how its inputs were made (`bert`: data_dir, max_seq_length, lowercase).
 */
import { join } from 'node:path';
import { disposeParams } from '../../model/params.js';
import { numLabels, resolveSplits, type GlueTask } from './tasks.js';
import { readGlueSplit } from './reader.js';
import { writeSubmission } from './submission.js';
import { computeGlueMetrics } from './metrics.js';
import { loadTaskCheckpoint } from '../checkpoint.js';
import type { EvaluateRequest, TaskEvaluation } from '../task.js';
import { encodeExamples } from './encode.js';
import { predictLogits } from './predict.js';
import { predictionsFrom, type TaskMetadata } from './finetune.js';

/** Score a checkpoint of GLUE task `task` on its dev or test split(s); predictions in the GLUE-server layout. */
export async function evaluateGlueCheckpoint(
  task: GlueTask,
  o: EvaluateRequest,
): Promise<TaskEvaluation[]> {
  const labels = numLabels(task);
  const {
    model,
    tokenizer,
    meta: bert,
  } = await loadTaskCheckpoint(o.checkpoint, {
    heads: 'classification',
    numLabels: labels,
  });
  const meta = bert as Partial<TaskMetadata>;
  const dataDir = o.dataDir ?? meta?.data_dir ?? 'data/glue';
  const results: TaskEvaluation[] = [];
  try {
    for (const split of resolveSplits(task, o.split)) {
      const data = await readGlueSplit(dataDir, task, split.name, {
        skipBadRows: o.skipBadRows ?? false,
      });
      const encoded = encodeExamples(tokenizer, data.examples, meta?.max_seq_length ?? 128);
      const logits = await predictLogits(
        model,
        encoded,
        tokenizer.padId,
        o.batchSize ?? 64,
        (done) => o.onProgress?.(split.name, done, encoded.length),
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
