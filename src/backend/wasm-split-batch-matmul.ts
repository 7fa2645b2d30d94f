/**
 * tfjs-backend-wasm's BatchMatMul is fast (XNNPACK, ~15–25 GFLOPS) only for
 * one untransposed product; with a batch it runs a scalar loop (~1.5
 * GFLOPS), which made batched attention a third of a BERT-Tiny step. This
 * kernel runs a batched, untransposed product as `batch` single products on
 * the same WASM-heap memory: each operand slice and output slice is
 * registered with the WASM module as a tensor view (an id pointing into the
 * existing allocation, no copy) and handed to the WASM module's own
 * BatchMatMul, then the views are unregistered (never freed: they own no
 * memory). Everything else goes to tfjs's kernel unchanged.
 *
 * Used when the native kernels (`bert setup native`) are not built.
 */
import * as tf from '@tensorflow/tfjs-core';

/** What the kernel uses of tfjs-backend-wasm's BackendWasm (4.22). */
interface WasmBackend {
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
    tfjs: {
      registerTensor(id: number, size: number, memoryOffset: number): void;
      disposeData(id: number): void;
    };
  };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

type WasmMatMul = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  transposeA: boolean,
  transposeB: boolean,
  outId: number,
) => void;

// View ids count down from the top of the id space: tfjs counts up from 0.
let nextViewId = 0x7fffffff;
let wasmMatMul: WasmMatMul | null = null;
let original: tf.KernelConfig | null = null;
let active = false;

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

function splitBatchMatMul(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  const ra = a.shape.length;
  const rb = b.shape.length;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const fallback = (original as tf.KernelConfig).kernelFunc;
  if (
    transposeA ||
    transposeB ||
    a.dtype !== 'float32' ||
    b.dtype !== 'float32' ||
    ra !== rb ||
    batchA !== batchB ||
    batchA < 2
  )
    return fallback(args) as tf.TensorInfo;
  const wasm = backend as unknown as WasmBackend;
  wasmMatMul ??= wasm.wasm.cwrap('BatchMatMul', null, [
    'number',
    'array',
    'number',
    'number',
    'array',
    'number',
    'number',
    'number',
    'number',
  ]) as unknown as WasmMatMul;
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[rb - 1];
  if (b.shape[rb - 2] !== k || a.shape.slice(0, -2).some((d, i) => d !== b.shape[i]))
    return fallback(args) as tf.TensorInfo;
  const out = wasm.makeOutput([...a.shape.slice(0, -2), m, n], 'float32');
  const aOffset = wasm.dataIdMap.get(a.dataId).memoryOffset;
  const bOffset = wasm.dataIdMap.get(b.dataId).memoryOffset;
  const outOffset = wasm.dataIdMap.get(out.dataId).memoryOffset;
  const aShape = shapeBytes([1, m, k]);
  const bShape = shapeBytes([1, k, n]);
  const { registerTensor, disposeData } = wasm.wasm.tfjs;
  for (let i = 0; i < batchA; i++) {
    const aId = nextViewId--;
    const bId = nextViewId--;
    const outId = nextViewId--;
    registerTensor(aId, m * k, aOffset + 4 * i * m * k);
    registerTensor(bId, k * n, bOffset + 4 * i * k * n);
    registerTensor(outId, m * n, outOffset + 4 * i * m * n);
    wasmMatMul(aId, aShape, 3, bId, bShape, 3, false, false, outId);
    // Unregister only (dispose_data also drops XNNPACK's operator cached for bId); no _free.
    disposeData(aId);
    disposeData(bId);
    disposeData(outId);
    if (nextViewId < 0x40000000) nextViewId = 0x7fffffff;
  }
  return out;
}

/** Route the wasm backend's batched, untransposed BatchMatMul through single XNNPACK products. */
export function useSplitWasmBatchMatMul(): void {
  if (active) return;
  const current = tf.getKernel('BatchMatMul', 'wasm');
  if (!current) throw new Error('the wasm backend has registered no BatchMatMul kernel');
  original = current;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...current, kernelFunc: splitBatchMatMul as tf.KernelFunc });
  active = true;
}

/** Put back the kernel that was registered before useSplitWasmBatchMatMul. */
export function restoreWasmBatchMatMul(): void {
  if (!active || !original) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(original);
  active = false;
}
