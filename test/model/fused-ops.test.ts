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
  nativeWasmKernelsActive,
  useBuiltinWasmKernels,
  useNativeWasmKernels,
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
  type GeluForm,
  type ModelOps,
} from '../../src/model/ops.js';
import { nativeKernelsForTests } from '../helpers/native-kernels.js';
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
  const wasActive = nativeWasmKernelsActive();
  useNativeWasmKernels(addon);
  try {
    body(addon);
  } finally {
    addon.setThreads(2);
    if (!wasActive) useBuiltinWasmKernels();
  }
}

function random(shape: number[], seed: number, scale = 1): tf.Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale),
    shape,
  );
}

/** The value of f and the gradients of sum(f · w) w.r.t. every input (w: fixed random weights). */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): Float32Array[] {
  return tf.tidy(() => {
    const y = f(...inputs);
    const w = random(y.shape, 99);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(inputs);
    return [y, ...grads].map((t) => Float32Array.from(t.dataSync() as Float32Array));
  });
}

function assertClose(got: Float32Array[], want: Float32Array[], what: string): void {
  assert.equal(got.length, want.length);
  got.forEach((g, k) => {
    assert.equal(g.length, want[k].length, `${what} output ${k}: size`);
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < g.length; i++) {
      scale = Math.max(scale, Math.abs(want[k][i]));
      diff = Math.max(diff, Math.abs(g[i] - want[k][i]));
    }
    // Same maths in float32, a different summation order: ~1e-6 of the scale.
    assert.ok(
      diff <= 2e-6 * Math.max(scale, 1),
      `${what} output ${k}: max diff ${diff} (scale ${scale})`,
    );
  });
}

/** Each fused op's cases: [name, (ops) => f, input shapes]. */
function cases(): [string, (ops: ModelOps) => (...xs: tf.Tensor[]) => tf.Tensor, tf.Tensor[]][] {
  const denseGelu =
    (act: GeluForm) => (ops: ModelOps) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      ops.denseGelu(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D, act);
  const layerNorm = (ops: ModelOps) => (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    ops.layerNorm(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-12);
  const addLayerNorm =
    (ops: ModelOps) => (x: tf.Tensor, r: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      ops.addLayerNorm(
        x as tf.Tensor2D,
        r as tf.Tensor2D,
        g as tf.Tensor1D,
        b as tf.Tensor1D,
        1e-5,
      );
  const out: [string, (ops: ModelOps) => (...xs: tf.Tensor[]) => tf.Tensor, tf.Tensor[]][] = [];
  // The last shape with inputs ×20: pre-activations far out in both tails (exp clamps, erf → ±1).
  for (const [rows, inner, cols, scale] of [
    [7, 13, 11, 2],
    [1, 3, 5, 2],
    [33, 8, 17, 2],
    [5, 4, 9, 20],
    // Over the addon's PARALLEL_MIN (32768 elements): rows split over the threads.
    [1031, 8, 33, 2],
  ]) {
    out.push([
      `dense [${rows},${inner}]·[${inner},${cols}]`,
      ((ops: ModelOps) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        ops.dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D)) as never,
      [random([rows, inner], 1, scale), random([inner, cols], 2), random([cols], 3)],
    ]);
    for (const act of ['gelu', 'gelu_new'] as const)
      out.push([
        `denseGelu ${act} [${rows},${inner}]·[${inner},${cols}] ×${scale}`,
        denseGelu(act) as never,
        [random([rows, inner], 1, scale), random([inner, cols], 2), random([cols], 3)],
      ]);
    out.push([
      `layerNorm [${rows},${cols}]`,
      layerNorm as never,
      [random([rows, cols], 4, 3), random([cols], 5), random([cols], 6)],
    ]);
    out.push([
      `addLayerNorm [${rows},${cols}]`,
      addLayerNorm as never,
      [random([rows, cols], 7, 3), random([rows, cols], 8), random([cols], 9), random([cols], 10)],
    ]);
  }
  for (const [rows, cols, scale] of [
    [7, 13, 3],
    [3, 1000, 30],
    [37, 1001, 3],
  ]) {
    const labels = tf.tensor1d(
      Array.from({ length: rows }, (_, i) => (i * 7) % cols),
      'int32',
    ) as tf.Tensor1D;
    out.push([
      `softmaxCrossEntropy [${rows},${cols}] ×${scale}`,
      ((ops: ModelOps) => (x: tf.Tensor) =>
        ops.softmaxCrossEntropy(x as tf.Tensor2D, labels)) as never,
      [random([rows, cols], 12, scale)],
    ]);
  }
  // Attention (odd T; the second over PARALLEL_MIN): padding in the bias, a dropout keep-mask or none.
  for (const [B, T, A, H, dropout] of [
    [2, 5, 3, 6, true],
    [2, 65, 4, 8, true],
    [3, 7, 2, 4, false],
  ] as const) {
    const biasValues = Array.from({ length: B * T }, (_, i) =>
      i % T >= T - 2 && i >= T ? -10000 : 0,
    );
    const bias = tf.tensor4d(biasValues, [B, 1, 1, T]);
    const r = rng(13);
    const mask = dropout
      ? tf.tensor4d(
          Float32Array.from({ length: B * A * T * T }, () => (r() < 0.9 ? 1 / 0.9 : 0)),
          [B, A, T, T],
        )
      : null;
    out.push([
      `attention B${B} T${T} A${A} H${H}${dropout ? ' + dropout' : ''}`,
      ((ops: ModelOps) => (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) =>
        ops.attention(
          q as tf.Tensor2D,
          k as tf.Tensor2D,
          v as tf.Tensor2D,
          bias,
          { batch: B, seq: T, heads: A },
          mask,
        )) as never,
      [random([B * T, H], 14, 2), random([B * T, H], 15, 2), random([B * T, H], 16)],
    ]);
  }
  return out;
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
  const wasActive = nativeWasmKernelsActive();
  try {
    useNativeWasmKernels(addon);
    const [name, f, inputs] = cases()[0];
    const fused = valueAndGrads(f(wasmNativeOps), inputs);
    useBuiltinWasmKernels();
    assert.equal(tf.getKernel(BIAS_GELU, 'wasm'), undefined);
    assertClose(valueAndGrads(f(wasmNativeOps), inputs), fused, `${name} fallback`);
    tf.dispose(inputs);
  } finally {
    if (wasActive) useNativeWasmKernels(addon);
    else useBuiltinWasmKernels();
  }
});

test('native sum of squares equals Square + Sum (1 and 2 threads) and falls back without the kernel', async (t) => {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  await selectBackend('wasm');
  const wasActive = nativeWasmKernelsActive();
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
      useNativeWasmKernels(addon);
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
    if (wasActive) useNativeWasmKernels(addon);
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
  assert.throws(() => addon.denseBias(heap, 0, 0, 0, 0, 4, 4, 5), /outside the heap/);
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
