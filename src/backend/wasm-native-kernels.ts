/**
 * The heap kernels (src/backend/native-addon.ts's HeapKernels: the native
 * addon of native/bert_kernels.c, or the WebAssembly module of
 * src/backend/wasm-module.ts) as wasm-backend kernels, all working in place on
 * the WASM heap: BatchMatMul on the native SGEMM or the module's blocked
 * product (any transpose or batch layout at full speed; registered over tfjs's
 * own kernel, the same product up to float32 summation order) and the fused
 * AdamW update (FUSED_ADAMW, bit-identical to the op-by-op update), and the
 * fused kernels (LayerNorm with an optional residual add, bias + GELU,
 * forward and gradient; attention's bias + softmax + dropout and its
 * gradient; the softmax cross-entropy with its gradient; the
 * clip's sum of squares and the bias gradient's column sums;
 * multi-threaded over rows in the addon), the dense
 * layer's product with its bias added in the SGEMM, attention's per-head
 * products read and written in place (no head transposes), and an
 * Identity that shares data instead of copying (swapped in with the rest).
 * `useWasmHeapKernels` switches them in, `useBuiltinWasmKernels` out; both
 * tell src/model/kernels.ts, so the model picks the formulation that suits
 * the active BatchMatMul.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ATTENTION_SOFTMAX,
  ATTENTION_SOFTMAX_GRAD,
  BIAS_GELU,
  BIAS_GELU_GRAD,
  DENSE_BIAS,
  FUSED_ADAMW,
  FUSED_LAYER_NORM,
  FUSED_LAYER_NORM_GRAD,
  HEADS_MAT_MUL,
  hasTransposingBatchMatMul,
  type HeadsLayout,
  type HeadsMatMulAttrs,
  setTransposingBatchMatMul,
  SPARSE_SOFTMAX_CROSS_ENTROPY,
  SUM_SQUARES,
  COLUMN_SUMS,
} from '../model/kernels.js';
import type { FusedKernels, HeapKernels } from './native-addon.js';

/** What the kernel uses of tfjs-backend-wasm's BackendWasm. */
interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): tf.TensorInfo;
}

function nativeBatchMatMul(addon: HeapKernels): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (a.dtype !== 'float32' || b.dtype !== 'float32')
      throw new Error('BatchMatMul: only float32 tensors are supported');
    const wasm = backend as unknown as WasmBackend;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (k !== kb) {
      throw new Error(
        `matMul: inner shapes ${k} and ${kb} of [${a.shape}] and [${b.shape}] (transposeA=${transposeA}, transposeB=${transposeB}) must match`,
      );
    }
    const outer = tf.backend_util.assertAndGetBroadcastShape(
      a.shape.slice(0, -2),
      b.shape.slice(0, -2),
    );
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const batch = tf.util.sizeFromShape(outer);
    // Batch broadcasting as tfjs does it for rank-3 products: an operand with batch 1 is reused.
    if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1))
      throw new Error(`BatchMatMul: cannot broadcast [${a.shape}] with [${b.shape}]`);
    const out = wasm.makeOutput([...outer, m, n], 'float32');
    // After makeOutput: allocating may grow (and so replace) the heap's ArrayBuffer.
    const heap = wasm.wasm.HEAPU8.buffer as ArrayBuffer;
    addon.batchMatMul(
      heap,
      wasm.dataIdMap.get(a.dataId).memoryOffset,
      wasm.dataIdMap.get(b.dataId).memoryOffset,
      wasm.dataIdMap.get(out.dataId).memoryOffset,
      batch,
      m,
      n,
      k,
      transposeA,
      transposeB,
      batchA === 1 ? 0 : m * k,
      batchB === 1 ? 0 : k * n,
    );
    return out;
  };
}

/**
 * The fused AdamW kernel (FUSED_ADAMW in src/model/kernels.ts) on the wasm
 * backend: inputs p, g, m, v and the scalar coefficients gm, gv → [p', m', v'].
 */
function nativeAdamW(addon: FusedKernels): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackend;
    const { p, g, m, v, gm, gv } = inputs as Record<string, tf.TensorInfo>;
    const { beta1, beta2, c1, c2, epsilon, keep, lr } = attrs as Record<string, number>;
    const outs = [p, m, v].map((t) => wasm.makeOutput([...t.shape], 'float32'));
    const offset = (t: tf.TensorInfo): number => wasm.dataIdMap.get(t.dataId).memoryOffset;
    addon.adamW(
      wasm.wasm.HEAPU8.buffer as ArrayBuffer,
      ...[p, g, m, v, gm, gv, ...outs].map(offset),
      tf.util.sizeFromShape(p.shape),
      beta1,
      beta2,
      c1,
      c2,
      epsilon,
      keep,
      lr,
    );
    return outs;
  };
}

/** The byte offset of a tensor on the WASM heap. */
function heapOffset(wasm: WasmBackend, t: tf.TensorInfo): number {
  return wasm.dataIdMap.get(t.dataId).memoryOffset;
}

/** [rows, cols] of a tensor seen as a matrix over its last axis. */
function rowsCols(t: tf.TensorInfo): [number, number] {
  const cols = t.shape[t.shape.length - 1];
  return [cols ? tf.util.sizeFromShape(t.shape) / cols : 0, cols];
}

/** FUSED_LAYER_NORM: {x, gamma, beta[, residual]}, attrs {eps[, stats]} → [y, x̂, 1/σ] ([y]: stats false). */
function nativeLayerNorm(addon: FusedKernels): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackend;
    const { x, residual, gamma, beta } = inputs as Record<string, tf.TensorInfo | undefined>;
    const input = x as tf.TensorInfo;
    const [rows, cols] = rowsCols(input);
    const { eps, stats } = attrs as { eps: number; stats?: boolean };
    const outs = [wasm.makeOutput([...input.shape], 'float32')];
    if (stats !== false)
      outs.push(
        wasm.makeOutput([...input.shape], 'float32'),
        wasm.makeOutput([rows, 1], 'float32'),
      );
    const at = (t: tf.TensorInfo): number => heapOffset(wasm, t);
    addon.layerNorm(
      wasm.wasm.HEAPU8.buffer as ArrayBuffer,
      at(input),
      residual ? at(residual) : -1,
      at(gamma as tf.TensorInfo),
      at(beta as tf.TensorInfo),
      at(outs[0]),
      outs[1] ? at(outs[1]) : -1,
      outs[2] ? at(outs[2]) : -1,
      rows,
      cols,
      eps,
    );
    return outs;
  };
}

/** FUSED_LAYER_NORM_GRAD: {dy, xhat, rstd, gamma}, attrs {residual} → [dx, (dx,) dgamma, dbeta]. */
function nativeLayerNormGrad(addon: FusedKernels): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackend;
    const { dy, xhat, rstd, gamma } = inputs as Record<string, tf.TensorInfo>;
    const [rows, cols] = rowsCols(dy);
    const dx = wasm.makeOutput([...dy.shape], 'float32');
    const dr = (attrs as { residual: boolean }).residual
      ? wasm.makeOutput([...dy.shape], 'float32')
      : null;
    const dgamma = wasm.makeOutput([cols], 'float32');
    const dbeta = wasm.makeOutput([cols], 'float32');
    const at = (t: tf.TensorInfo): number => heapOffset(wasm, t);
    addon.layerNormGrad(
      wasm.wasm.HEAPU8.buffer as ArrayBuffer,
      ...[dy, xhat, rstd, gamma, dx, dgamma, dbeta].map(at),
      rows,
      cols,
    );
    if (!dr) return [dx, dgamma, dbeta];
    // The residual's gradient is dx again, as its own tensor (the tape may dispose either).
    wasm.wasm.HEAPU8.copyWithin(at(dr), at(dx), at(dx) + 4 * rows * cols);
    return [dx, dr, dgamma, dbeta];
  };
}

/** BIAS_GELU: {z, bias}, attrs {tanhForm} → GELU(z + bias). */
function nativeBiasGelu(addon: FusedKernels): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackend;
    const { z, bias } = inputs as Record<string, tf.TensorInfo>;
    const [rows, cols] = rowsCols(z);
    const y = wasm.makeOutput([...z.shape], 'float32');
    const at = (t: tf.TensorInfo): number => heapOffset(wasm, t);
    addon.biasGelu(
      wasm.wasm.HEAPU8.buffer as ArrayBuffer,
      at(z),
      at(bias),
      at(y),
      rows,
      cols,
      (attrs as { tanhForm: boolean }).tanhForm,
    );
    return y;
  };
}

/** BIAS_GELU_GRAD: {dy, z, bias}, attrs {tanhForm} → [dz, dbias]. */
function nativeBiasGeluGrad(addon: FusedKernels): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackend;
    const { dy, z, bias } = inputs as Record<string, tf.TensorInfo>;
    const [rows, cols] = rowsCols(z);
    const dz = wasm.makeOutput([...z.shape], 'float32');
    const dbias = wasm.makeOutput([cols], 'float32');
    const at = (t: tf.TensorInfo): number => heapOffset(wasm, t);
    addon.biasGeluGrad(
      wasm.wasm.HEAPU8.buffer as ArrayBuffer,
      ...[dy, z, bias, dz, dbias].map(at),
      rows,
      cols,
      (attrs as { tanhForm: boolean }).tanhForm,
    );
    return [dz, dbias];
  };
}

/** SUM_SQUARES: {x} → Σ x² (a float32 scalar). */
function nativeSumSquares(addon: FusedKernels): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const wasm = backend as unknown as WasmBackend;
    const { x } = inputs as { x: tf.TensorInfo };
    const out = wasm.makeOutput([], 'float32');
    addon.sumSquares(
      wasm.wasm.HEAPU8.buffer as ArrayBuffer,
      heapOffset(wasm, x),
      heapOffset(wasm, out),
      tf.util.sizeFromShape(x.shape),
    );
    return out;
  };
}

/**
 * A new `shape` output of `dtype` filled by `kernel(heap, x, out, rows, cols)`
 * from x seen as [rows, cols] (rowsCols).
 */
function rowsToOutput(
  wasm: WasmBackend,
  x: tf.TensorInfo,
  shape: number[],
  dtype: 'float32' | 'int32',
  kernel: FusedKernels['columnSums'],
): tf.TensorInfo {
  const [rows, cols] = rowsCols(x);
  const out = wasm.makeOutput(shape, dtype);
  kernel(
    wasm.wasm.HEAPU8.buffer as ArrayBuffer,
    heapOffset(wasm, x),
    heapOffset(wasm, out),
    rows,
    cols,
  );
  return out;
}

/** COLUMN_SUMS: {x [.., C]} → [C], the sum over every row. */
function nativeColumnSums(kernels: FusedKernels): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const cols = rowsCols(x)[1];
    return rowsToOutput(
      backend as unknown as WasmBackend,
      x,
      [cols],
      'float32',
      kernels.columnSums,
    );
  };
}

/**
 * tfjs's ArgMax over the last axis of a float32 tensor, on the heap kernels
 * (the MLM accuracy's argmax over [B·P, vocab] logits: tfjs's kernel is one
 * scalar pass on one thread); any other axis or dtype runs tfjs's own kernel.
 */
function heapArgMax(kernels: FusedKernels): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: tf.TensorInfo };
    const { axis } = attrs as { axis: number | number[] };
    const axes = Array.isArray(axis) ? axis : [axis];
    const last = x.shape.length - 1;
    if (
      x.dtype !== 'float32' ||
      axes.length !== 1 ||
      (axes[0] !== last && axes[0] !== -1) ||
      !(rowsCols(x)[0] > 0)
    )
      return (originals.get('ArgMax') as tf.KernelConfig).kernelFunc(args);
    const wasm = backend as unknown as WasmBackend;
    return rowsToOutput(wasm, x, x.shape.slice(0, last), 'int32', kernels.argMax);
  };
}

/** SPARSE_SOFTMAX_CROSS_ENTROPY: {logits [N, C], labels [N] int32} → [loss [N], softmax − onehot [N, C]]. */
function nativeSoftmaxCrossEntropy(addon: FusedKernels): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const wasm = backend as unknown as WasmBackend;
    const { logits, labels } = inputs as Record<string, tf.TensorInfo>;
    if (logits.dtype !== 'float32' || labels.dtype !== 'int32')
      throw new Error('BertSparseSoftmaxCrossEntropy: float32 logits and int32 labels expected');
    const [rows, cols] = rowsCols(logits);
    const loss = wasm.makeOutput([rows], 'float32');
    const d = wasm.makeOutput([...logits.shape], 'float32');
    const at = (t: tf.TensorInfo): number => heapOffset(wasm, t);
    addon.softmaxCrossEntropy(
      wasm.wasm.HEAPU8.buffer as ArrayBuffer,
      ...[logits, labels, loss, d].map(at),
      rows,
      cols,
    );
    return [loss, d];
  };
}

/** ATTENTION_SOFTMAX: {scores, bias[, mask]}, attrs {group} → [probs, softmax] or [softmax]. */
function nativeAttentionSoftmax(addon: FusedKernels): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackend;
    const { scores, bias, mask } = inputs as Record<string, tf.TensorInfo | undefined>;
    const x = scores as tf.TensorInfo;
    const [rows, cols] = rowsCols(x);
    const probs = mask ? wasm.makeOutput([...x.shape], 'float32') : null;
    const soft = wasm.makeOutput([...x.shape], 'float32');
    const at = (t: tf.TensorInfo): number => heapOffset(wasm, t);
    addon.attentionSoftmax(
      wasm.wasm.HEAPU8.buffer as ArrayBuffer,
      at(x),
      at(bias as tf.TensorInfo),
      mask ? at(mask) : -1,
      probs ? at(probs) : -1,
      at(soft),
      rows,
      cols,
      (attrs as { group: number }).group,
    );
    return probs ? [probs, soft] : [soft];
  };
}

/** ATTENTION_SOFTMAX_GRAD: {dy, softmax[, mask]} → d scores. */
function nativeAttentionSoftmaxGrad(addon: FusedKernels): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const wasm = backend as unknown as WasmBackend;
    const { dy, softmax, mask } = inputs as Record<string, tf.TensorInfo | undefined>;
    const d = dy as tf.TensorInfo;
    const [rows, cols] = rowsCols(d);
    const dx = wasm.makeOutput([...d.shape], 'float32');
    const at = (t: tf.TensorInfo): number => heapOffset(wasm, t);
    addon.attentionSoftmaxGrad(
      wasm.wasm.HEAPU8.buffer as ArrayBuffer,
      at(d),
      at(softmax as tf.TensorInfo),
      mask ? at(mask) : -1,
      at(dx),
      rows,
      cols,
    );
    return dx;
  };
}

/** DENSE_BIAS: {x [N, in], w [in, out] (transposeB: [out, in]), bias [out]} → x·w + bias. */
function nativeDenseBias(addon: HeapKernels): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackend;
    const { x, w, bias } = inputs as Record<string, tf.TensorInfo>;
    const transW = (attrs as { transposeB?: boolean }).transposeB === true;
    const [rows, inner] = x.shape;
    const out = w.shape[transW ? 0 : 1];
    if (x.shape.length !== 2 || w.shape.length !== 2 || w.shape[transW ? 1 : 0] !== inner)
      throw new Error(`BertDenseBias: cannot multiply [${x.shape}] by [${w.shape}]`);
    if (bias.shape.length !== 1 || bias.shape[0] !== out)
      throw new Error(`BertDenseBias: bias [${bias.shape}] does not match ${out} outputs`);
    const y = wasm.makeOutput([rows, out], 'float32');
    const at = (t: tf.TensorInfo): number => heapOffset(wasm, t);
    addon.denseBias(
      wasm.wasm.HEAPU8.buffer as ArrayBuffer,
      at(x),
      at(w),
      at(bias),
      at(y),
      rows,
      inner,
      out,
      transW,
    );
    return y;
  };
}

/** One operand of BertHeadsMatMul as stored matrices: shape, leading dimension, strides. */
interface HeadsOperand {
  rows: number;
  cols: number;
  ld: number;
  outer: number;
  inner: number;
}

/** `t` in `layout` as B·A matrices (see HeadsLayout in src/model/kernels.ts). */
function headsOperand(t: tf.TensorInfo, layout: HeadsLayout, B: number, A: number): HeadsOperand {
  if (layout === 'heads') {
    const [bt, h] = t.shape;
    if (t.shape.length !== 2 || bt % B !== 0 || h % A !== 0)
      throw new Error(`BertHeadsMatMul: [${t.shape}] is not [B·T, A·d] for B=${B}, A=${A}`);
    const T = bt / B;
    return { rows: T, cols: h / A, ld: h, outer: T * h, inner: h / A };
  }
  const [ba, r, c] = t.shape;
  if (t.shape.length !== 3 || ba !== B * A)
    throw new Error(`BertHeadsMatMul: [${t.shape}] is not [B·A, R, C] for B=${B}, A=${A}`);
  return { rows: r, cols: c, ld: c, outer: A * r * c, inner: r * c };
}

/** HEADS_MAT_MUL: {a, b}, attrs HeadsMatMulAttrs → per (sequence, head) alpha·op(a)·op(b). */
function nativeHeadsMatMul(addon: HeapKernels): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackend;
    const { a, b } = inputs as Record<string, tf.TensorInfo>;
    const at = attrs as unknown as HeadsMatMulAttrs;
    const B = at.batch;
    const A = at.heads;
    const oa = headsOperand(a, at.a, B, A);
    const ob = headsOperand(b, at.b, B, A);
    const m = at.transposeA ? oa.cols : oa.rows;
    const k = at.transposeA ? oa.rows : oa.cols;
    const kb = at.transposeB ? ob.cols : ob.rows;
    const n = at.transposeB ? ob.rows : ob.cols;
    if (k !== kb)
      throw new Error(`BertHeadsMatMul: inner sizes ${k} and ${kb} of [${a.shape}], [${b.shape}]`);
    const heads = at.out === 'heads';
    const y = wasm.makeOutput(heads ? [B * m, A * n] : [B * A, m, n], 'float32');
    const oc = heads
      ? { ld: A * n, outer: m * A * n, inner: n }
      : { ld: n, outer: A * m * n, inner: m * n };
    addon.stridedMatMul(
      wasm.wasm.HEAPU8.buffer as ArrayBuffer,
      heapOffset(wasm, a),
      heapOffset(wasm, b),
      heapOffset(wasm, y),
      B,
      A,
      m,
      n,
      k,
      at.transposeA,
      at.transposeB,
      at.alpha,
      oa.ld,
      ob.ld,
      oc.ld,
      oa.outer,
      oa.inner,
      ob.outer,
      ob.inner,
      oc.outer,
      oc.inner,
    );
    return y;
  };
}

/** The kernels registered next to BatchMatMul, by name (the native addon's or the WebAssembly module's). */
const FUSED: [string, (kernels: HeapKernels) => tf.KernelFunc][] = [
  [FUSED_ADAMW, nativeAdamW],
  [FUSED_LAYER_NORM, nativeLayerNorm],
  [FUSED_LAYER_NORM_GRAD, nativeLayerNormGrad],
  [BIAS_GELU, nativeBiasGelu],
  [BIAS_GELU_GRAD, nativeBiasGeluGrad],
  [SUM_SQUARES, nativeSumSquares],
  [COLUMN_SUMS, nativeColumnSums],
  [SPARSE_SOFTMAX_CROSS_ENTROPY, nativeSoftmaxCrossEntropy],
  [ATTENTION_SOFTMAX, nativeAttentionSoftmax],
  [ATTENTION_SOFTMAX_GRAD, nativeAttentionSoftmaxGrad],
  [DENSE_BIAS, nativeDenseBias],
  [HEADS_MAT_MUL, nativeHeadsMatMul],
];

/**
 * Identity that shares its input's data (reference-counted, as tfjs-backend-cpu
 * does) instead of copying it: the engine clones every tensor a gradient
 * saves, and WASM's own Identity copies each one (~140 copies per BERT step).
 * Tensors are immutable in tfjs, so sharing is safe.
 */
const sharedIdentity: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

/** tfjs's own kernels that the native ones replace, saved to put back. */
const originals = new Map<string, tf.KernelConfig>();

function replaceKernel(kernelName: string, kernelFunc: tf.KernelFunc): void {
  const current = tf.getKernel(kernelName, 'wasm');
  if (!current) throw new Error(`the wasm backend has registered no ${kernelName} kernel`);
  if (!originals.has(kernelName)) originals.set(kernelName, current);
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...(originals.get(kernelName) as tf.KernelConfig), kernelFunc });
}

/** Whether the wasm backend currently runs the heap kernels (the native addon's or the module's). */
export function wasmHeapKernelsActive(): boolean {
  return hasTransposingBatchMatMul('wasm');
}

/**
 * Route the wasm backend's BatchMatMul and the fused kernels to `kernels`: the
 * native addon's (`bert setup native`) or the WebAssembly module's
 * (src/backend/wasm-module.ts). Idempotent.
 */
export function useWasmHeapKernels(kernels: HeapKernels): void {
  replaceKernel('BatchMatMul', nativeBatchMatMul(kernels));
  replaceKernel('Identity', sharedIdentity);
  replaceKernel('ArgMax', heapArgMax(kernels));
  for (const [kernelName, make] of FUSED) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: make(kernels) });
  }
  setTransposingBatchMatMul('wasm', true);
}

/** Put tfjs's own BatchMatMul, Identity and ArgMax back and drop the fused kernels (tests compare the two). */
export function useBuiltinWasmKernels(): void {
  for (const [kernelName, config] of originals) {
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel(config);
  }
  originals.clear();
  for (const [kernelName] of FUSED)
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
  setTransposingBatchMatMul('wasm', false);
}
