/**
 * Correlation metrics for STS-B, matching scipy.stats `pearsonr` and
 * `spearmanr`. Pure functions in float64.
 *
 * Edge case: if either vector is constant the correlation is undefined;
 * scipy returns NaN (with a ConstantInputWarning) and so do we. Callers that
 * need a number (the GLUE table) show NaN as "n/a" rather than inventing 0.
 */

function checkLengths(x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length)
    throw new RangeError(`vectors differ in length (${x.length} vs ${y.length})`);
}

function mean(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]!;
  return sum / x.length;
}

/**
 * Pearson's r = Σ(x−x̄)(y−ȳ) / sqrt(Σ(x−x̄)² Σ(y−ȳ)²), computed on centred
 * values (two passes) for accuracy, clipped to [−1, 1] against rounding like
 * scipy. NaN for constant input or fewer than 2 points.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkLengths(x, y);
  if (x.length < 2) return NaN;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/**
 * 1-based ranks with ties given the average of the ranks they span
 * (scipy.stats.rankdata's default "average" method).
 */
export function rankAverage(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]!] === x[order[i]!]) j++;
    // Positions i..j (0-based) hold equal values: they share rank mean(i+1..j+1).
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = avg;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's rho: Pearson's r of the average ranks. NaN for constant input. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkLengths(x, y);
  // scipy's default nan_policy='propagate': any NaN makes the result NaN (and NaN cannot be ranked).
  for (let i = 0; i < x.length; i++) if (Number.isNaN(x[i]) || Number.isNaN(y[i])) return NaN;
  return pearson(rankAverage(x), rankAverage(y));
}
