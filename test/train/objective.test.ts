/**
 * `train.objective: mlm` in the step (no NSP loss, the pooler and NSP head
 * untouched by the update) and the held-out evaluation's collapse signals
 * (`distinct_top_predictions`, `cls_mean_cosine`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/tf.js';
import { disposeParams } from '../../src/model/params.js';
import { PretrainingStep } from '../../src/train/step.js';
import { createOptimizer } from '../../src/train/optimizer.js';
import { evaluatePretraining } from '../../src/tasks/pretrain/pretrain.js';
import { randomBatch, randomModel, smallConfig } from '../model/helpers.js';

const cfg = smallConfig({ hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });

/** Parameters that only next-sentence prediction reads. */
const NSP_ONLY = /^(bert\.pooler\.|cls\.seq_relationship\.)/;

test('objective mlm: loss = MLM loss, no NSP metrics, the NSP head and pooler stay as they were', async () => {
  await useTestBackend();
  const model = randomModel(cfg, { seed: 3, scale: 0.05 });
  const before = new Map([...model.params].map(([n, p]) => [n, p.dataSync().slice()]));
  assert.ok([...before.keys()].filter((n) => NSP_ONLY.test(n)).length >= 4);
  const optimizer = createOptimizer({ type: 'adamw', weightDecay: 0.01 });
  const step = new PretrainingStep(model, optimizer, { seed: 1, objective: 'mlm' });
  const batch = randomBatch(cfg, { seed: 4, batch: 4, seq: 12, predictions: 3 });
  const losses: number[] = [];
  for (let s = 0; s < 8; s++) {
    step.accumulate(batch);
    const m = await step.apply(1e-2);
    assert.deepEqual(Object.keys(m).sort(), ['grad_norm', 'loss', 'mlm_accuracy', 'mlm_loss']);
    assert.ok(Math.abs(m.loss - m.mlm_loss) < 1e-6, `loss ${m.loss} vs mlm_loss ${m.mlm_loss}`);
    losses.push(m.loss);
  }
  assert.ok(losses[7] < losses[0] - 0.5, `MLM loss ${losses[0]} → ${losses[7]}`);
  for (const [name, p] of model.params) {
    const same = p.dataSync().every((v, i) => v === before.get(name)![i]);
    if (NSP_ONLY.test(name)) assert.ok(same, `${name} changed under objective mlm`);
  }
  // What the MLM reads did move.
  for (const name of ['bert.embeddings.word_embeddings.weight', 'cls.predictions.bias']) {
    const moved = model.params
      .get(name)!
      .dataSync()
      .some((v, i) => v !== before.get(name)![i]);
    assert.ok(moved, `${name} did not move`);
  }
  step.dispose();
  optimizer.dispose();
  disposeParams(model.params);
});

for (const objective of [undefined, 'mlm+sop', 'mlm+nsp+sop'] as const) {
  test(`objective ${objective ?? 'mlm+nsp (the default)'} still updates the NSP head`, async () => {
    await useTestBackend();
    const model = randomModel(cfg, { seed: 3, scale: 0.05 });
    const name = 'cls.seq_relationship.weight';
    const before = model.params.get(name)!.dataSync().slice();
    const optimizer = createOptimizer({ type: 'adamw' });
    const step = new PretrainingStep(model, optimizer, { seed: 1, objective });
    step.accumulate(randomBatch(cfg, { seed: 4, batch: 4, seq: 12, predictions: 3 }));
    const m = await step.apply(1e-2);
    assert.ok(m.nsp_loss !== undefined && m.nsp_accuracy !== undefined);
    assert.ok(
      model.params
        .get(name)!
        .dataSync()
        .some((v, i) => v !== before[i]),
    );
    step.dispose();
    optimizer.dispose();
    disposeParams(model.params);
  });
}

test('distinct_top_predictions: 1 for a model whose decoder bias makes one token win, more for a fresh model', async () => {
  await useTestBackend();
  const batches = [1, 2, 3].map((seed) =>
    randomBatch(cfg, { seed, batch: 4, seq: 12, predictions: 4, lengths: [12, 9, 12, 7] }),
  );
  const fresh = randomModel(cfg, { seed: 5, scale: 0.5 });
  const m = await evaluatePretraining(fresh, batches);
  assert.ok(m.distinct_top_predictions > 1, `fresh model: ${m.distinct_top_predictions}`);
  assert.ok(m.distinct_top_predictions <= 3 * 4 * 4);
  assert.ok(m.mlm_accuracy >= 0 && m.mlm_accuracy <= 1);
  // A fresh model's [CLS] state follows its input: 12 sequences, far from one shared direction.
  assert.ok(m.cls_mean_cosine > -1 && m.cls_mean_cosine < 0.99, `cls ${m.cls_mean_cosine}`);
  assert.deepEqual(Object.keys(m).sort(), [
    'cls_mean_cosine',
    'distinct_top_predictions',
    'loss',
    'mlm_accuracy',
    'mlm_loss',
    'nsp_accuracy',
    'nsp_loss',
  ]);

  const collapsed = randomModel(cfg, { seed: 5, scale: 0.5 });
  const winner = 7;
  const bias = collapsed.params.get('cls.predictions.bias')!;
  const b = bias.dataSync().slice();
  b[winner] = 1e4;
  bias.assign(tf.tensor1d(b));
  const c = await evaluatePretraining(collapsed, batches, 'mlm');
  assert.equal(c.distinct_top_predictions, 1);
  assert.deepEqual(Object.keys(c).sort(), [
    'cls_mean_cosine',
    'distinct_top_predictions',
    'loss',
    'mlm_accuracy',
    'mlm_loss',
  ]);
  assert.equal(c.loss, c.mlm_loss);
  disposeParams(fresh.params);
  disposeParams(collapsed.params);
});

test('cls_mean_cosine: 1 when the last LayerNorm makes every [CLS] state its bias', async () => {
  await useTestBackend();
  const batches = [1, 2].map((seed) =>
    randomBatch(cfg, { seed, batch: 4, seq: 12, predictions: 4, lengths: [12, 9, 12, 7] }),
  );
  const model = randomModel(cfg, { seed: 5, scale: 0.5 });
  // Post-LN: every final state is gamma·x̂ + beta of the last layer's output LayerNorm.
  const last = `bert.encoder.layer.${cfg.num_hidden_layers - 1}.output.LayerNorm`;
  const gamma = model.params.get(`${last}.weight`)!;
  const before = (await evaluatePretraining(model, batches)).cls_mean_cosine;
  gamma.assign(tf.zerosLike(gamma));
  const after = (await evaluatePretraining(model, batches)).cls_mean_cosine;
  assert.ok(before < 0.99, `fresh model: ${before}`);
  assert.ok(Math.abs(after - 1) < 1e-6, `constant [CLS]: ${after}`);
  disposeParams(model.params);
});
