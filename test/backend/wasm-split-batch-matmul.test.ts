import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { useBuiltinWasmKernels } from '../../src/backend/wasm-native-kernels.js';
import {
  restoreWasmBatchMatMul,
  useSplitWasmBatchMatMul,
} from '../../src/backend/wasm-split-batch-matmul.js';

test('wasm: batched matMul split into single XNNPACK products equals tfjs’s kernel, leaks nothing', async () => {
  await selectBackend('wasm');
  const cases: [number[], number[], boolean, boolean][] = [
    [[32, 16, 8], [32, 8, 16], false, false], // attention scores / context shapes
    [[6, 5, 7], [6, 7, 3], false, false],
    [[2, 3, 4, 5], [2, 3, 5, 6], false, false], // two batch dims
    [[6, 5, 7], [6, 3, 7], false, true], // transposed: tfjs's own kernel
    [[1, 5, 7], [4, 7, 3], false, false], // broadcast: tfjs's own kernel
    [[5, 7], [7, 3], false, false], // 2-D: tfjs's own kernel
  ];
  try {
    restoreWasmBatchMatMul();
    useBuiltinWasmKernels();
    for (const [sa, sb, ta, tb] of cases) {
      const a = tf.randomNormal(sa, 0, 1, 'float32', 4);
      const b = tf.randomNormal(sb, 0, 1, 'float32', 5);
      restoreWasmBatchMatMul();
      const want = tf.matMul(a, b, ta, tb);
      useSplitWasmBatchMatMul();
      const before = tf.memory().numTensors;
      const got = tf.matMul(a, b, ta, tb);
      assert.equal(tf.memory().numTensors, before + 1);
      assert.deepEqual(got.shape, want.shape);
      const w = want.dataSync();
      const g = got.dataSync();
      for (let i = 0; i < w.length; i++)
        assert.ok(Math.abs(g[i] - w[i]) <= 1e-5 * (1 + Math.abs(w[i])), `${sa}·${sb}[${i}]`);
      // The inputs are untouched (views never free or overwrite their memory).
      const again = tf.randomNormal(sa, 0, 1, 'float32', 4);
      assert.deepEqual(Array.from(a.dataSync()), Array.from(again.dataSync()));
      again.dispose();
      tf.dispose([a, b, want, got]);
    }
  } finally {
    restoreWasmBatchMatMul();
    await selectBackend('wasm'); // back to what this machine's backend setup chose
  }
});
