/** The training step: metrics, released tensors, accumulation, determinism. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/tf.js';
import { disposeParams } from '../../src/model/params.js';
import { ClassificationStep, PretrainingStep } from '../../src/train/step.js';
import { predictClassification } from '../../src/model/predict.js';
import { evalPretrainingBatch, pretrainingEvalMetrics, trainStep } from './step-helpers.js';
import { createOptimizer } from '../../src/train/optimizer.js';
import { naiveWasmOps, wasmPackedAttentionOps, wasmOps } from '../../src/model/ops.js';
import { randomBatch, randomModel, smallConfig } from '../model/helpers.js';

const config = smallConfig();

test('live tensor count after step N equals that after step 1 (pretraining, with accumulation)', async () => {
  await useTestBackend();
  const model = randomModel(config, { seed: 1, scale: 0.05 });
  const optimizer = createOptimizer({ type: 'adamw' });
  const step = new PretrainingStep(model, optimizer, { seed: 7 });
  const counts: number[] = [];
  for (let s = 0; s < 5; s++) {
    step.accumulate(
      randomBatch(config, { seed: 2 * s, batch: 2, seq: 10, predictions: 3, lengths: [10, 6] }),
    );
    step.accumulate(randomBatch(config, { seed: 2 * s + 1, batch: 2, seq: 10, predictions: 3 }));
    const m = await step.apply(1e-3);
    assert.ok(Number.isFinite(m.loss) && m.loss > 0);
    counts.push(tf.memory().numTensors);
  }
  assert.deepEqual(
    counts.slice(1),
    counts.slice(1).map(() => counts[0]),
  );
  step.dispose();
  optimizer.dispose();
  disposeParams(model.params);
});

test('live tensor count is flat for classification steps (and LAMB)', async () => {
  await useTestBackend();
  const model = randomModel(config, {
    seed: 1,
    scale: 0.05,
    heads: 'classification',
    numLabels: 3,
  });
  const optimizer = createOptimizer({ type: 'lamb' });
  const step = new ClassificationStep(model, optimizer, { seed: 7 });
  const counts: number[] = [];
  for (let s = 0; s < 4; s++) {
    const b = randomBatch(config, { seed: s, batch: 4, seq: 8, predictions: 2 });
    step.accumulate({ ...b, labels: Int32Array.from([0, 1, 2, 1]) });
    const m = await step.apply(1e-3);
    assert.ok(m.accuracy >= 0 && m.accuracy <= 1);
    counts.push(tf.memory().numTensors);
  }
  assert.deepEqual(
    counts.slice(1),
    counts.slice(1).map(() => counts[0]),
  );
  optimizer.dispose();
  disposeParams(model.params);
});

test('a pretraining step reports sane metrics and lowers the loss on a repeated batch', async () => {
  await useTestBackend();
  const cfg = smallConfig({ hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const model = randomModel(cfg, { seed: 4, scale: 0.05 });
  const optimizer = createOptimizer({ type: 'adamw' });
  const batch = randomBatch(cfg, { seed: 5, batch: 4, seq: 10, predictions: 3 });
  const first = await trainStep(model, optimizer, batch, 1e-2);
  // Near-uniform predictions at init: MLM loss ≈ ln(vocab), NSP ≈ ln 2.
  assert.ok(
    Math.abs(first.mlm_loss - Math.log(cfg.vocab_size)) < 0.5,
    `mlm_loss ${first.mlm_loss}`,
  );
  assert.ok(Math.abs(first.nsp_loss! - Math.log(2)) < 0.2, `nsp_loss ${first.nsp_loss}`);
  assert.ok(Math.abs(first.loss - first.mlm_loss - first.nsp_loss!) < 1e-5);
  assert.ok(first.grad_norm > 0);
  let last = first;
  for (let i = 0; i < 10; i++) last = await trainStep(model, optimizer, batch, 1e-2);
  assert.ok(last.loss < first.loss - 0.5, `loss ${first.loss} → ${last.loss}`);
  assert.equal(optimizer.step, 11);
  optimizer.dispose();
  disposeParams(model.params);
});

test('accumulating the same micro-batch twice updates exactly like one step on it', async () => {
  await useTestBackend();
  const cfg = smallConfig({ hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const batch = randomBatch(cfg, { seed: 8, batch: 2, seq: 8, predictions: 3 });
  const a = randomModel(cfg, { seed: 3 });
  const b = randomModel(cfg, { seed: 3 });
  const optA = createOptimizer({ type: 'adamw' });
  const optB = createOptimizer({ type: 'adamw' });
  const stepA = new PretrainingStep(a, optA);
  stepA.accumulate(batch);
  stepA.accumulate(batch);
  const mA = await stepA.apply(1e-3);
  const mB = await trainStep(b, optB, batch, 1e-3);
  assert.ok(Math.abs(mA.loss - mB.loss) < 1e-6);
  assert.ok(Math.abs(mA.grad_norm - mB.grad_norm) < 1e-5 * mB.grad_norm);
  for (const [name, v] of a.params) {
    const x = v.dataSync();
    const y = b.params.get(name)!.dataSync();
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) < 1e-6, name);
  }
  for (const o of [optA, optB]) o.dispose();
  disposeParams(a.params);
  disposeParams(b.params);
});

test('dropout is reproducible: same seed and step give the same loss, another seed differs', async () => {
  await useTestBackend();
  const batch = randomBatch(config, { seed: 8, batch: 2, seq: 8, predictions: 3 });
  const losses: number[] = [];
  for (const seed of [1, 1, 2]) {
    const model = randomModel(config, { seed: 3 });
    const opt = createOptimizer({ type: 'adamw' });
    losses.push((await trainStep(model, opt, batch, 1e-3, { seed })).loss);
    opt.dispose();
    disposeParams(model.params);
  }
  assert.equal(losses[0], losses[1]);
  assert.notEqual(losses[0], losses[2]);
});

test('evaluation: same losses as a training step without dropout, summed exactly over batches, no leaks', async () => {
  await useTestBackend();
  const cfg = smallConfig({ hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const model = randomModel(cfg, { seed: 6, scale: 0.2 });
  const b1 = randomBatch(cfg, { seed: 1, batch: 3, seq: 9, predictions: 4, lengths: [9, 5, 7] });
  const b2 = randomBatch(cfg, { seed: 2, batch: 2, seq: 6, predictions: 3 });
  const before = tf.memory().numTensors;
  const s1 = evalPretrainingBatch(model, b1);
  const s2 = evalPretrainingBatch(model, b2);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(s1.mlm_count, 3 * 3); // one padding slot per row carries weight 0
  const both = pretrainingEvalMetrics([s1, s2]);
  const only1 = pretrainingEvalMetrics([s1]);
  assert.ok(
    Math.abs(both.mlm_loss - (s1.mlm_loss_sum + s2.mlm_loss_sum) / (s1.mlm_count + s2.mlm_count)) <
      1e-6,
  );
  assert.ok(both.nsp_accuracy! >= 0 && both.nsp_accuracy! <= 1);
  const opt = createOptimizer({ type: 'adamw' });
  const m = await trainStep(model, opt, b1, 1e-3);
  assert.ok(Math.abs(m.mlm_loss - only1.mlm_loss) < 1e-4, `${m.mlm_loss} vs ${only1.mlm_loss}`);
  assert.ok(Math.abs(m.nsp_loss! - only1.nsp_loss!) < 1e-5);
  assert.equal(m.mlm_accuracy, only1.mlm_accuracy);
  opt.dispose();
  disposeParams(model.params);
});

test('predictClassification returns [B, num_labels] logits, deterministically, without leaks', async () => {
  await useTestBackend();
  const model = randomModel(config, { seed: 2, heads: 'classification', numLabels: 3 });
  const b = randomBatch(config, {
    seed: 3,
    batch: 4,
    seq: 8,
    predictions: 1,
    lengths: [8, 3, 5, 8],
  });
  const before = tf.memory().numTensors;
  const a = await predictClassification(model, b);
  const again = await predictClassification(model, b);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(a.length, 12);
  assert.deepEqual(Array.from(a), Array.from(again));
  disposeParams(model.params);
});

test('a batch with an out-of-range id or too long a sequence is refused before reaching the kernels', async () => {
  await useTestBackend();
  const model = randomModel(config, { seed: 2 });
  const opt = createOptimizer({ type: 'adamw' });
  const b = randomBatch(config, { seed: 3, batch: 2, seq: 8, predictions: 2 });
  b.input_ids[5] = config.vocab_size;
  await assert.rejects(
    () => trainStep(model, opt, b, 1e-3),
    /batch\.input_ids\[5\] = 40 is outside \[0, 40\)/,
  );
  const long = randomBatch(config, {
    seed: 3,
    batch: 1,
    seq: config.max_position_embeddings + 1,
    predictions: 2,
  });
  assert.throws(
    () => evalPretrainingBatch(model, long),
    /seq_length 33 exceeds max_position_embeddings 32/,
  );
  assert.equal(opt.step, 0);
  opt.dispose();
  disposeParams(model.params);
});

test('with dropout on, every formulation (packed/batched attention, autodiff) gives the same losses over steps', async () => {
  await useTestBackend();
  const losses: number[][] = [];
  for (const ops of [wasmOps, wasmPackedAttentionOps, naiveWasmOps]) {
    const model = randomModel(config, { seed: 3, ops, scale: 0.1 });
    const opt = createOptimizer({ type: 'adamw' });
    const step = new PretrainingStep(model, opt, { seed: 5 });
    const out: number[] = [];
    for (let s = 0; s < 3; s++) {
      step.accumulate(
        randomBatch(config, { seed: s, batch: 3, seq: 9, predictions: 3, lengths: [9, 4, 7] }),
      );
      out.push((await step.apply(1e-2)).loss);
    }
    opt.dispose();
    disposeParams(model.params);
    losses.push(out);
  }
  for (const other of losses.slice(1)) {
    other.forEach((l, i) =>
      assert.ok(
        Math.abs(l - losses[0][i]) <= 1e-5 * Math.abs(losses[0][i]),
        `step ${i}: ${l} vs ${losses[0][i]}`,
      ),
    );
  }
});
