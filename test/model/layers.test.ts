import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/tf.js';
import { gelu } from '../../src/model/bert.js';
import { formulationsFor } from '../../src/model/ops.js';
import { disposeParams } from '../../src/model/params.js';
import { ClassificationStep } from '../../src/train/step.js';
import { createOptimizer } from '../../src/train/optimizer.js';
import { randomBatch, randomModel, smallConfig } from './helpers.js';

test('GELU: erf form ("gelu") and tanh form ("gelu_new") give their published values', async () => {
  await useTestBackend();
  const x = tf.tensor1d([-3, -1, 0, 0.5, 1, 2]);
  const exact = gelu(x, 'gelu').dataSync();
  const approx = gelu(x, 'gelu_new').dataSync();
  // x·Φ(x) from the normal CDF.
  const want = [-0.0040496, -0.1586553, 0, 0.3457312, 0.8413447, 1.9544997];
  want.forEach((w, i) =>
    assert.ok(Math.abs(exact[i] - w) < 2e-6, `gelu(${x.dataSync()[i]}) = ${exact[i]}`),
  );
  const tanhForm = (v: number): number =>
    0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  Array.from(x.dataSync()).forEach((v, i) => assert.ok(Math.abs(approx[i] - tanhForm(v)) < 1e-6));
  // The two differ (by up to ~1e-3), so a config's choice matters.
  assert.ok(Math.abs(approx[0] - exact[0]) > 1e-5);
  tf.dispose(x);
});

test('softmax cross-entropy: both formulations agree with log-sum-exp, also for extreme logits', async () => {
  const backend = await useTestBackend();
  const logits = tf.tensor2d([
    [2, 1, 0.1, -1],
    [1000, 0, -1000, 5],
    [-50, 40, 39.5, 0],
  ]);
  const labels = tf.tensor1d([0, 2, 1], 'int32');
  const rows = logits.arraySync();
  const want = rows.map((r, i) => {
    const m = Math.max(...r);
    return m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0)) - r[[0, 2, 1][i]];
  });
  for (const ops of formulationsFor(backend)) {
    const got = ops.softmaxCrossEntropy(logits, labels).dataSync();
    want.forEach((w, i) =>
      assert.ok(
        Math.abs(got[i] - w) <= 1e-4 * Math.max(1, w),
        `${ops.name} row ${i}: ${got[i]} vs ${w}`,
      ),
    );
  }
  tf.dispose([logits, labels]);
});

test('regression head (num_labels = 1) trains on float targets with mean squared error', async () => {
  await useTestBackend();
  const config = smallConfig({ hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const model = randomModel(config, { seed: 1, scale: 0.1, heads: 'classification', numLabels: 1 });
  const optimizer = createOptimizer({ type: 'adamw' });
  const step = new ClassificationStep(model, optimizer);
  const b = {
    ...randomBatch(config, { seed: 2, batch: 4, seq: 8, predictions: 1 }),
    labels: Float32Array.from([0.5, 4.2, 1.0, 3.3]),
  };
  step.accumulate(b);
  const first = await step.apply(1e-2);
  assert.ok(Number.isNaN(first.accuracy));
  let last = first;
  for (let i = 0; i < 15; i++) {
    step.accumulate(b);
    last = await step.apply(1e-2);
  }
  assert.ok(last.loss < first.loss / 2, `MSE ${first.loss} → ${last.loss}`);
  optimizer.dispose();
  disposeParams(model.params);
});
