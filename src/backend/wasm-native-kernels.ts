/**
 * The native kernels (native/bert_kernels.c) as wasm-backend kernels, all
 * working in place on the WASM heap: BatchMatMul on a native SGEMM (any
 * transpose or batch layout at native speed; registered over tfjs's own
 * kernel, the same product up to float32 summation order) and the fused
 * AdamW update (FUSED_ADAMW, bit-identical to the op-by-op update).
 * `useNativeWasmKernels` switches them in, `useBuiltinWasmKernels` out; both
 * tell src/model/kernels.ts, so the model picks the formulation that suits
 * the active BatchMatMul.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  FUSED_ADAMW,
  hasTransposingBatchMatMul,
  setTransposingBatchMatMul,
} from '../model/kernels.js';
import type { NativeKernels } from './native-addon.js';

/** What the kernel uses of tfjs-backend-wasm's BackendWasm. */
interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

function nativeBatchMatMul(addon: NativeKernels): tf.KernelFunc {
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
function nativeAdamW(addon: NativeKernels): tf.KernelFunc {
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

let original: tf.KernelConfig | null = null;

/** Whether the wasm backend currently runs the native kernels. */
export function nativeWasmKernelsActive(): boolean {
  return hasTransposingBatchMatMul('wasm');
}

/** Route the wasm backend's BatchMatMul and fused AdamW to `addon` (idempotent). */
export function useNativeWasmKernels(addon: NativeKernels): void {
  const current = tf.getKernel('BatchMatMul', 'wasm');
  if (!current) throw new Error('the wasm backend has registered no BatchMatMul kernel');
  original ??= current;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: nativeBatchMatMul(addon) });
  if (tf.getKernel(FUSED_ADAMW, 'wasm')) tf.unregisterKernel(FUSED_ADAMW, 'wasm');
  tf.registerKernel({
    kernelName: FUSED_ADAMW,
    backendName: 'wasm',
    kernelFunc: nativeAdamW(addon),
  });
  setTransposingBatchMatMul('wasm', true);
}

/** Put tfjs's own BatchMatMul back and drop the fused AdamW (tests compare the two). */
export function useBuiltinWasmKernels(): void {
  if (!original || !nativeWasmKernelsActive()) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(original);
  if (tf.getKernel(FUSED_ADAMW, 'wasm')) tf.unregisterKernel(FUSED_ADAMW, 'wasm');
  setTransposingBatchMatMul('wasm', false);
}
