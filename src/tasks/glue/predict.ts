/**
 * Inference for sequence classification: logits for every example, in
 * batches, dropout off. Examples are sorted by length inside the call so
 * batches pad little, and the outputs come back in the original order.
 */
import type { BertModel } from '../../model/bert.js';
import { lengthSortedBatches, predictClassification } from '../../model/predict.js';
import { collateClassification, type EncodedExample } from './encode.js';

/** Row-major [N, numLabels] logits (regression: [N, 1] scores). */
export async function predictLogits(
  model: BertModel,
  examples: readonly EncodedExample[],
  padId: number,
  batchSize: number,
  onProgress?: (done: number) => void,
): Promise<Float32Array> {
  const C = model.numLabels;
  const out = new Float32Array(examples.length * C);
  let done = 0;
  for (const idx of lengthSortedBatches(examples, batchSize)) {
    const batch = collateClassification(
      idx.map((i) => examples[i]),
      padId,
      C === 1,
    );
    const values = await predictClassification(model, batch);
    idx.forEach((row, j) => out.set(values.subarray(j * C, (j + 1) * C), row * C));
    done += idx.length;
    onProgress?.(done);
  }
  return out;
}
