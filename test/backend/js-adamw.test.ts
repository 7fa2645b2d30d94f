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
import { threeAdamWSteps } from '../helpers/adamw-steps.js';

test('cpu: the JavaScript fused AdamW equals the op-by-op update bit for bit', async () => {
  await selectBackend('cpu');
  const registered = tf.getKernel(FUSED_ADAMW, 'cpu');
  try {
    for (const correction of [false, true]) {
      if (tf.getKernel(FUSED_ADAMW, 'cpu')) tf.unregisterKernel(FUSED_ADAMW, 'cpu');
      const opByOp = await threeAdamWSteps(correction);
      useJavaScriptAdamW();
      assert.ok(tf.getKernel(FUSED_ADAMW, 'cpu'), 'registered');
      const before = tf.memory().numTensors;
      const fused = await threeAdamWSteps(correction);
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
