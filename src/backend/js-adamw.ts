/**
 * FUSED_ADAMW (src/model/kernels.ts) as one JavaScript loop over a backend's
 * own float32 storage, for the backends whose memory JavaScript can read:
 * plain wasm (the WASM heap; used when the native kernels of
 * src/backend/wasm-native-kernels.ts are not built) and cpu (typed arrays).
 * One pass reads p, g, m, v and writes p', m', v', where the op-by-op update
 * of src/train/optimizer.ts launches ~10 kernels per parameter, each a pass.
 *
 * Every operation is rounded to float32 (Math.fround) in the op-by-op order,
 * so the result is the op-by-op update's bit for bit: float64 arithmetic
 * rounded to float32 after each +, −, ×, ÷ and √ gives float32's own result.
 */
import * as tf from '@tensorflow/tfjs-core';
import { FUSED_ADAMW } from '../model/kernels.js';

/** What the kernel uses of tfjs-backend-wasm's BackendWasm. */
interface WasmBackend {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** What the kernel uses of tfjs-backend-cpu's MathBackendCPU. */
interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

export interface AdamWCoefficients {
  beta1: number;
  beta2: number;
  c1: number;
  c2: number;
  epsilon: number;
  keep: number;
  lr: number;
}

/**
 * p', m', v' of AdamW over [0, n): m' = β₁m + gm·g, v' = β₂v + gv·g²,
 * p' = keep·p − lr·(m'/c₁)/(√(v'/c₂) + ε), each operation in float32.
 * The inputs are read at their offsets before any output is written, so an
 * output may share memory with its own input.
 */
export function adamWLoop(
  n: number,
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  gm: number,
  gv: number,
  k: AdamWCoefficients,
  outP: Float32Array,
  outM: Float32Array,
  outV: Float32Array,
  offsets: Readonly<{
    p: number;
    g: number;
    m: number;
    v: number;
    outP: number;
    outM: number;
    outV: number;
  }> = {
    p: 0,
    g: 0,
    m: 0,
    v: 0,
    outP: 0,
    outM: 0,
    outV: 0,
  },
): void {
  const f = Math.fround;
  const beta1 = f(k.beta1);
  const beta2 = f(k.beta2);
  const c1 = f(k.c1);
  const c2 = f(k.c2);
  const eps = f(k.epsilon);
  const keep = f(k.keep);
  const lr = f(k.lr);
  const fgm = f(gm);
  const fgv = f(gv);
  const { p: po, g: go, m: mo, v: vo, outP: pw, outM: mw, outV: vw } = offsets;
  for (let i = 0; i < n; i++) {
    const gi = g[go + i];
    const mi = f(f(m[mo + i] * beta1) + f(gi * fgm));
    const vi = f(f(v[vo + i] * beta2) + f(f(gi * gi) * fgv));
    const update = f(f(mi / c1) / f(f(Math.sqrt(f(vi / c2))) + eps));
    const pi = f(f(p[po + i] * keep) - f(update * lr));
    outM[mw + i] = mi;
    outV[vw + i] = vi;
    outP[pw + i] = pi;
  }
}

function wasmAdamW({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const wasm = backend as unknown as WasmBackend;
  const { p, g, m, v, gm, gv } = inputs as Record<string, tf.TensorInfo>;
  // Outputs first: allocating may grow the heap, which replaces HEAPF32.
  const outs = [p, m, v].map((t) => wasm.makeOutput([...t.shape], 'float32'));
  const heap = wasm.wasm.HEAPF32;
  const at = (t: tf.TensorInfo): number => wasm.dataIdMap.get(t.dataId).memoryOffset / 4;
  adamWLoop(
    tf.util.sizeFromShape(p.shape),
    heap,
    heap,
    heap,
    heap,
    heap[at(gm)],
    heap[at(gv)],
    attrs as unknown as AdamWCoefficients,
    heap,
    heap,
    heap,
    {
      p: at(p),
      g: at(g),
      m: at(m),
      v: at(v),
      outP: at(outs[0]),
      outM: at(outs[1]),
      outV: at(outs[2]),
    },
  );
  return outs;
}

function cpuAdamW({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const cpu = backend as unknown as CpuBackend;
  const { p, g, m, v, gm, gv } = inputs as Record<string, tf.TensorInfo>;
  const values = (t: tf.TensorInfo): Float32Array => cpu.data.get(t.dataId).values;
  const n = tf.util.sizeFromShape(p.shape);
  const [outP, outM, outV] = [0, 1, 2].map(() => new Float32Array(n));
  adamWLoop(
    n,
    values(p),
    values(g),
    values(m),
    values(v),
    values(gm)[0],
    values(gv)[0],
    attrs as unknown as AdamWCoefficients,
    outP,
    outM,
    outV,
  );
  return [outP, outM, outV].map((data, i) =>
    cpu.makeTensorInfo([...[p, m, v][i].shape], 'float32', data),
  );
}

const KERNELS: Record<'wasm' | 'cpu', tf.KernelFunc> = {
  wasm: wasmAdamW as tf.KernelFunc,
  cpu: cpuAdamW as tf.KernelFunc,
};

/**
 * Register the JavaScript FUSED_ADAMW for `backendName` unless a kernel is
 * registered under that name already (the native one under wasm stays).
 */
export function useJavaScriptAdamW(backendName: 'wasm' | 'cpu'): void {
  if (tf.getKernel(FUSED_ADAMW, backendName)) return;
  tf.registerKernel({ kernelName: FUSED_ADAMW, backendName, kernelFunc: KERNELS[backendName] });
}
