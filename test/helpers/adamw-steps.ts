/**
 * Three AdamW steps (lr 1e-2, gradient scale 0.37, default weight decay) on two
 * seeded parameters, one decayed ('a.weight' [37, 5]) and one not ('a.bias'):
 * their values and moments after, on the active backend with whatever AdamW
 * kernel is registered. The fused-AdamW tests compare two such runs bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createOptimizer } from '../../src/train/optimizer.js';

export async function threeAdamWSteps(biasCorrection: boolean): Promise<Float32Array[]> {
  const variable = (shape: number[], seed: number): tf.Variable => {
    const init = tf.randomNormal(shape, 0, 1, 'float32', seed);
    const v = tf.variable(init);
    init.dispose();
    return v;
  };
  const params = new Map<string, tf.Variable>([
    ['a.weight', variable([37, 5], 7)],
    ['a.bias', variable([5], 8)],
  ]);
  const opt = createOptimizer({ type: 'adamw', biasCorrection });
  for (let step = 0; step < 3; step++) {
    const grads = new Map<string, tf.Tensor>(
      [...params].map(([n, p]) => [n, tf.randomNormal(p.shape, 0, 1, 'float32', 10 + step)]),
    );
    const scale = tf.scalar(0.37);
    opt.applyGradients(params, grads, 1e-2, scale);
    tf.dispose([...grads.values(), scale]);
  }
  const out = [
    ...(await Promise.all([...params.values()].map(async (p) => (await p.data()) as Float32Array))),
    ...[...(await opt.exportState()).tensors.values()].map((s) => s.data as Float32Array),
  ];
  opt.dispose();
  params.forEach((p) => p.dispose());
  return out;
}
