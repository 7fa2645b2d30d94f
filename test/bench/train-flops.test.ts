import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classificationFlops,
  classificationStepFlops,
  forwardFlops,
  trainStepFlops,
} from '../../bench/train-flops.js';
import { bertConfig } from '../../src/model/config.js';

/** L1, H4, I8, A2, V10: small enough to count by hand. */
const TOY = bertConfig('tiny', {
  num_hidden_layers: 1,
  hidden_size: 4,
  intermediate_size: 8,
  num_attention_heads: 2,
  vocab_size: 10,
});

test('step FLOPs equal a hand count for a toy config', () => {
  // B2 × T3, 1 masked per sequence: N = 6 tokens, M = 2 masked rows.
  // Q, K, V, output: 4 · (2·6·4·4 = 192) = 768; scores + context: 2 · (2·2·3·3·4 = 144) = 288;
  // FFN: 2 · (2·6·4·8 = 384) = 768; MLM dense 2·2·4·4 = 64; decoder 2·2·4·10 = 160;
  // pooler 2·2·4·4 = 64; NSP 2·2·4·2 = 32. Sum: 2144.
  const shape = { batch: 2, seq: 3, masked: 1 };
  assert.equal(forwardFlops(TOY, shape), 2144);
  assert.equal(trainStepFlops(TOY, shape), 3 * 2144);
});

test('BERT-Tiny and Mini standard steps: the hand counts (13.2 and 57.0 GFLOP)', () => {
  const shape = { batch: 16, seq: 128, masked: 20 };
  // Tiny: 2 layers × 939,524,096 + MLM 2,510,848,000 + pooler/NSP 532,480 = 4,390,428,672 forward.
  assert.equal(trainStepFlops(bertConfig('tiny'), shape), 3 * 4_390_428_672);
  // Mini: 4 layers × 3,489,660,928 + MLM 5,042,667,520 + pooler/NSP 2,113,536 = 19,003,424,768.
  assert.equal(trainStepFlops(bertConfig('mini'), shape), 3 * 19_003_424_768);
});

test('classification FLOPs equal a hand count for a toy config', () => {
  // B2 × T3, 3 labels: N = 6 tokens.
  // Encoder as above: 768 + 288 + 768 = 1824; pooler 2·2·4·4 = 64; classifier 2·2·4·3 = 48.
  // Sum: 1936 (no MLM head: the vocabulary does not count).
  const shape = { batch: 2, seq: 3, labels: 3 };
  assert.equal(classificationFlops(TOY, shape), 1936);
  assert.equal(classificationStepFlops(TOY, shape), 3 * 1936);
});

test('BERT-Tiny SST-2 step (32 × 128) and eval forward (64 × 128): the hand counts', () => {
  // Per layer at N = 4096: projections 536,870,912 + attention 268,435,456 + FFN 1,073,741,824
  // = 1,879,048,192; 2 layers 3,758,096,384 + pooler 1,048,576 + classifier 16,384.
  const tiny = bertConfig('tiny');
  assert.equal(
    classificationStepFlops(tiny, { batch: 32, seq: 128, labels: 2 }),
    3 * 3_759_161_344,
  );
  // Twice the batch: every product doubles.
  assert.equal(classificationFlops(tiny, { batch: 64, seq: 128, labels: 2 }), 2 * 3_759_161_344);
});
