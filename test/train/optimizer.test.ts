import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/tf.js';
import { UserError } from '../../src/errors.js';
import {
  clipByGlobalNorm,
  createOptimizer,
  excludedFromWeightDecay,
  type OptimizerConfig,
} from '../../src/train/optimizer.js';

function vars(entries: Record<string, number[]>): Map<string, tf.Variable> {
  return new Map(Object.entries(entries).map(([k, v]) => [k, tf.variable(tf.tensor1d(v), true)]));
}
function grads(entries: Record<string, number[]>): Map<string, tf.Tensor> {
  return new Map(Object.entries(entries).map(([k, v]) => [k, tf.tensor1d(v)]));
}
function values(v: tf.Tensor): number[] {
  return Array.from(v.dataSync());
}
function close(actual: number[], expected: number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) =>
    assert.ok(
      Math.abs(a - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])),
      `[${i}] ${a} vs ${expected[i]}`,
    ),
  );
}

/** One Adam step by hand, in float64. */
function adamByHand(
  p: number,
  g: number,
  lr: number,
  c: Required<OptimizerConfig>,
  decay: boolean,
  t = 1,
): number {
  const m = (1 - c.beta1) * g;
  const v = (1 - c.beta2) * g * g;
  const mh = c.biasCorrection ? m / (1 - c.beta1 ** t) : m;
  const vh = c.biasCorrection ? v / (1 - c.beta2 ** t) : v;
  return p - lr * (mh / (Math.sqrt(vh) + c.epsilon) + (decay ? c.weightDecay * p : 0));
}

test('BERT weight-decay exclusions: LayerNorm and biases only', () => {
  assert.ok(excludedFromWeightDecay('bert.encoder.layer.0.attention.output.LayerNorm.weight'));
  assert.ok(excludedFromWeightDecay('bert.embeddings.LayerNorm.bias'));
  assert.ok(excludedFromWeightDecay('bert.encoder.layer.3.intermediate.dense.bias'));
  assert.ok(excludedFromWeightDecay('cls.predictions.bias'));
  assert.ok(!excludedFromWeightDecay('bert.embeddings.word_embeddings.weight'));
  assert.ok(!excludedFromWeightDecay('bert.encoder.layer.0.attention.self.query.weight'));
  assert.ok(!excludedFromWeightDecay('classifier.weight'));
});

test('one AdamW step equals the hand computation (BERT default: no bias correction, decay not on LayerNorm/bias)', async () => {
  await useTestBackend();
  const opt = createOptimizer({ type: 'adamw' });
  assert.equal(opt.config.biasCorrection, false);
  assert.equal(opt.config.epsilon, 1e-6);
  const p = vars({
    'x.weight': [1, -2, 0.5],
    'x.bias': [1, -2, 0.5],
    'x.LayerNorm.weight': [1, -2, 0.5],
  });
  const g = grads({
    'x.weight': [0.5, 0.1, -3],
    'x.bias': [0.5, 0.1, -3],
    'x.LayerNorm.weight': [0.5, 0.1, -3],
  });
  opt.applyGradients(p, g, 0.1);
  const c = opt.config;
  for (const [name, v] of p) {
    const decay = name === 'x.weight';
    close(
      values(v),
      [1, -2, 0.5].map((x, i) => adamByHand(x, [0.5, 0.1, -3][i], 0.1, c, decay)),
      1e-5,
    );
  }
  // Without bias correction the first update is ~0.03·g/|g|·… — check it really differs from the corrected one.
  const corrected = createOptimizer({ type: 'adamw', biasCorrection: true });
  const q = vars({ 'y.bias': [0] });
  corrected.applyGradients(q, grads({ 'y.bias': [0.5] }), 0.1);
  close(values(q.get('y.bias')!), [adamByHand(0, 0.5, 0.1, corrected.config, false)], 1e-5);
  assert.ok(Math.abs(values(q.get('y.bias')!)[0] + 0.1) < 1e-4); // corrected first step ≈ −lr·sign(g)
  assert.equal(opt.step, 1);
  tf.dispose([...p.values(), ...g.values(), ...q.values()]);
  opt.dispose();
  corrected.dispose();
});

test('a zero gradient still decays weights by lr·wd·p, and leaves LayerNorm/bias alone', async () => {
  await useTestBackend();
  const opt = createOptimizer({ type: 'adamw', weightDecay: 0.01 });
  const p = vars({ 'w.weight': [2, -4], 'w.bias': [2, -4] });
  opt.applyGradients(p, grads({ 'w.weight': [0, 0], 'w.bias': [0, 0] }), 0.5);
  close(values(p.get('w.weight')!), [2 - 0.5 * 0.01 * 2, -4 + 0.5 * 0.01 * 4]);
  close(values(p.get('w.bias')!), [2, -4]);
  tf.dispose([...p.values()]);
  opt.dispose();
});

test('LAMB scales the update by the trust ratio ‖p‖/‖update‖ (not for excluded params)', async () => {
  await useTestBackend();
  const opt = createOptimizer({ type: 'lamb' });
  assert.equal(opt.config.biasCorrection, true);
  const p0 = [3, 4];
  const g0 = [0.1, -0.2];
  const p = vars({ 'a.weight': p0, 'a.bias': p0 });
  opt.applyGradients(p, grads({ 'a.weight': g0, 'a.bias': g0 }), 0.01);
  const c = opt.config;
  const u = p0.map((x, i) => {
    const m = (1 - c.beta1) * g0[i];
    const v = (1 - c.beta2) * g0[i] ** 2;
    return m / (1 - c.beta1) / (Math.sqrt(v / (1 - c.beta2)) + c.epsilon) + c.weightDecay * x;
  });
  const ratio = Math.hypot(...p0) / Math.hypot(...u);
  close(
    values(p.get('a.weight')!),
    p0.map((x, i) => x - 0.01 * ratio * u[i]),
    1e-5,
  );
  close(
    values(p.get('a.bias')!),
    p0.map((x, i) => adamByHand(x, g0[i], 0.01, c, false)),
    1e-5,
  );
  tf.dispose([...p.values()]);
  opt.dispose();
});

test('exported state re-imported continues exactly like the original optimizer', async () => {
  await useTestBackend();
  const a = createOptimizer({ type: 'adamw' });
  const pa = vars({ 'w.weight': [1, 2, 3] });
  const g = grads({ 'w.weight': [0.3, -0.1, 0.2] });
  a.applyGradients(pa, g, 0.01);
  a.applyGradients(pa, g, 0.01);
  const state = await a.exportState();
  assert.equal(state.step, 2);
  assert.deepEqual([...state.tensors.keys()], ['w.weight.exp_avg', 'w.weight.exp_avg_sq']);
  const b = createOptimizer({ type: 'adamw' });
  const pb = vars({ 'w.weight': values(pa.get('w.weight')!) });
  b.importState(state.tensors, state.step, pb);
  assert.equal(b.step, 2);
  a.applyGradients(pa, g, 0.01);
  b.applyGradients(pb, g, 0.01);
  assert.deepEqual(values(pb.get('w.weight')!), values(pa.get('w.weight')!));
  assert.throws(
    () => b.importState(new Map(), 2, pb, 'ckpt/optimizer.safetensors'),
    (e: Error) =>
      e instanceof UserError &&
      /ckpt\/optimizer\.safetensors: .*missing w\.weight\.exp_avg/.test(e.message),
  );
  tf.dispose([...pa.values(), ...pb.values(), ...g.values()]);
  a.dispose();
  b.dispose();
});

test('global-norm clipping: scaled to norm 1 above it, untouched below, pre-clip norm reported', async () => {
  await useTestBackend();
  const g = grads({ a: [3], b: [0, 4] });
  const { grads: clipped, norm } = clipByGlobalNorm(g, 1.0);
  close(values(norm), [5]);
  close(values(clipped.get('a')!), [0.6]);
  close(values(clipped.get('b')!), [0, 0.8]);
  const small = clipByGlobalNorm(grads({ a: [0.3], b: [0.4] }), 1.0);
  close(values(small.grads.get('b')!), [0.4]);
  close(values(small.norm), [0.5]);
  tf.dispose([...g.values(), ...clipped.values(), norm, ...small.grads.values(), small.norm]);
});

test('an unknown optimizer type is a UserError', () => {
  assert.throws(
    () => createOptimizer({ type: 'sgd' as 'adamw' }),
    /optimizer\.type must be "adamw" or "lamb", got "sgd"/,
  );
});
