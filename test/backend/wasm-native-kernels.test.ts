/**
 * The native kernels as wasm-backend kernels (`bert setup native`): built
 * for real into a temporary cache, then compared with tfjs's own WASM
 * BatchMatMul on every layout the model uses, the JavaScript dropout-mask
 * generator and the op-by-op AdamW. CI installs a C compiler and oneDNN
 * (.ci/run); elsewhere these tests skip with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import {
  wasmHeapKernelsActive,
  useBuiltinWasmKernels,
  useWasmHeapKernels,
} from '../../src/backend/wasm-native-kernels.js';
import { keepMask } from '../../src/model/dropout-mask.js';
import { FUSED_ADAMW } from '../../src/model/kernels.js';
import { nativeKernelsForTests } from '../helpers/native-kernels.js';
import { threeAdamWSteps } from '../helpers/adamw-steps.js';

const native = nativeKernelsForTests();

test('native BatchMatMul equals tfjs WASM BatchMatMul on every layout: transposes, batches, broadcast', async (t) => {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  await selectBackend('wasm');
  const wasActive = wasmHeapKernelsActive();
  assert.equal(addon.setThreads(2), true);
  const cases: [number[], number[], boolean, boolean][] = [
    [[7, 5], [5, 3], false, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [5, 3], true, false],
    [[5, 7], [3, 5], true, true],
    [[320, 128], [1000, 128], false, true], // tied decoder
    [[320, 1000], [320, 128], true, false], // its embedding gradient
    [[6, 16, 8], [6, 8, 16], false, false], // attention heads
    [[6, 16, 8], [6, 16, 8], false, true],
    [[6, 16, 8], [6, 16, 4], true, false],
    [[1, 4, 3], [5, 3, 2], false, false], // batch broadcast
    [[5, 4, 3], [3, 2], false, false],
    [[2, 3, 4, 5], [2, 3, 5, 6], false, false], // two batch dims
  ];
  try {
    for (const [sa, sb, ta, tb] of cases) {
      const a = tf.randomNormal(sa, 0, 1, 'float32', 1);
      const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
      useBuiltinWasmKernels();
      const want = tf.matMul(a, b, ta, tb);
      useWasmHeapKernels(addon);
      const got = tf.matMul(a, b, ta, tb);
      assert.deepEqual(got.shape, want.shape, `${sa}·${sb}`);
      const w = want.dataSync();
      const g = got.dataSync();
      const k = ta ? sa[sa.length - 2] : sa[sa.length - 1];
      for (let i = 0; i < w.length; i++) {
        // Sums of k products of N(0,1) values: float32 round-off grows like √k.
        assert.ok(
          Math.abs(g[i] - w[i]) <= 1e-5 * Math.sqrt(k + 1) * (1 + Math.abs(w[i])),
          `${JSON.stringify([sa, sb, ta, tb])}[${i}]: ${g[i]} vs ${w[i]}`,
        );
      }
      tf.dispose([a, b, want, got]);
    }
    // An empty inner dimension gives zeros (tfjs's own kernel leaves the output unwritten).
    const empty = tf.tidy(() =>
      Array.from(tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4])).dataSync()),
    );
    assert.deepEqual(empty, new Array(12).fill(0));
    // Operands that do not fit the heap never reach native code.
    assert.throws(
      () => addon.batchMatMul(new ArrayBuffer(64), 0, 0, 0, 1, 8, 8, 8, false, false, 0, 0),
      /outside the heap/,
    );
  } finally {
    if (wasActive) useWasmHeapKernels(addon);
    else useBuiltinWasmKernels();
  }
});

test('native dropout masks equal the JavaScript generator value for value', (t) => {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  for (const [seed, size, keep] of [
    ['0/0', 262_144, 0.9],
    ['step 12/5', 1_001, 0.5],
    ['x', 3, 0.999],
  ] as const) {
    assert.deepEqual(keepMask(seed, size, keep, addon.keepMask), keepMask(seed, size, keep, null));
  }
  assert.throws(
    () => addon.keepMask(new Float64Array(4) as never, 1, 2, 3, 4, 0, 1),
    /Float32Array/,
  );
});

test('fused native AdamW equals the tfjs-op AdamW bit for bit, with and without decay and bias correction', async (t) => {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  await selectBackend('wasm');
  const wasActive = wasmHeapKernelsActive();
  const run = (fused: boolean, biasCorrection: boolean): Promise<Float32Array[]> => {
    if (fused) useWasmHeapKernels(addon);
    else useBuiltinWasmKernels();
    assert.equal(tf.getKernel(FUSED_ADAMW, 'wasm') !== undefined, fused);
    return threeAdamWSteps(biasCorrection);
  };
  try {
    for (const correction of [false, true]) {
      const before = tf.memory().numTensors;
      const fused = await run(true, correction);
      assert.equal(tf.memory().numTensors, before, 'the fused path leaks nothing');
      assert.deepEqual(fused, await run(false, correction));
    }
  } finally {
    if (wasActive) useWasmHeapKernels(addon);
    else useBuiltinWasmKernels();
  }
});

test('the kernels leak no tensors and keep the heap consistent over repeated products', async (t) => {
  const kernels = native.need(t);
  if (!kernels) return;
  await selectBackend('wasm');
  const wasActive = wasmHeapKernelsActive();
  useWasmHeapKernels(kernels.addon);
  try {
    const a = tf.randomNormal([64, 32], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    let last = 0;
    for (let i = 0; i < 50; i++) {
      // Growing allocations in between move tfjs's heap; results must not change.
      const pad = tf.zeros([1 << (10 + (i % 8))]);
      last = tf.tidy(() => tf.sum(tf.matMul(a, a, false, true)).dataSync()[0]);
      pad.dispose();
    }
    const once = tf.tidy(() => tf.sum(tf.matMul(a, a, false, true)).dataSync()[0]);
    assert.equal(last, once);
    assert.equal(tf.memory().numTensors, before);
    a.dispose();
  } finally {
    if (!wasActive) useBuiltinWasmKernels();
  }
});
