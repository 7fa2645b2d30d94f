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
import { assertBatchMatMulMatches } from '../helpers/fused-cases.js';
import { threeAdamWSteps } from '../helpers/adamw-steps.js';

const native = nativeKernelsForTests();

test('native BatchMatMul equals tfjs WASM BatchMatMul on every layout: transposes, batches, broadcast', async (t) => {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  await selectBackend('wasm');
  const wasActive = wasmHeapKernelsActive();
  assert.equal(addon.setThreads(2), true);
  try {
    assertBatchMatMulMatches(() => useWasmHeapKernels(addon), useBuiltinWasmKernels);
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
