import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PretrainingBatch as ModelBatch } from '../../src/model/batch.js';
import { collateBatch, type PretrainingBatch } from '../../src/data/batch.js';

test('a data batch is a model batch (same field names and shapes)', () => {
  const batch: PretrainingBatch = collateBatch(
    [
      {
        inputIds: Int32Array.from([101, 5, 102, 6, 102]),
        originalIds: Int32Array.from([101, 7, 102, 6, 102]),
        tokenTypeIds: Int32Array.from([0, 0, 0, 1, 1]),
        maskedLmPositions: Int32Array.from([1]),
        maskedLmIds: Int32Array.from([7]),
        isRandomNext: true,
        docA: 0,
        docB: 1,
      },
    ],
    { max_seq_length: 8, max_predictions_per_seq: 2, pad_to: 'max', padId: 0 },
  );
  const asModel: ModelBatch = batch; // compile-time check
  assert.equal(asModel.seq_length, 8);
  assert.equal(asModel.num_predictions, 2);
  assert.deepEqual([...asModel.input_ids], [101, 5, 102, 6, 102, 0, 0, 0]);
  assert.deepEqual([...asModel.attention_mask], [1, 1, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual([...asModel.masked_lm_weights], [1, 0]);
  assert.deepEqual([...asModel.next_sentence_labels], [1]);
});
