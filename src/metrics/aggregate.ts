/**
 * Aggregation of metrics over repeated fine-tuning runs (`--seeds N`): small
 * GLUE tasks vary a lot from seed to seed, so results are reported as
 * mean ± standard deviation.
 */

export interface MeanStd {
  readonly mean: number;
  /** Sample standard deviation (n − 1 in the denominator); 0 for a single run. */
  readonly std: number;
  readonly n: number;
  /** Per-seed values, in seed order. */
  readonly values: readonly number[];
}

/**
 * Mean and sample standard deviation of `values`. NaN values (e.g. a Pearson
 * correlation of a constant prediction) propagate: the mean of a set that
 * contains an undefined score is undefined.
 */
export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0, values: [] };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return { mean, std, n, values: [...values] };
}

/**
 * Combine per-seed metric objects ({accuracy, f1, ...}) into one MeanStd per
 * metric. A metric missing from some run is aggregated over the runs that
 * have it.
 */
export function aggregateSeeds<K extends string>(
  runs: readonly Partial<Record<K, number>>[],
): Partial<Record<K, MeanStd>> {
  const keys = new Set<K>();
  for (const r of runs) for (const k of Object.keys(r) as K[]) keys.add(k);
  const out: Partial<Record<K, MeanStd>> = {};
  for (const k of keys) {
    const vals = runs.map((r) => r[k]).filter((v): v is number => v !== undefined);
    out[k] = meanStd(vals);
  }
  return out;
}
