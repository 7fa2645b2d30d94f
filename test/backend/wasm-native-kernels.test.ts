/**
 * The native kernels as wasm-backend kernels (`bert setup native`): built
 * for real into a temporary cache, then compared with tfjs's own WASM
 * BatchMatMul on every layout the model uses, the JavaScript dropout-mask
 * generator and the op-by-op AdamW. CI installs a C compiler and oneDNN
 * (.ci/run); elsewhere these tests skip with the reason.
 */
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import {
  wasmHeapKernelsActive,
  useBuiltinWasmKernels,
  useWasmHeapKernels,
} from '../../src/backend/wasm-native-kernels.js';
import { keepMask } from '../../src/model/dropout-mask.js';
import { FUSED_ADAMW } from '../../src/model/kernels.js';
import { nativeKernelsForTests } from '../helpers/native-kernels.js';
import type { NativeKernels } from '../../src/backend/native-addon.js';
import { assertArgMaxMatches, assertBatchMatMulMatches } from '../helpers/fused-cases.js';
import { threeAdamWSteps } from '../helpers/adamw-steps.js';

const native = nativeKernelsForTests();

/**
 * Run `body` with the built addon on the wasm backend at 2 threads, then put
 * back what was active; skips `t` where the kernels could not be built.
 */
async function withAddon(
  t: { skip(reason: string): void },
  body: (addon: NativeKernels) => void,
): Promise<void> {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  await selectBackend('wasm');
  const wasActive = wasmHeapKernelsActive();
  assert.equal(addon.setThreads(2), true);
  try {
    body(addon);
  } finally {
    if (wasActive) useWasmHeapKernels(addon);
    else useBuiltinWasmKernels();
  }
}

test('native BatchMatMul equals tfjs WASM BatchMatMul on every layout: transposes, batches, broadcast', async (t) => {
  await withAddon(t, (addon) => {
    assertBatchMatMulMatches(() => useWasmHeapKernels(addon), useBuiltinWasmKernels);
    // Operands that do not fit the heap never reach native code.
    assert.throws(
      () => addon.batchMatMul(new ArrayBuffer(64), 0, 0, 0, 1, 8, 8, 8, false, false, 0, 0),
      /outside the heap/,
    );
  });
});

/*
 * Run in a child with ONEDNN_MAX_CPU_ISA=AVX2 (read when oneDNN loads): it
 * prints the library string and the worst error of batchMatMul's Aᵀ·B against
 * a float64 product, for shapes on both sides of the transposed-product rule
 * (native/bert_kernels.c, transposed_product_pays), one of them a batch.
 */
const AVX2_CHILD = `
const { loadNativeKernels } = await import(process.argv[1]);
const native = loadNativeKernels(process.argv[2]);
if (!('addon' in native)) throw new Error(native.reason);
native.addon.setThreads(2);
let worst = 0;
for (const [batch, k, m, n] of [[1, 64, 512, 128], [2, 48, 1024, 256], [1, 40, 600, 300], [1, 40, 300, 100]]) {
  const heap = new Float32Array(batch * (k * m + k * n + m * n));
  for (let i = 0; i < batch * (k * m + k * n); i++) heap[i] = ((i * 7919) % 1009) / 1009 - 0.5;
  const bOff = batch * k * m, cOff = bOff + batch * k * n;
  native.addon.batchMatMul(heap.buffer, 0, 4 * bOff, 4 * cOff, batch, m, n, k, true, false, k * m, k * n);
  for (let p = 0; p < batch; p++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let want = 0;
        for (let q = 0; q < k; q++) want += heap[p * k * m + q * m + i] * heap[bOff + p * k * n + q * n + j];
        worst = Math.max(worst, Math.abs(heap[cOff + p * m * n + i * n + j] - want));
      }
}
console.log(JSON.stringify({ library: native.library, worst }));
`;

test("under oneDNN 2's AVX2 SGEMM, tall narrow Aᵀ·B products (computed as (Bᵀ·A)ᵀ) equal a float64 product", async (t) => {
  if (!native.need(t)) return;
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      AVX2_CHILD,
      fileURLToPath(new URL('../../src/backend/native-addon.js', import.meta.url)),
      native.cacheDir,
    ],
    { encoding: 'utf8', env: { ...process.env, ONEDNN_MAX_CPU_ISA: 'AVX2' } },
  );
  assert.equal(r.status, 0, r.stderr);
  const { library, worst } = JSON.parse(r.stdout) as { library: string; worst: number };
  // On an x86 CPU with AVX2, oneDNN 2 runs its AVX2 SGEMM under the cap: the rule is live.
  if (/^oneDNN 2\./.test(library) && /\bavx2\b/.test(cpuFlags()))
    assert.match(library, /\(AVX2\)$/);
  assert.ok(worst < 1e-4, `worst error ${worst} (${library})`);
});

/** The CPU's flags from /proc/cpuinfo ('' where there is none). */
function cpuFlags(): string {
  try {
    return /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}

test('native ArgMax equals tfjs WASM ArgMax: ties, NaNs, infinities, other axes and dtypes', async (t) => {
  await withAddon(t, (addon) => {
    assertArgMaxMatches(() => useWasmHeapKernels(addon), useBuiltinWasmKernels);
    assert.throws(() => addon.argMax(new ArrayBuffer(64), 0, 0, 8, 8), /outside the heap/);
  });
});

test('native dropout masks equal the JavaScript generator value for value', (t) => {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  for (const [seed, size, keep] of [
    ['0/0', 262_144, 0.9],
    ['step 12/5', 1_001, 0.5],
    ['x', 3, 0.999],
  ] as const) {
    assert.deepEqual(keepMask(seed, size, keep, addon.keepMask), keepMask(seed, size, keep, null));
  }
  assert.throws(
    () => addon.keepMask(new Float64Array(4) as never, 1, 2, 3, 4, 0, 1),
    /Float32Array/,
  );
});

test('fused native AdamW equals the tfjs-op AdamW bit for bit, with and without decay and bias correction', async (t) => {
  const addon = native.need(t)?.addon;
  if (!addon) return;
  await selectBackend('wasm');
  const wasActive = wasmHeapKernelsActive();
  const run = (fused: boolean, biasCorrection: boolean): Promise<Float32Array[]> => {
    if (fused) useWasmHeapKernels(addon);
    else useBuiltinWasmKernels();
    assert.equal(tf.getKernel(FUSED_ADAMW, 'wasm') !== undefined, fused);
    return threeAdamWSteps(biasCorrection);
  };
  try {
    for (const correction of [false, true]) {
      const before = tf.memory().numTensors;
      const fused = await run(true, correction);
      assert.equal(tf.memory().numTensors, before, 'the fused path leaks nothing');
      assert.deepEqual(fused, await run(false, correction));
    }
  } finally {
    if (wasActive) useWasmHeapKernels(addon);
    else useBuiltinWasmKernels();
  }
});

test('the kernels leak no tensors and keep the heap consistent over repeated products', async (t) => {
  const kernels = native.need(t);
  if (!kernels) return;
  await selectBackend('wasm');
  const wasActive = wasmHeapKernelsActive();
  useWasmHeapKernels(kernels.addon);
  try {
    const a = tf.randomNormal([64, 32], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    let last = 0;
    for (let i = 0; i < 50; i++) {
      // Growing allocations in between move tfjs's heap; results must not change.
      const pad = tf.zeros([1 << (10 + (i % 8))]);
      last = tf.tidy(() => tf.sum(tf.matMul(a, a, false, true)).dataSync()[0]);
      pad.dispose();
    }
    const once = tf.tidy(() => tf.sum(tf.matMul(a, a, false, true)).dataSync()[0]);
    assert.equal(last, once);
    assert.equal(tf.memory().numTensors, before);
    a.dispose();
  } finally {
    if (!wasActive) useBuiltinWasmKernels();
  }
});
