/**
 * FUSED_ADAMW (src/model/kernels.ts) for the webgpu backend: three compute
 * shaders per parameter (m', v', p'), each one pass over the tensor, where the
 * op-by-op update of src/train/optimizer.ts dispatches ten. tfjs-webgpu
 * programs have one output each, so p' recomputes m' and v' in registers
 * rather than reading them back; the three read the same p, g, m, v.
 *
 * The maths is src/backend/js-adamw.ts's, in the GPU's float32: equal to the
 * op-by-op update up to the device's rounding of √ and ÷ (and any fused
 * multiply-add its compiler forms), not bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import { FUSED_ADAMW } from '../model/kernels.js';
import type { AdamWCoefficients } from './js-adamw.js';

/** What the kernel uses of tfjs-backend-webgpu's WebGPUBackend. */
interface WebgpuBackend {
  runWebGPUProgram(
    program: object,
    inputs: tf.TensorInfo[],
    dtype: 'float32',
    uniforms: { type: 'float32'; data: number[] }[],
  ): tf.TensorInfo;
}

type Output = 'm' | 'v' | 'p';

const WORKGROUP = 256;

/** The WGSL of each output; P, G, M, V, Gm, Gv are the input buffers, `uniforms` the attrs. */
const BODY: Record<Output, string> = {
  m: 'setOutputAtIndex(i, M[i] * uniforms.beta1 + G[i] * Gm[0]);',
  v: 'let g = G[i];\n        setOutputAtIndex(i, V[i] * uniforms.beta2 + (g * g) * Gv[0]);',
  p: `let g = G[i];
        let m = M[i] * uniforms.beta1 + g * Gm[0];
        let v = V[i] * uniforms.beta2 + (g * g) * Gv[0];
        let update = (m / uniforms.c1) / (sqrt(v / uniforms.c2) + uniforms.eps);
        setOutputAtIndex(i, P[i] * uniforms.keep - update * uniforms.lr);`,
};

/** A tfjs-webgpu program (the shape WebGPUBackend.runWebGPUProgram takes) for one output. */
function adamWProgram(output: Output, shape: number[]): object {
  return {
    variableNames: ['P', 'G', 'M', 'V', 'Gm', 'Gv'],
    outputShape: shape,
    dispatchLayout: { x: shape.map((_, i) => i) },
    // One invocation per element; the backend spreads a dispatch wider than the
    // device's per-dimension limit over y and z (getGlobalIndex follows it).
    dispatch: [Math.ceil(tf.util.sizeFromShape(shape) / WORKGROUP), 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    uniforms: 'beta1 : f32, beta2 : f32, c1 : f32, c2 : f32, eps : f32, keep : f32, lr : f32,',
    shaderKey: `bert_fused_adamw_${output}`,
    getUserCode: () => `
      fn main(i : i32) {
        // Every input is bound, so every shader must use every buffer: the pipeline's
        // automatic layout leaves out the ones it does not (WGSL phony assignments).
        _ = P[0]; _ = V[0]; _ = Gv[0]; _ = M[0]; _ = Gm[0];
        if (i < uniforms.size) {
        ${BODY[output]}
        }
      }`,
  };
}

function webgpuAdamW({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const gpu = backend as unknown as WebgpuBackend;
  const { p, g, m, v, gm, gv } = inputs as Record<string, tf.TensorInfo>;
  const k = attrs as unknown as AdamWCoefficients;
  const uniforms = [k.beta1, k.beta2, k.c1, k.c2, k.epsilon, k.keep, k.lr].map((x) => ({
    type: 'float32' as const,
    data: [x],
  }));
  const shape = [...p.shape];
  const run = (output: Output): tf.TensorInfo =>
    gpu.runWebGPUProgram(adamWProgram(output, shape), [p, g, m, v, gm, gv], 'float32', uniforms);
  // p' first: it reads the old m and v, which the m' and v' outputs do not overwrite anyway.
  const outP = run('p');
  return [outP, run('m'), run('v')];
}

/** Register the WGSL FUSED_ADAMW for the webgpu backend (idempotent). */
export function useWebgpuAdamW(): void {
  if (tf.getKernel(FUSED_ADAMW, 'webgpu')) return;
  tf.registerKernel({
    kernelName: FUSED_ADAMW,
    backendName: 'webgpu',
    kernelFunc: webgpuAdamW as tf.KernelFunc,
  });
}
