/**
 * Classification metrics over integer class ids, matching scikit-learn's
 * definitions (`accuracy_score`, `f1_score(average='binary')`,
 * `matthews_corrcoef`) including their edge cases. Pure functions.
 */

function checkLengths(predictions: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (predictions.length !== labels.length) {
    throw new RangeError(
      `predictions (${predictions.length}) and labels (${labels.length}) differ in length`,
    );
  }
}

/** Fraction of predictions equal to the label. NaN for empty input (no examples, no accuracy). */
export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkLengths(predictions, labels);
  if (labels.length === 0) return NaN;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}

/**
 * Binary F1 of the positive class (1 by default): 2·TP / (2·TP + FP + FN).
 * When there are no positive labels and no positive predictions the score is
 * undefined; like sklearn (zero_division="warn") we return 0.
 */
export function f1Score(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  positive = 1,
): number {
  checkLengths(predictions, labels);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = predictions[i] === positive;
    const t = labels[i] === positive;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? 0 : (2 * tp) / denom;
}

/**
 * Matthews correlation coefficient for any number of classes (Gorodkin's
 * R_K, which is sklearn's formula and reduces to the usual binary MCC):
 * (c·s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)), with c the number of
 * correct predictions, s the sample count, p_k/t_k the predicted/true counts
 * of class k. When either factor of the denominator is 0 (all labels or all
 * predictions one class) the coefficient is undefined and, as in sklearn,
 * 0 is returned.
 */
export function matthewsCorrcoef(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
): number {
  checkLengths(predictions, labels);
  const predCount = new Map<number, number>();
  const trueCount = new Map<number, number>();
  let correct = 0;
  const s = labels.length;
  for (let i = 0; i < s; i++) {
    const p = predictions[i]!;
    const t = labels[i]!;
    predCount.set(p, (predCount.get(p) ?? 0) + 1);
    trueCount.set(t, (trueCount.get(t) ?? 0) + 1);
    if (p === t) correct++;
  }
  let pt = 0;
  for (const [k, pk] of predCount) pt += pk * (trueCount.get(k) ?? 0);
  let pp = 0;
  for (const pk of predCount.values()) pp += pk * pk;
  let tt = 0;
  for (const tk of trueCount.values()) tt += tk * tk;
  const covYtYp = correct * s - pt;
  const covYpYp = s * s - pp;
  const covYtYt = s * s - tt;
  if (covYpYp * covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}
