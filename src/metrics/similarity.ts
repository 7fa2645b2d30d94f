/**
 * How alike a set of vectors is: the mean cosine similarity over all pairs
 * of distinct vectors. Pretraining's held-out evaluation applies it to the
 * final hidden states at [CLS] (src/tasks/pretrain/pretrain.ts): near 1 when
 * [CLS] no longer depends on the input, which a classifier fine-tuned on
 * [CLS] must first undo.
 */

/**
 * Mean of cos(uᵢ, uⱼ) over the pairs i < j of the `count` rows of `rows`
 * (row-major, `dim` numbers each), in float64: with unit vectors uᵢ, the sum
 * over pairs is (‖Σ uᵢ‖² − n) / 2, so one pass. Zero rows have no direction
 * and are left out; NaN with fewer than two others.
 */
export function meanPairwiseCosine(rows: ArrayLike<number>, count: number, dim: number): number {
  if (rows.length < count * dim) {
    throw new RangeError(`${count} rows of ${dim} need ${count * dim} numbers, got ${rows.length}`);
  }
  const sum = new Float64Array(dim);
  let n = 0;
  for (let r = 0; r < count; r++) {
    let norm = 0;
    for (let k = 0; k < dim; k++) norm += rows[r * dim + k]! ** 2;
    if (norm === 0) continue;
    const scale = 1 / Math.sqrt(norm);
    for (let k = 0; k < dim; k++) sum[k] += rows[r * dim + k]! * scale;
    n++;
  }
  if (n < 2) return NaN;
  let total = 0;
  for (let k = 0; k < dim; k++) total += sum[k]! ** 2;
  return Math.min(1, Math.max(-1, (total - n) / (n * (n - 1))));
}
