/**
 * Sanity check of the native backend after `bert setup tensorflow`:
 * 1024^3 matMul throughput on tensorflow and wasm, and a set of the ops
 * BERT uses (forward and gradients) computed on both from the same inputs,
 * which must agree within a tolerance (default 1e-5, relative to max(1, |x|)).
 *
 *   node dist/bench/tf-sanity.js [--tol 1e-5] [--reps 10] [--json]
 *   (or `npm run bench -- tf-sanity` once bench/index.ts lists it)
 *
 * Exits 1 when an op disagrees, 2 when the tensorflow backend is not set up.
 */
import * as tf from '@tensorflow/tfjs-core';
import { pathToFileURL } from 'node:url';
import { selectBackend, type BackendName } from '../src/backend/select.js';

interface Flags {
  tol: number;
  reps: number;
  json: boolean;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { tol: 1e-5, reps: 10, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') flags.json = true;
    else if (a === '--tol') flags.tol = Number(argv[++i]);
    else if (a === '--reps') flags.reps = Number(argv[++i]);
    else throw new Error(`tf-sanity: unknown flag ${a} (flags: --tol X --reps N --json)`);
  }
  return flags;
}

/** Deterministic inputs (a small LCG), so both backends see identical bytes. */
function values(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

const gelu = (x: tf.Tensor): tf.Tensor =>
  tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));

/** Each case builds its tensors from plain arrays on the active backend and returns plain numbers. */
const CASES: Record<string, () => tf.Tensor> = {
  matMul: () =>
    tf.matMul(
      tf.tensor2d(values(256 * 384, 1), [256, 384]),
      tf.tensor2d(values(384 * 128, 2), [384, 128]),
    ),
  batchMatMulTransposeB: () =>
    tf.matMul(
      tf.tensor3d(values(8 * 128 * 32, 3), [8, 128, 32]),
      tf.tensor3d(values(8 * 128 * 32, 4), [8, 128, 32]),
      false,
      true,
    ),
  softmax: () => tf.softmax(tf.tensor2d(values(64 * 128, 5, 8), [64, 128])),
  logSoftmax: () => tf.logSoftmax(tf.tensor2d(values(64 * 512, 6, 8), [64, 512])),
  gelu: () => gelu(tf.tensor1d(values(4096, 7, 4))),
  tanh: () => tf.tanh(tf.tensor1d(values(4096, 8, 4))),
  layerNorm: () => {
    const x = tf.tensor2d(values(128 * 256, 9, 3), [128, 256]);
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-12)));
  },
  transpose4d: () =>
    tf.transpose(tf.tensor4d(values(2 * 16 * 4 * 32, 10), [2, 16, 4, 32]), [0, 2, 1, 3]),
  gather: () =>
    tf.gather(
      tf.tensor2d(values(1000 * 64, 11), [1000, 64]),
      tf.tensor1d([3, 999, 0, 42, 42, 7], 'int32'),
    ),
  oneHotFloat: () => tf.cast(tf.oneHot(tf.tensor1d([1, 0, 5, 9], 'int32'), 10), 'float32'),
  scatterND: () =>
    tf.scatterND(
      tf.tensor2d([[0], [3], [3]], [3, 1], 'int32'),
      tf.tensor2d(values(3 * 8, 13), [3, 8]),
      [5, 8],
    ),
  softmaxCrossEntropy: () =>
    tf.losses.softmaxCrossEntropy(
      tf.oneHot(tf.tensor1d([2, 7, 1, 0], 'int32'), 16),
      tf.tensor2d(values(4 * 16, 14, 5), [4, 16]),
    ),
  sumMeanMax: () => {
    const x = tf.tensor2d(values(300 * 70, 15), [300, 70]);
    return tf.concat([tf.sum(x, 0), tf.mean(x, 0), tf.max(x, 0)]);
  },
  gradDenseGelu: () => {
    const w = tf.tensor2d(values(64 * 32, 16, 0.2), [64, 32]);
    const x = tf.tensor2d(values(16 * 64, 17), [16, 64]);
    const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(gelu(tf.matMul(xx, ww))));
    const [dx, dw] = g([x, w]);
    return tf.concat([tf.reshape(dx, [-1]), tf.reshape(dw, [-1])]);
  },
  // Gather's gradient needs UnsortedSegmentSum, which tfjs-backend-wasm lacks; the loss gradient stands in.
  gradCrossEntropy: () => {
    const labels = tf.oneHot(tf.tensor1d([4, 9, 4, 0], 'int32'), 10);
    const g = tf.grad((logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, logits));
    return g(tf.tensor2d(values(4 * 10, 18, 3), [4, 10]));
  },
};

async function runCases(): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, build] of Object.entries(CASES)) {
    const t = tf.tidy(build);
    // Read outside tidy: dataSync inside tidy is slow on tensorflow (see the note).
    out.set(name, Float32Array.from(await t.data()));
    t.dispose();
  }
  return out;
}

/** GFLOPS of an n^3 matMul, best of `reps` timed runs after one warm-up. */
async function matMulGflops(n: number, reps: number): Promise<number> {
  const a = tf.tensor2d(values(n * n, 21), [n, n]);
  const b = tf.tensor2d(values(n * n, 22), [n, n]);
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    return performance.now() - t0;
  };
  await once();
  let best = Infinity;
  for (let i = 0; i < reps; i++) best = Math.min(best, await once());
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

/** Largest |a - b| / max(1, |b|) over the elements (Infinity on a shape mismatch or NaN). */
export function maxScaledDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

async function onBackend(
  name: BackendName,
  reps: number,
): Promise<{ gflops: number; results: Map<string, Float32Array> }> {
  await selectBackend(name);
  const results = await runCases();
  const gflops = await matMulGflops(1024, reps);
  return { gflops, results };
}

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  try {
    await selectBackend('tensorflow');
  } catch (err) {
    console.error(`tf-sanity: ${(err as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const native = await onBackend('tensorflow', flags.reps);
  const wasm = await onBackend('wasm', flags.reps);
  let failed = 0;
  const rows = Object.keys(CASES).map((name) => {
    const diff = maxScaledDiff(
      native.results.get(name) ?? new Float32Array(),
      wasm.results.get(name) ?? new Float32Array(),
    );
    const ok = diff <= flags.tol;
    if (!ok) failed++;
    return { name, elements: wasm.results.get(name)?.length ?? 0, diff, ok };
  });
  if (flags.json) {
    for (const [backend, r] of [
      ['tensorflow', native],
      ['wasm', wasm],
    ] as const) {
      console.log(JSON.stringify({ kind: 'matmul', backend, n: 1024, gflops: r.gflops }));
    }
    for (const r of rows) console.log(JSON.stringify({ kind: 'op', ...r, tol: flags.tol }));
  } else {
    console.log(
      `1024^3 matMul: tensorflow ${native.gflops.toFixed(1)} GFLOPS, wasm ${wasm.gflops.toFixed(1)} GFLOPS (${(native.gflops / wasm.gflops).toFixed(1)}x)`,
    );
    console.log(`ops, tensorflow vs wasm, max |a-b|/max(1,|b|) (tolerance ${flags.tol}):`);
    for (const r of rows) {
      console.log(
        `  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(22)} ${String(r.elements).padStart(6)} values  ${r.diff.toExponential(2)}`,
      );
    }
    console.log(
      failed ? `${failed} of ${rows.length} ops disagree` : `all ${rows.length} ops agree`,
    );
  }
  if (failed) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run(process.argv.slice(2));
}
