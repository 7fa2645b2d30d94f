/**
 * The WGSL FUSED_ADAMW of the webgpu backend (src/backend/webgpu-adamw.ts)
 * against the op-by-op update on the same device, with and without bias
 * correction, decayed and undecayed parameters, leak-free. Needs a WebGPU
 * adapter: a GPU, or Mesa's software Vulkan driver (lavapipe, Debian's
 * mesa-vulkan-drivers, which .ci/run installs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { useWebgpuAdamW } from '../../src/backend/webgpu-adamw.js';
import { FUSED_ADAMW } from '../../src/model/kernels.js';
import { threeAdamWSteps } from '../helpers/adamw-steps.js';

async function webgpuOrReason(): Promise<string | null> {
  try {
    await selectBackend('webgpu');
    return null;
  } catch (err) {
    return `no WebGPU adapter on this machine (${(err as Error).message})`;
  }
}

test('webgpu: the fused AdamW equals the op-by-op update to float32 rounding', async (t) => {
  const reason = await webgpuOrReason();
  if (reason) return t.skip(reason);
  const registered = tf.getKernel(FUSED_ADAMW, 'webgpu');
  assert.ok(registered, 'selecting webgpu registers the fused kernel');
  try {
    for (const correction of [false, true]) {
      tf.unregisterKernel(FUSED_ADAMW, 'webgpu');
      const opByOp = await threeAdamWSteps(correction);
      useWebgpuAdamW();
      const before = tf.memory().numTensors;
      let fused: Float32Array[] = [];
      const profile = await tf.profile(async () => {
        fused = await threeAdamWSteps(correction);
      });
      assert.ok(profile.kernelNames.includes(FUSED_ADAMW), 'the fused kernel ran');
      assert.equal(tf.memory().numTensors, before, 'the fused path leaks nothing');
      assert.equal(fused.length, opByOp.length);
      fused.forEach((values, k) => {
        values.forEach((x, i) => {
          const want = opByOp[k][i];
          assert.ok(
            Math.abs(x - want) <= 1e-6 * Math.max(1, Math.abs(want)),
            `bias correction ${correction}, tensor ${k}[${i}]: ${x} vs ${want}`,
          );
        });
      });
      // The steps moved every weight (a kernel that returned its inputs would fail here).
      const init = tf.tidy(() => tf.randomNormal([37, 5], 0, 1, 'float32', 7).dataSync());
      assert.ok(fused[0].every((x, i) => x !== init[i]));
    }
  } finally {
    if (tf.getKernel(FUSED_ADAMW, 'webgpu')) tf.unregisterKernel(FUSED_ADAMW, 'webgpu');
    tf.registerKernel(registered);
  }
});
