/**
 * The fused-kernel cases both kernel sets are checked on (the native addon's in
 * test/model/fused-ops.test.ts, the WebAssembly module's in
 * test/backend/wasm-module.test.ts): dense, bias + GELU (both forms, far tails
 * included), LayerNorm with and without the residual, softmax cross-entropy and
 * attention with padding and dropout, on odd shapes; each compared by value and
 * gradient against another formulation.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { GeluForm, ModelOps } from '../../src/model/ops.js';
import { rng } from '../model/helpers.js';

/** [a shape, b shape, transposeA, transposeB]: every layout the model's products take, and edges. */
const LAYOUTS: [number[], number[], boolean, boolean][] = [
  [[7, 5], [5, 3], false, false],
  [[7, 5], [3, 5], false, true],
  [[5, 7], [5, 3], true, false],
  [[5, 7], [3, 5], true, true],
  [[70, 300], [300, 530], false, false], // more than one block of k and of n, odd edges
  [[300, 70], [530, 300], true, true],
  [[320, 128], [1000, 128], false, true], // tied decoder
  [[320, 1000], [320, 128], true, false], // its embedding gradient
  [[6, 16, 8], [6, 8, 16], false, false], // attention heads
  [[6, 16, 8], [6, 16, 8], false, true],
  [[6, 16, 8], [6, 16, 4], true, false],
  [[1, 4, 3], [5, 3, 2], false, false], // batch broadcast
  [[5, 4, 3], [3, 2], false, false],
  [[2, 3, 4, 5], [2, 3, 5, 6], false, false], // two batch dims
];

/**
 * tf.matMul with `ours` registered equals it with `builtin` (tfjs's own WASM
 * kernel) on every layout, within float32 round-off growing like √k; an empty
 * inner dimension gives zeros. Leaves `ours` registered.
 */
export function assertBatchMatMulMatches(ours: () => void, builtin: () => void): void {
  for (const [sa, sb, ta, tb] of LAYOUTS) {
    const a = tf.randomNormal(sa, 0, 1, 'float32', 1);
    const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
    builtin();
    const want = tf.matMul(a, b, ta, tb);
    ours();
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
  const empty = tf.tidy(() => Array.from(tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4])).dataSync()));
  assert.deepEqual(empty, new Array(12).fill(0));
}

/**
 * tf.argMax with `ours` registered equals it with `builtin` index for index:
 * the decoder's shape (several threads' worth of rows), ties (the first
 * index wins), NaNs (first, in the middle, a whole row), infinities, a 3-D
 * tensor, axis -1; and the cases `ours` hands back to tfjs (axis 0, int32).
 * Leaves `ours` registered.
 */
export function assertArgMaxMatches(ours: () => void, builtin: () => void): void {
  const r = rng(7);
  const rows = (n: number, cols: number, f: (i: number, j: number) => number): tf.Tensor2D =>
    tf.tensor2d(
      Float32Array.from({ length: n * cols }, (_, k) => f(Math.floor(k / cols), k % cols)),
      [n, cols],
    );
  const special = [
    [NaN, 1, 3, 2],
    [1, NaN, 3, 3],
    [NaN, NaN, NaN, NaN],
    [-Infinity, -Infinity, -Infinity, -Infinity],
    [0, Infinity, 5, Infinity],
    [2, 2, 2, 2],
  ];
  const cases: [string, tf.Tensor, number][] = [
    ['decoder logits', rows(70, 30522, () => r() * 2 - 1), -1],
    ['ties (within and across blocks of 128)', rows(50, 300, () => Math.floor(r() * 3)), 1],
    ['NaN, infinities, all equal', tf.tensor2d(special), 1],
    [
      '3-D',
      tf.tensor3d(
        Float32Array.from({ length: 300 }, () => r()),
        [2, 3, 50],
      ),
      2,
    ],
    ['axis 0', rows(9, 5, () => r()), 0],
    ['int32', tf.tensor2d([3, 9, 9, 1, 4, 2], [2, 3], 'int32'), 1],
  ];
  for (const [what, x, axis] of cases) {
    builtin();
    const want = tf.tidy(() => Array.from(tf.argMax(x, axis).dataSync()));
    ours();
    const got = tf.tidy(() => Array.from(tf.argMax(x, axis).dataSync()));
    assert.deepEqual(got, want, what);
    x.dispose();
  }
}

export function random(shape: number[], seed: number, scale = 1): tf.Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale),
    shape,
  );
}

/** The value of f and the gradients of sum(f · w) w.r.t. every input (w: fixed random weights). */
export function valueAndGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
): Float32Array[] {
  return tf.tidy(() => {
    const y = f(...inputs);
    const w = random(y.shape, 99);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(inputs);
    return [y, ...grads].map((t) => Float32Array.from(t.dataSync() as Float32Array));
  });
}

export function assertClose(got: Float32Array[], want: Float32Array[], what: string): void {
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
export function cases(): [
  string,
  (ops: ModelOps) => (...xs: tf.Tensor[]) => tf.Tensor,
  tf.Tensor[],
][] {
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
    out.push([
      `tiedDecoder [${rows},${inner}]·[${cols},${inner}]ᵀ`,
      ((ops: ModelOps) => (h: tf.Tensor, e: tf.Tensor, b: tf.Tensor) =>
        ops.tiedDecoder(h as tf.Tensor2D, e as tf.Tensor2D, b as tf.Tensor1D)) as never,
      [random([rows, inner], 11, scale), random([cols, inner], 12), random([cols], 13)],
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
