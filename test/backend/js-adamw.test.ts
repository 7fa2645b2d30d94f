/**
 * The JavaScript FUSED_ADAMW of the cpu backend (src/backend/js-adamw.ts):
 * bit for bit the op-by-op update of src/train/optimizer.ts, with and
 * without bias correction, decayed and undecayed parameters, leak-free.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { adamWLoop, useJavaScriptAdamW } from '../../src/backend/js-adamw.js';
import { FUSED_ADAMW } from '../../src/model/kernels.js';
import { createOptimizer } from '../../src/train/optimizer.js';

/** Three AdamW steps on two parameters (one decayed, one not); their values and moments after. */
function threeSteps(biasCorrection: boolean): Float32Array[] {
  const variable = (shape: number[], seed: number): tf.Variable => {
    const init = tf.randomNormal(shape, 0, 1, 'float32', seed);
    const v = tf.variable(init);
    init.dispose();
    return v;
  };
  const params = new Map<string, tf.Variable>([
    ['a.weight', variable([37, 5], 7)],
    ['a.bias', variable([5], 8)],
  ]);
  const opt = createOptimizer({ type: 'adamw', biasCorrection, weightDecay: 0.01 });
  for (let step = 0; step < 3; step++) {
    const grads = new Map<string, tf.Tensor>(
      [...params].map(([n, p]) => [n, tf.randomNormal(p.shape, 0, 1e-2, 'float32', 10 + step)]),
    );
    const scale = tf.scalar(0.37);
    opt.applyGradients(params, grads, 1e-2, scale);
    tf.dispose([...grads.values(), scale]);
  }
  const out = [
    ...[...params.values()].map((p) => p.dataSync() as Float32Array),
    ...[...opt.exportState().tensors.values()].map((s) => s.data as Float32Array),
  ];
  opt.dispose();
  params.forEach((p) => p.dispose());
  return out;
}

test('cpu: the JavaScript fused AdamW equals the op-by-op update bit for bit', async () => {
  await selectBackend('cpu');
  const registered = tf.getKernel(FUSED_ADAMW, 'cpu');
  try {
    for (const correction of [false, true]) {
      if (tf.getKernel(FUSED_ADAMW, 'cpu')) tf.unregisterKernel(FUSED_ADAMW, 'cpu');
      const opByOp = threeSteps(correction);
      useJavaScriptAdamW();
      assert.ok(tf.getKernel(FUSED_ADAMW, 'cpu'), 'registered');
      const before = tf.memory().numTensors;
      const fused = threeSteps(correction);
      assert.equal(tf.memory().numTensors, before, 'the fused path leaks nothing');
      assert.deepEqual(fused, opByOp, `bias correction ${correction}`);
      // The steps moved every weight (a kernel that returned its inputs would fail here).
      const init = tf.tidy(() => tf.randomNormal([37, 5], 0, 1, 'float32', 7).dataSync());
      assert.ok(fused[0].every((x, i) => x !== init[i]));
    }
  } finally {
    if (tf.getKernel(FUSED_ADAMW, 'cpu')) tf.unregisterKernel(FUSED_ADAMW, 'cpu');
    if (registered) tf.registerKernel(registered);
  }
});

test('adamWLoop: one step by hand, an output in place of its input', () => {
  // p 1, g 0.5, m 0.1, v 0.04; β 0.9 / 0.999, gm 0.1, gv 0.001, c 1, keep 0.99, lr 0.1:
  // m' = 0.09 + 0.05 = 0.14, v' = 0.03996 + 0.00025 = 0.04021, p' = 0.99 − 0.1·0.14/(√0.04021 + 1e-6).
  const [p, g, m, v] = [1, 0.5, 0.1, 0.04].map((x) => new Float32Array([x, 7]));
  const outP = new Float32Array(2);
  adamWLoop(
    1,
    p,
    g,
    m,
    v,
    0.1,
    0.001,
    { beta1: 0.9, beta2: 0.999, c1: 1, c2: 1, epsilon: 1e-6, keep: 0.99, lr: 0.1 },
    outP,
    m,
    v,
  );
  assert.deepEqual([outP[1], m[1], v[1]], [0, 7, 7], 'nothing past n is written');
  assert.ok(Math.abs(m[0] - 0.14) < 1e-7, `m' ${m[0]}`);
  assert.ok(Math.abs(v[0] - 0.04021) < 1e-8, `v' ${v[0]}`);
  const want = 0.99 - (0.1 * 0.14) / (Math.sqrt(0.04021) + 1e-6);
  assert.ok(Math.abs(outP[0] - want) < 1e-6, `p' ${outP[0]} vs ${want}`);
});
