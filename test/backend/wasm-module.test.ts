/**
 * The WebAssembly module of the plain wasm backend (native/bert_kernels.wasm,
 * src/backend/wasm-module.ts): shipped in step with its sources, instantiated
 * on tfjs's own heap, and its fused kernels through wasmFusedOps equal to the
 * op-by-op formulation and autodiff in value and gradient; AdamW equal to the
 * op-by-op update bit for bit; the column sums and sum of squares against
 * exact sums; and the backend picks it with no setup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { loadWasmModuleKernels, WASM_MODULE_PATH } from '../../src/backend/wasm-module.js';
import {
  nativeWasmKernelsActive,
  useBuiltinWasmKernels,
  useNativeWasmKernels,
  useWasmModuleKernels,
} from '../../src/backend/wasm-native-kernels.js';
import { loadNativeKernels, type FusedKernels } from '../../src/backend/native-addon.js';
import {
  BIAS_GELU,
  COLUMN_SUMS,
  columnSums,
  FUSED_ADAMW,
  sumSquares,
} from '../../src/model/kernels.js';
import {
  autodiffOps,
  forwardOnly,
  opsForBackend,
  wasmFusedOps,
  wasmOps,
} from '../../src/model/ops.js';
import { assertClose, cases, random, valueAndGrads } from '../helpers/fused-cases.js';
import { threeAdamWSteps } from '../helpers/adamw-steps.js';

/** Run `body` with the module's kernels on the wasm backend, then put back what was active. */
async function withModuleKernels(body: (kernels: FusedKernels) => Promise<void> | void) {
  await selectBackend('wasm');
  const kernels = loadWasmModuleKernels(tf.backend());
  assert.ok(!('reason' in kernels), 'reason' in kernels ? kernels.reason : '');
  const wasNative = nativeWasmKernelsActive();
  const hadModule = !wasNative && tf.getKernel(BIAS_GELU, 'wasm') !== undefined;
  try {
    useWasmModuleKernels(kernels as FusedKernels);
    await body(kernels as FusedKernels);
  } finally {
    const loaded = loadNativeKernels();
    if (wasNative && 'addon' in loaded) useNativeWasmKernels(loaded.addon);
    else if (hadModule) useWasmModuleKernels(kernels as FusedKernels);
    else useBuiltinWasmKernels();
  }
}

test('the shipped module was built from the sources beside it (npm run build:wasm after a change)', () => {
  const record = JSON.parse(readFileSync(`${WASM_MODULE_PATH}.json`, 'utf8')) as {
    sources: string[];
    sha256: string;
    bytes: number;
  };
  const hash = createHash('sha256');
  for (const s of record.sources) hash.update(readFileSync(join(dirname(WASM_MODULE_PATH), s)));
  assert.equal(hash.digest('hex'), record.sha256, 'native/bert_wasm.c or bert_rows.h changed');
  assert.equal(readFileSync(WASM_MODULE_PATH).length, record.bytes);
});

test('module kernels: values and gradients equal op-by-op and autodiff, no leaks', async () => {
  await withModuleKernels(() => {
    assert.equal(opsForBackend('wasm'), wasmFusedOps);
    for (const [name, f, inputs] of cases()) {
      useBuiltinWasmKernels();
      const want = valueAndGrads(f(wasmOps), inputs);
      assertClose(valueAndGrads(f(autodiffOps), inputs), want, `${name} autodiff`);
      const kernels = loadWasmModuleKernels(tf.backend()) as FusedKernels;
      useWasmModuleKernels(kernels);
      const before = tf.memory().numTensors;
      assertClose(valueAndGrads(f(wasmFusedOps), inputs), want, `${name} module`);
      assert.equal(tf.memory().numTensors, before, `${name}: the module path leaks nothing`);
      tf.dispose(inputs);
    }
  });
});

test('module forward-only LayerNorm equals the fused one; column sums and sum of squares against exact sums', async () => {
  await withModuleKernels(() => {
    const x = random([1031, 33], 4, 3) as tf.Tensor2D;
    const r = random([1031, 33], 8) as tf.Tensor2D;
    const g = random([33], 5) as tf.Tensor1D;
    const b = random([33], 6) as tf.Tensor1D;
    const forward = forwardOnly(wasmFusedOps);
    assert.notEqual(forward, wasmFusedOps);
    tf.tidy(() => {
      assert.deepEqual(
        forward.addLayerNorm(x, r, g, b, 1e-5).dataSync(),
        wasmFusedOps.addLayerNorm(x, r, g, b, 1e-5).dataSync(),
      );
    });
    assert.ok(tf.getKernel(COLUMN_SUMS, 'wasm'));
    const values = x.dataSync() as Float32Array;
    const want = new Float64Array(33);
    values.forEach((v, i) => (want[i % 33] += v));
    const got = tf.tidy(() => columnSums(x).dataSync());
    got.forEach((v, j) =>
      assert.ok(Math.abs(v - want[j]) <= 1e-4 * (1 + Math.abs(want[j])), `column ${j}`),
    );
    const exact = values.reduce((s, v) => s + v * v, 0);
    const squares = tf.tidy(() => sumSquares(x).dataSync()[0]);
    assert.ok(Math.abs(squares - exact) <= 1e-6 * exact, `${squares} vs ${exact}`);
    tf.dispose([x, r, g, b]);
  });
});

test('module AdamW equals the tfjs-op AdamW bit for bit, with and without bias correction', async () => {
  await withModuleKernels(async (kernels) => {
    for (const correction of [false, true]) {
      useWasmModuleKernels(kernels);
      assert.ok(tf.getKernel(FUSED_ADAMW, 'wasm'));
      const before = tf.memory().numTensors;
      const fused = await threeAdamWSteps(correction);
      assert.equal(tf.memory().numTensors, before, 'the fused path leaks nothing');
      useBuiltinWasmKernels();
      assert.deepEqual(fused, await threeAdamWSteps(correction));
    }
  });
});

test('an offset outside the heap traps instead of writing anywhere', async () => {
  await withModuleKernels((kernels) => {
    const heapBytes = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8
      .length;
    assert.throws(
      () => kernels.columnSums(new ArrayBuffer(0), heapBytes - 8, heapBytes + 64, 4, 4),
      /out of bounds/,
    );
  });
});
