/**
 * Gradient checks: the WASM-tuned custom gradients against plain tfjs
 * autodiff, and both against central finite differences, for the post-LN
 * and the pre-LN (model.layer_norm: pre) forward.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/tf.js';
import type { BertModel } from '../../src/model/bert.js';
import {
  pretrainingTensors,
  disposeTensors,
  type PretrainingBatch,
} from '../../src/model/batch.js';
import { pretrainingLosses } from '../../src/model/losses.js';
import {
  formulationsFor,
  naiveWasmOps,
  opsForBackend,
  type ModelOps,
} from '../../src/model/ops.js';
import { DECODER_WEIGHT, WORD_EMBEDDINGS, disposeParams } from '../../src/model/params.js';
import { randomBatch, randomModel, smallConfig } from './helpers.js';

const config = smallConfig({
  vocab_size: 24,
  hidden_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 16,
});

function gradients(model: BertModel, batch: PretrainingBatch): Map<string, Float32Array> {
  const names = [...model.params.keys()];
  const vars = names.map((n) => model.params.get(n) as tf.Variable);
  const inputs = pretrainingTensors(batch);
  const { value, grads } = tf.variableGrads(
    () => pretrainingLosses(model, inputs, { training: false }).loss,
    vars,
  );
  const out = new Map<string, Float32Array>();
  names.forEach((n, i) => out.set(n, grads[vars[i].name].dataSync() as Float32Array));
  tf.dispose([value, ...Object.values(grads)]);
  disposeTensors(inputs);
  return out;
}

function lossOf(model: BertModel, batch: PretrainingBatch): number {
  const inputs = pretrainingTensors(batch);
  const loss = tf.tidy(
    () => pretrainingLosses(model, inputs, { training: false }).loss.dataSync()[0],
  );
  disposeTensors(inputs);
  return loss;
}

function setElement(v: tf.Variable, index: number, value: number): void {
  const data = Float32Array.from(v.dataSync() as Float32Array);
  data[index] = value;
  const t = tf.tensor(data, v.shape);
  v.assign(t);
  t.dispose();
}

function argMaxAbs(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (Math.abs(a[i]) > Math.abs(a[best])) best = i;
  return best;
}

/** The analytic gradient of element `index` of `name` equals a central finite difference of the loss. */
function assertFiniteDifference(
  model: BertModel,
  grads: Map<string, Float32Array>,
  name: string,
  index: number,
): void {
  // float32 loss (~4): roundoff ~1e-6 / (2·eps) ≈ 5e-5; truncation O(eps²). eps = 1e-2 balances them.
  const eps = 1e-2;
  const v = model.params.get(name) as tf.Variable;
  const x0 = (v.dataSync() as Float32Array)[index];
  setElement(v, index, x0 + eps);
  const up = lossOf(model, batch);
  setElement(v, index, x0 - eps);
  const down = lossOf(model, batch);
  setElement(v, index, x0);
  const fd = (up - down) / (2 * eps);
  const g = grads.get(name)![index];
  assert.ok(Math.abs(g) > 1e-3, `${name}[${index}]: gradient ${g} too small to check`);
  assert.ok(
    Math.abs(fd - g) <= 2e-3 + 2e-2 * Math.abs(g),
    `${name}[${index}]: analytic ${g} vs finite difference ${fd}`,
  );
}

// Padding in row 1, one padding prediction slot per row: the gradient must respect both.
const batch = randomBatch(config, { seed: 3, batch: 2, seq: 7, predictions: 4, lengths: [7, 5] });
// A token that is a label but never an input: its embedding row gets gradient only through the tied decoder.
const decoderOnlyToken = (() => {
  const inputs = new Set(batch.input_ids);
  for (let i = 0; i < batch.masked_lm_ids.length; i++) {
    if (batch.masked_lm_weights[i] > 0 && !inputs.has(batch.masked_lm_ids[i]))
      return batch.masked_lm_ids[i];
  }
  return -1;
})();

test('custom (backend-tuned) gradients equal tfjs autodiff gradients on every parameter', async () => {
  const backend = await useTestBackend();
  const plain = randomModel(config, { seed: 9, ops: naiveWasmOps as ModelOps });
  const gPlain = gradients(plain, batch);
  const tuned = formulationsFor(backend).filter((ops) => ops.name !== 'autodiff');
  assert.ok(tuned.length >= 1);
  for (const ops of tuned) {
    const fast = randomModel(config, { seed: 9, ops });
    const gFast = gradients(fast, batch);
    assert.equal(gFast.size, fast.params.size);
    for (const [name, a] of gFast) {
      const b = gPlain.get(name) as Float32Array;
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(b[i]));
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
      }
      // Same maths in float32, different summation order: agree to ~1e-5 of the gradient's scale.
      assert.ok(
        diff <= 1e-5 * Math.max(scale, 1e-2),
        `${ops.name} ${name}: max diff ${diff} vs scale ${scale}`,
      );
    }
    disposeParams(fast.params);
  }
  disposeParams(plain.params);
});

test('gradients match central finite differences (embeddings, attention, LayerNorm, tied decoder, heads)', async () => {
  const backend = await useTestBackend();
  assert.ok(decoderOnlyToken >= 0, 'test batch should have a label token that is not an input');
  const model = randomModel(config, { seed: 21, ops: opsForBackend(backend), scale: 0.5 });
  const grads = gradients(model, batch);
  const H = config.hidden_size;
  const checks: { name: string; index: number }[] = [
    // Decoder-only row of the word embeddings (tied decoder path).
    {
      name: 'bert.embeddings.word_embeddings.weight',
      index:
        decoderOnlyToken * H +
        argMaxAbs(
          grads
            .get('bert.embeddings.word_embeddings.weight')!
            .subarray(decoderOnlyToken * H, (decoderOnlyToken + 1) * H),
        ),
    },
    ...[
      'bert.embeddings.word_embeddings.weight',
      'bert.embeddings.position_embeddings.weight',
      'bert.embeddings.token_type_embeddings.weight',
      'bert.embeddings.LayerNorm.weight',
      'bert.encoder.layer.0.attention.self.query.weight',
      'bert.encoder.layer.0.attention.self.key.weight',
      'bert.encoder.layer.0.attention.self.value.bias',
      'bert.encoder.layer.0.attention.output.LayerNorm.bias',
      'bert.encoder.layer.0.intermediate.dense.weight',
      'bert.encoder.layer.0.output.LayerNorm.weight',
      'bert.pooler.dense.weight',
      'cls.predictions.transform.dense.weight',
      'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.bias',
      'cls.seq_relationship.weight',
    ].map((name) => ({ name, index: argMaxAbs(grads.get(name)!) })),
  ];
  for (const { name, index } of checks) assertFiniteDifference(model, grads, name, index);
  disposeParams(model.params);
});

test('pre-LN gradients: backend-tuned equal autodiff, and match finite differences on the pre-LN LayerNorms', async () => {
  const backend = await useTestBackend();
  const pre = { ...config, layer_norm: 'pre' as const };
  const plain = randomModel(pre, { seed: 9, ops: naiveWasmOps as ModelOps });
  const gPlain = gradients(plain, batch);
  for (const ops of formulationsFor(backend).filter((o) => o.name !== 'autodiff')) {
    const fast = randomModel(pre, { seed: 9, ops });
    const gFast = gradients(fast, batch);
    assert.equal(gFast.size, fast.params.size);
    for (const [name, a] of gFast) {
      const b = gPlain.get(name) as Float32Array;
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(b[i]));
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
      }
      assert.ok(diff <= 1e-5 * Math.max(scale, 1e-2), `${ops.name} ${name}: max diff ${diff}`);
    }
    disposeParams(fast.params);
  }
  disposeParams(plain.params);

  const model = randomModel(pre, { seed: 21, ops: opsForBackend(backend), scale: 0.5 });
  const grads = gradients(model, batch);
  for (const name of [
    'bert.embeddings.LayerNorm.weight',
    'bert.encoder.layer.0.attention.LayerNorm.weight',
    'bert.encoder.layer.0.attention.LayerNorm.bias',
    'bert.encoder.layer.0.attention.self.query.weight',
    'bert.encoder.layer.0.attention.output.dense.weight',
    'bert.encoder.layer.0.intermediate.LayerNorm.weight',
    'bert.encoder.layer.0.intermediate.LayerNorm.bias',
    'bert.encoder.layer.0.output.dense.bias',
    'bert.LayerNorm.weight',
    'bert.LayerNorm.bias',
    'bert.pooler.dense.weight',
    'cls.predictions.transform.dense.weight',
  ]) {
    const g0 = grads.get(name);
    assert.ok(g0, `${name} is a parameter of the pre-LN model`);
    assertFiniteDifference(model, grads, name, argMaxAbs(g0));
  }
  // Post-LN's per-block LayerNorms are gone.
  assert.equal(model.params.has('bert.encoder.layer.0.output.LayerNorm.weight'), false);
  disposeParams(model.params);
});

test('untied decoder: its table matches finite differences, and word embeddings of tokens absent from the inputs get no gradient (tied: they do)', async () => {
  const backend = await useTestBackend();
  assert.ok(decoderOnlyToken >= 0, 'test batch should have a label token that is not an input');
  const untied = { ...config, tie_word_embeddings: false };
  const model = randomModel(untied, { seed: 21, ops: opsForBackend(backend), scale: 0.5 });
  const grads = gradients(model, batch);
  const H = config.hidden_size;
  const words = grads.get(WORD_EMBEDDINGS)!;
  const inputs = new Set(batch.input_ids);
  for (let token = 0; token < config.vocab_size; token++) {
    if (inputs.has(token)) continue;
    const row = words.subarray(token * H, (token + 1) * H);
    assert.ok(
      row.every((g) => g === 0),
      `word embedding row ${token} (not an input) has gradient`,
    );
  }
  // Every decoder row gets the softmax's gradient, the label-only token's included.
  const decoder = grads.get(DECODER_WEIGHT)!;
  const row = decoder.subarray(decoderOnlyToken * H, (decoderOnlyToken + 1) * H);
  assert.ok(row.some((g) => Math.abs(g) > 1e-4));
  for (const [name, index] of [
    [DECODER_WEIGHT, decoderOnlyToken * H + argMaxAbs(row)],
    [DECODER_WEIGHT, argMaxAbs(decoder)],
    [WORD_EMBEDDINGS, argMaxAbs(words)],
  ] as const)
    assertFiniteDifference(model, grads, name, index);
  disposeParams(model.params);
  // The same batch through a tied model moves the label-only token's embedding row.
  const tied = randomModel(config, { seed: 21, ops: opsForBackend(backend), scale: 0.5 });
  const tiedWords = gradients(tied, batch).get(WORD_EMBEDDINGS)!;
  assert.ok(
    tiedWords.subarray(decoderOnlyToken * H, (decoderOnlyToken + 1) * H).some((g) => g !== 0),
  );
  disposeParams(tied.params);
});
