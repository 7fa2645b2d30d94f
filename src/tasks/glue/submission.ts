/**
 * GLUE-server submission files: `index\tprediction` per row, labels written
 * as in the task's own files (e.g. `entailment`, `1`), STS-B scores as
 * decimals. One file per evaluation split, named as the server expects
 * (`SST-2.tsv`, `MNLI-m.tsv`, `AX.tsv`, ...); the same format is written for
 * dev splits so dev predictions can be inspected and re-scored.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { labelName } from './reader.js';
import { getSplit, type GlueTask } from './tasks.js';

/** Digits kept for STS-B scores (the gold files use 3, e.g. `3.800`). */
const SCORE_DIGITS = 3;

/** The GLUE-server file name for predictions on `split` (e.g. `MNLI-mm.tsv` for dev_mismatched). */
export function submissionFileName(task: GlueTask, split: string): string {
  const spec = getSplit(task, split);
  if (!spec?.submissionFile) {
    throw new RangeError(
      `glue/${task.name}: split "${split}" has no submission file (not an evaluation split)`,
    );
  }
  return spec.submissionFile;
}

/**
 * The submission TSV text. `predictions[i]` is the class id (classification)
 * or the predicted score (STS-B) for `examples[i]`.
 */
export function formatSubmission(
  task: GlueTask,
  examples: readonly { readonly index: string }[],
  predictions: ArrayLike<number>,
): string {
  if (examples.length !== predictions.length) {
    throw new RangeError(
      `glue/${task.name}: ${predictions.length} predictions for ${examples.length} examples`,
    );
  }
  const rows = ['index\tprediction'];
  for (let i = 0; i < examples.length; i++) {
    const p = predictions[i]!;
    const value = task.kind === 'regression' ? p.toFixed(SCORE_DIGITS) : labelName(task, p);
    rows.push(`${examples[i]!.index}\t${value}`);
  }
  return rows.join('\n') + '\n';
}

/** Write the submission file for `split` into `dir` atomically; returns its path. */
export async function writeSubmission(
  dir: string,
  task: GlueTask,
  split: string,
  examples: readonly { readonly index: string }[],
  predictions: ArrayLike<number>,
): Promise<string> {
  const path = join(dir, submissionFileName(task, split));
  await writeFileAtomic(path, formatSubmission(task, examples, predictions));
  return path;
}
