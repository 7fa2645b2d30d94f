/**
 * Per-task GLUE metrics: the scores the GLUE paper and leaderboard report
 * for each task, computed from one evaluation split's predictions.
 */
import type { GlueMetricName, GlueTask } from './tasks.js';
import { UserError } from '../../errors.js';
import { accuracy, f1Score, matthewsCorrcoef } from '../../metrics/classification.js';
import { pearson, spearman } from '../../metrics/correlation.js';

/** Metric name → value in [0, 1] (correlations in [−1, 1]); NaN where undefined. */
export type GlueMetrics = Partial<Record<GlueMetricName, number>>;

const METRIC_FNS: Record<GlueMetricName, (p: ArrayLike<number>, l: ArrayLike<number>) => number> = {
  accuracy,
  f1: (p, l) => f1Score(p, l, 1),
  mcc: matthewsCorrcoef,
  pearson,
  spearman,
};

/**
 * Compute `task.metrics` for one evaluation split. `predictions` are class
 * ids (classification) or predicted scores (STS-B); `labels` are the gold
 * class ids / scores from the reader.
 */
export function computeGlueMetrics(
  task: GlueTask,
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
): GlueMetrics {
  if (predictions.length !== labels.length) {
    throw new RangeError(
      `glue/${task.name}: ${predictions.length} predictions for ${labels.length} labels`,
    );
  }
  const out: GlueMetrics = {};
  for (const m of task.metrics) out[m] = METRIC_FNS[m](predictions, labels);
  return out;
}

/**
 * Score predictions on a labelled split read by `readGlueSplit`. An
 * unlabelled (test) split cannot be scored: UserError.
 */
export function scoreGlueSplit(
  task: GlueTask,
  split: string,
  examples: readonly { readonly label?: number }[],
  predictions: ArrayLike<number>,
): GlueMetrics {
  const labels = new Float64Array(examples.length);
  for (let i = 0; i < examples.length; i++) {
    const label = examples[i]!.label;
    if (label === undefined) {
      throw new UserError(
        `glue/${task.name} ${split} has no labels (GLUE test sets are scored by the GLUE server); use --split dev`,
      );
    }
    labels[i] = label;
  }
  return computeGlueMetrics(task, predictions, labels);
}

/** Index of the largest logit per row (ties → the first), for turning logits into class ids. */
export function argmaxRows(logits: ArrayLike<number>, numClasses: number): Int32Array {
  const rows = Math.floor(logits.length / numClasses);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) {
      if (logits[r * numClasses + c]! > logits[r * numClasses + best]!) best = c;
    }
    out[r] = best;
  }
  return out;
}
