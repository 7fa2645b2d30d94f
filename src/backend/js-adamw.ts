/**
 * FUSED_ADAMW (src/model/kernels.ts) for the cpu backend: one JavaScript loop
 * over its typed arrays that reads p, g, m, v and writes p', m', v', where the
 * op-by-op update of src/train/optimizer.ts makes ~10 JavaScript passes per
 * parameter, each allocating its output.
 *
 * Every operation is rounded to float32 (Math.fround) in the op-by-op order,
 * so the result is the op-by-op update's bit for bit: float64 arithmetic
 * rounded to float32 after each +, −, ×, ÷ and √ gives float32's own result.
 *
 * Not used under plain wasm: there the op-by-op kernels are compiled SIMD
 * loops, and this scalar loop over the WASM heap was slower (53 ms against
 * ~25 ms per step for BERT-Tiny's [30,522, 128] embedding table; README,
 * "Training speed").
 */
import * as tf from '@tensorflow/tfjs-core';
import { FUSED_ADAMW } from '../model/kernels.js';

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
 * Element i of every input is read before element i of any output is
 * written, so an output may be its own input.
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
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = f(f(m[i] * beta1) + f(gi * fgm));
    const vi = f(f(v[i] * beta2) + f(f(gi * gi) * fgv));
    const update = f(f(mi / c1) / f(f(Math.sqrt(f(vi / c2))) + eps));
    outP[i] = f(f(p[i] * keep) - f(update * lr));
    outM[i] = mi;
    outV[i] = vi;
  }
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

/** Register the JavaScript FUSED_ADAMW for the cpu backend (idempotent). */
export function useJavaScriptAdamW(): void {
  if (tf.getKernel(FUSED_ADAMW, 'cpu')) return;
  tf.registerKernel({
    kernelName: FUSED_ADAMW,
    backendName: 'cpu',
    kernelFunc: cpuAdamW as tf.KernelFunc,
  });
}
