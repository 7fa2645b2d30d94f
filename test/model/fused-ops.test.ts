/**
 * The fused kernels of the native addon (dense with its bias in the SGEMM,
 * bias + GELU, LayerNorm with and without the residual add, softmax
 * cross-entropy, attention's in-place per-head products, softmax and
 * dropout) through wasmNativeOps: outputs and
 * gradients equal the op-by-op formulation and plain autodiff, on odd shapes
 * and at 1 and 2 threads; without the kernels registered the same ops fall
 * back to op-by-op maths. Built for real into a temporary cache (skipped
 * with the reason where no C compiler or SGEMM library is installed).
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
import {
  BIAS_GELU,
  DENSE_BIAS,
  FUSED_LAYER_NORM,
  HEADS_MAT_MUL,
  SUM_SQUARES,
  sumSquares,
} from '../../src/model/kernels.js';
import {
  autodiffOps,
  forwardOnly,
  wasmNativeForwardOps,
  wasmNativeOps,
  wasmNativeUnfusedOps,
} from '../../src/model/ops.js';
import { nativeKernelsForTests } from '../helpers/native-kernels.js';
import { assertClose, cases, random, valueAndGrads } from '../helpers/fused-cases.js';
import { rng } from './helpers.js';

const native = nativeKernelsForTests();

type Addon = NonNullable<ReturnType<typeof native.need>>['addon'];

/**
 * Run `body` on wasm with the native kernels swapped in, then put back what was
 * active and 2 threads; nothing runs where the addon cannot be built (`t` skips).
 */
async function withNativeKernels(
  t: Parameters<typeof native.need>[0],
  body: (addon: Addon) => void,
): Promise<void> {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  await selectBackend('wasm');
  const wasActive = wasmHeapKernelsActive();
  useWasmHeapKernels(addon);
  try {
    body(addon);
  } finally {
    addon.setThreads(2);
    if (!wasActive) useBuiltinWasmKernels();
  }
}

test('fused bias+GELU, (residual+)LayerNorm, cross-entropy, attention softmax: values and gradients equal op-by-op and autodiff, 1 and 2 threads', async (t) => {
  await withNativeKernels(t, (addon) => {
    for (const kernel of [BIAS_GELU, FUSED_LAYER_NORM, DENSE_BIAS, HEADS_MAT_MUL])
      assert.ok(tf.getKernel(kernel, 'wasm'), `${kernel} is registered`);
    for (const [name, f, inputs] of cases()) {
      const want = valueAndGrads(f(wasmNativeUnfusedOps), inputs);
      assertClose(valueAndGrads(f(autodiffOps), inputs), want, `${name} autodiff`);
      for (const threads of [1, 2]) {
        addon.setThreads(threads);
        const before = tf.memory().numTensors;
        assertClose(
          valueAndGrads(f(wasmNativeOps), inputs),
          want,
          `${name} fused, ${threads} threads`,
        );
        assert.equal(tf.memory().numTensors, before, `${name}: the fused path leaks nothing`);
      }
      tf.dispose(inputs);
    }
  });
});

test('without the fused kernels registered, the same ops run op by op', async (t) => {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  await selectBackend('wasm');
  const wasActive = wasmHeapKernelsActive();
  try {
    useWasmHeapKernels(addon);
    const [name, f, inputs] = cases()[0];
    const fused = valueAndGrads(f(wasmNativeOps), inputs);
    useBuiltinWasmKernels();
    assert.equal(tf.getKernel(BIAS_GELU, 'wasm'), undefined);
    assertClose(valueAndGrads(f(wasmNativeOps), inputs), fused, `${name} fallback`);
    tf.dispose(inputs);
  } finally {
    if (wasActive) useWasmHeapKernels(addon);
    else useBuiltinWasmKernels();
  }
});

test('native sum of squares equals Square + Sum (1 and 2 threads) and falls back without the kernel', async (t) => {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  await selectBackend('wasm');
  const wasActive = wasmHeapKernelsActive();
  try {
    for (const shape of [[1], [7, 13], [5003, 7]]) {
      const x = random(shape, 11, 3);
      useBuiltinWasmKernels();
      assert.equal(tf.getKernel(SUM_SQUARES, 'wasm'), undefined);
      // The exact sum (in double); float32 Square + Sum within ~1e-5 of it, the native one (float blocks added in double) within 1e-6.
      const want = (x.dataSync() as Float32Array).reduce((s, v) => s + v * v, 0);
      const plain = tf.tidy(() => sumSquares(x).dataSync()[0]);
      assert.ok(
        Math.abs(plain - want) <= 1e-5 * want,
        `[${shape}] Square + Sum: ${plain} vs ${want}`,
      );
      useWasmHeapKernels(addon);
      for (const threads of [1, 2]) {
        addon.setThreads(threads);
        const got = tf.tidy(() => sumSquares(x).dataSync()[0]);
        assert.ok(
          Math.abs(got - want) <= 1e-6 * want,
          `[${shape}] ${threads} threads: ${got} vs ${want}`,
        );
      }
      x.dispose();
    }
  } finally {
    addon.setThreads(2);
    if (wasActive) useWasmHeapKernels(addon);
    else useBuiltinWasmKernels();
  }
});

test('forward-only LayerNorm (no x̂, 1/σ written) gives the fused values, leaks nothing', async (t) => {
  await withNativeKernels(t, (addon) => {
    for (const [rows, cols] of [
      [7, 13],
      [1031, 33],
    ]) {
      const x = random([rows, cols], 4, 3) as tf.Tensor2D;
      const r = random([rows, cols], 8) as tf.Tensor2D;
      const g = random([cols], 5) as tf.Tensor1D;
      const b = random([cols], 6) as tf.Tensor1D;
      for (const threads of [1, 2]) {
        addon.setThreads(threads);
        const before = tf.memory().numTensors;
        const pairs: [tf.Tensor, tf.Tensor][] = [
          [wasmNativeForwardOps.layerNorm(x, g, b, 1e-12), wasmNativeOps.layerNorm(x, g, b, 1e-12)],
          [
            wasmNativeForwardOps.addLayerNorm(x, r, g, b, 1e-5),
            wasmNativeOps.addLayerNorm(x, r, g, b, 1e-5),
          ],
        ];
        for (const [got, want] of pairs) {
          assert.deepEqual(got.dataSync(), want.dataSync(), `[${rows},${cols}] ${threads} threads`);
          tf.dispose([got, want]);
        }
        assert.equal(tf.memory().numTensors, before);
      }
      tf.dispose([x, r, g, b]);
    }
    assert.equal(forwardOnly(wasmNativeOps), wasmNativeForwardOps);
    assert.equal(forwardOnly(autodiffOps), autodiffOps);
  });
});

test('the fused kernels reject operands outside the heap', (t) => {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  const heap = new ArrayBuffer(64);
  assert.throws(() => addon.layerNorm(heap, 0, -1, 0, 0, 0, 0, 0, 8, 8, 1e-5), /outside the heap/);
  // Forward only (no x̂, 1/σ): the output must still fit.
  assert.throws(
    () => addon.layerNorm(heap, 0, -1, 0, 0, 64, -1, -1, 2, 2, 1e-5),
    /outside the heap/,
  );
  assert.throws(() => addon.layerNormGrad(heap, 0, 0, 0, 0, 0, 0, 0, 8, 8), /outside the heap/);
  assert.throws(() => addon.biasGelu(heap, 0, 0, 0, 8, 8, false), /outside the heap/);
  assert.throws(() => addon.biasGeluGrad(heap, 0, 0, 0, 0, 0, 8, 8, true), /outside the heap/);
  assert.throws(() => addon.sumSquares(heap, 0, 0, 17), /outside the heap/);
  assert.throws(() => addon.softmaxCrossEntropy(heap, 0, 0, 0, 0, 8, 8), /outside the heap/);
  assert.throws(() => addon.attentionSoftmax(heap, 0, 0, -1, -1, 0, 8, 8, 8), /outside the heap/);
  assert.throws(() => addon.attentionSoftmaxGrad(heap, 0, 0, -1, 0, 8, 8), /outside the heap/);
  assert.throws(() => addon.denseBias(heap, 0, 0, 0, 0, 4, 4, 5, false), /outside the heap/);
  // 2×2 products fit; a second product 16 floats on does not (strides), nor a row at ld 20.
  const strided = (outerStride: number, ld: number) => () =>
    addon.stridedMatMul(
      heap,
      0,
      0,
      0,
      2,
      1,
      2,
      2,
      2,
      false,
      false,
      1,
      ld,
      2,
      2,
      outerStride,
      0,
      0,
      0,
      0,
      0,
    );
  strided(0, 2)();
  assert.throws(strided(16, 2), /outside the heap/);
  assert.throws(strided(0, 20), /outside the heap/);
  // A leading dimension under the stored columns is not a matrix layout, wherever it lies.
  assert.throws(strided(0, 1), /not a matrix layout/);
  assert.throws(strided(-1, 2), /not a matrix layout/);
});

test('stridedMatMul: per (i, j) products at their own offsets, leading dimensions and scale', (t) => {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  // A: two 3×2 matrices side by side in a [3, 4] block (ld 4, inner stride 2) per outer i,
  // B: shared 2×3 (strides 0), C: 3×3 each into a [2, 2, 3, 3] block; alpha 0.5.
  const heap = new Float32Array(2 * 12 + 6 + 36);
  const r = rng(21);
  for (let i = 0; i < 30; i++) heap[i] = Math.round((r() * 2 - 1) * 8);
  const aOff = 0;
  const bOff = 24;
  const cOff = 30;
  addon.stridedMatMul(
    heap.buffer,
    aOff * 4,
    bOff * 4,
    cOff * 4,
    2,
    2,
    3,
    3,
    2,
    false,
    false,
    0.5,
    4,
    3,
    3,
    12,
    2,
    0,
    0,
    18,
    9,
  );
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 2; j++)
      for (let row = 0; row < 3; row++)
        for (let col = 0; col < 3; col++) {
          let want = 0;
          for (let k = 0; k < 2; k++)
            want += heap[aOff + i * 12 + j * 2 + row * 4 + k] * heap[bOff + k * 3 + col];
          const got = heap[cOff + i * 18 + j * 9 + row * 3 + col];
          assert.equal(got, 0.5 * want, `C[${i},${j}][${row},${col}]`);
        }
});
