/**
 * The WebAssembly module of the wasm backend without native kernels
 * (native/bert_kernels.wasm, src/backend/wasm-module.ts): shipped in step
 * with its sources, instantiated on tfjs's own heap, its products equal to
 * tfjs's own BatchMatMul on every layout the model uses, and its kernels
 * through wasmNativeOps equal to the op-by-op formulation and autodiff in
 * value and gradient; AdamW equal to the op-by-op update bit for bit; the
 * column sums and sum of squares against exact sums; and the backend picks
 * it with no setup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { loadNativeKernels, type HeapKernels } from '../../src/backend/native-addon.js';
import { loadWasmModuleKernels, WASM_MODULE_PATH } from '../../src/backend/wasm-module.js';
import {
  useBuiltinWasmKernels,
  useWasmHeapKernels,
  wasmHeapKernelsActive,
} from '../../src/backend/wasm-native-kernels.js';
import {
  COLUMN_SUMS,
  columnSums,
  DENSE_BIAS,
  FUSED_ADAMW,
  HEADS_MAT_MUL,
  sumSquares,
} from '../../src/model/kernels.js';
import {
  autodiffOps,
  forwardOnly,
  opsForBackend,
  wasmNativeOps,
  wasmOps,
} from '../../src/model/ops.js';
import {
  assertArgMaxMatches,
  assertBatchMatMulMatches,
  assertClose,
  cases,
  random,
  valueAndGrads,
} from '../helpers/fused-cases.js';
import { threeAdamWSteps } from '../helpers/adamw-steps.js';

/** Run `body` with the module's kernels on the wasm backend, then put back what was active. */
async function withModuleKernels(body: (kernels: HeapKernels) => Promise<void> | void) {
  await selectBackend('wasm');
  const loaded = loadWasmModuleKernels(tf.backend());
  assert.ok(!('reason' in loaded), 'reason' in loaded ? loaded.reason : '');
  const kernels = loaded as HeapKernels;
  const wasActive = wasmHeapKernelsActive();
  try {
    useWasmHeapKernels(kernels);
    await body(kernels);
  } finally {
    const native = loadNativeKernels();
    if (wasActive) useWasmHeapKernels('addon' in native ? native.addon : kernels);
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

test('with no native kernels, the wasm backend runs the module (BERT_WASM_MODULE=0: tfjs kernels)', async () => {
  const saved = { native: process.env.BERT_NATIVE_KERNELS, module: process.env.BERT_WASM_MODULE };
  process.env.BERT_NATIVE_KERNELS = '0';
  try {
    delete process.env.BERT_WASM_MODULE;
    const choice = await selectBackend('wasm');
    assert.match(choice.attempts.at(-1)?.detail ?? '', /WebAssembly kernel module/);
    assert.equal(opsForBackend('wasm'), wasmNativeOps);
    assert.ok(tf.getKernel(DENSE_BIAS, 'wasm') && tf.getKernel(HEADS_MAT_MUL, 'wasm'));
    process.env.BERT_WASM_MODULE = '0';
    await selectBackend('wasm');
    assert.equal(opsForBackend('wasm'), wasmOps);
    assert.equal(tf.getKernel(DENSE_BIAS, 'wasm'), undefined);
  } finally {
    for (const [key, value] of [
      ['BERT_NATIVE_KERNELS', saved.native],
      ['BERT_WASM_MODULE', saved.module],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await selectBackend('wasm');
  }
});

test('module BatchMatMul equals tfjs WASM BatchMatMul on every layout: transposes, batches, broadcast, edges', async () => {
  await withModuleKernels((kernels) =>
    assertBatchMatMulMatches(() => useWasmHeapKernels(kernels), useBuiltinWasmKernels),
  );
});

test('module ArgMax equals tfjs WASM ArgMax: ties, NaNs, infinities, other axes and dtypes', async () => {
  await withModuleKernels((kernels) =>
    assertArgMaxMatches(() => useWasmHeapKernels(kernels), useBuiltinWasmKernels),
  );
});

test('module kernels: values and gradients equal op-by-op and autodiff, no leaks', async () => {
  await withModuleKernels((kernels) => {
    for (const [name, f, inputs] of cases()) {
      useBuiltinWasmKernels();
      const want = valueAndGrads(f(wasmOps), inputs);
      assertClose(valueAndGrads(f(autodiffOps), inputs), want, `${name} autodiff`);
      useWasmHeapKernels(kernels);
      const before = tf.memory().numTensors;
      assertClose(valueAndGrads(f(wasmNativeOps), inputs), want, `${name} module`);
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
    const forward = forwardOnly(wasmNativeOps);
    assert.notEqual(forward, wasmNativeOps);
    tf.tidy(() => {
      assert.deepEqual(
        forward.addLayerNorm(x, r, g, b, 1e-5).dataSync(),
        wasmNativeOps.addLayerNorm(x, r, g, b, 1e-5).dataSync(),
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
      useWasmHeapKernels(kernels);
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
