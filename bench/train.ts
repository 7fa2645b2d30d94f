/**
 * `npm run bench -- train [--size tiny,mini] [--json] [--steps N] [--naive] [--ab] [--profile]
 *   [--no-torch] [--python PYTHON]…`
 *
 * ms/step and tokens/s of the standard BERT pretraining step — batch 16 ×
 * 128 tokens, 20 masked positions per sequence, tied decoder, NSP, AdamW,
 * global-norm clipping — for each backend/formulation available here, and
 * for the PyTorch peer (../shared/peers/torch_bert_step.py) in the same run,
 * with the ratios. Each variant runs in its own child process (a fresh
 * backend; TensorFlow reads its thread count once, at start).
 *
 * Variants: wasm/tuned (the model's default ops on WASM), wasm/naive (plain
 * tfjs autodiff; with --naive, slow), tensorflow with 1 and 2 threads (when
 * `bert setup tensorflow` has built it), pytorch with 1 and 2 threads for
 * every Python given (/usr/bin/python3 — Debian's PyTorch — plus each
 * `--python` and the colon-separated BERT_BENCH_PYTHON, e.g. a venv with
 * PyTorch 2). Ratios compare tokens/s with the newest PyTorch at the same
 * thread count (WASM runs one thread).
 * --profile prints where a tuned step's time goes (tf.profile kernel shares).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendName } from '../src/backend/select.js';
import { bertConfig, isSizeName, type BertConfig } from '../src/model/config.js';
import { createBertModel } from '../src/model/bert.js';
import {
  naiveWasmOps,
  opsForBackend,
  wasmPackedAttentionOps,
  type ModelOps,
} from '../src/model/ops.js';
import type { PretrainingBatch } from '../src/model/batch.js';
import { PretrainingStep } from '../src/train/step.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { loadNativeKernels } from '../src/backend/native-addon.js';

const BATCH = 16;
const SEQ = 128;
const MASKED = 20;
const PEER = fileURLToPath(new URL('../../../shared/peers/torch_bert_step.py', import.meta.url));
const DEBIAN_PYTHON = '/usr/bin/python3';

interface Result {
  size: string;
  variant: string;
  backend: string;
  threads: number;
  batch: number;
  seq: number;
  masked: number;
  ms_per_step: number;
  tokens_per_s: number;
}

interface Args {
  size: string;
  json: boolean;
  steps: number;
  naive: boolean;
  /** Also run the WASM formulation with packed 2-D attention (wasmPackedAttentionOps) for an A/B comparison. */
  ab: boolean;
  profile: boolean;
  torch: boolean;
  pythons: string[];
  child: string | null;
  threads: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    size: 'tiny,mini',
    json: false,
    steps: 5,
    naive: false,
    ab: false,
    profile: false,
    torch: true,
    pythons: [DEBIAN_PYTHON, ...(process.env.BERT_BENCH_PYTHON ?? '').split(':').filter(Boolean)],
    child: null,
    threads: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--size') a.size = argv[++i];
    else if (k === '--json') a.json = true;
    else if (k === '--steps') a.steps = Number(argv[++i]);
    else if (k === '--naive') a.naive = true;
    else if (k === '--ab') a.ab = true;
    else if (k === '--profile') a.profile = true;
    else if (k === '--no-torch') a.torch = false;
    else if (k === '--python') a.pythons.push(argv[++i]);
    else if (k === '--child') a.child = argv[++i];
    else if (k === '--threads') a.threads = Number(argv[++i]);
    else throw new Error(`bench train: unknown flag ${k}`);
  }
  for (const size of a.size.split(','))
    if (!isSizeName(size))
      throw new Error(`bench train: --size must be named sizes (tiny,mini,…), got ${size}`);
  return a;
}

/** The standard step's batch: random tokens, two segments, no padding, 20 masked positions per row. */
export function standardBatch(
  config: BertConfig,
  seed = 1,
  { batch = BATCH, seq = SEQ, masked = MASKED } = {},
): PretrainingBatch {
  let s = seed;
  const int = (n: number): number => {
    s = (s * 16807) % 2147483647;
    return s % n;
  };
  return {
    batch_size: batch,
    seq_length: seq,
    num_predictions: masked,
    input_ids: Int32Array.from({ length: batch * seq }, () => int(config.vocab_size)),
    token_type_ids: Int32Array.from({ length: batch * seq }, (_, i) =>
      i % seq >= seq / 2 ? 1 : 0,
    ),
    attention_mask: new Int32Array(batch * seq).fill(1),
    masked_lm_positions: Int32Array.from({ length: batch * masked }, () => 1 + int(seq - 1)),
    masked_lm_ids: Int32Array.from({ length: batch * masked }, () => int(config.vocab_size)),
    masked_lm_weights: new Float32Array(batch * masked).fill(1),
    next_sentence_labels: Int32Array.from({ length: batch }, () => int(2)),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Kernel-time shares of one step, largest first. */
async function profileStep(step: PretrainingStep, batch: PretrainingBatch): Promise<void> {
  const info = await tf.profile(() => {
    step.accumulate(batch);
    step.apply(1e-4);
  });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  const matmuls = new Map<string, { ms: number; calls: number }>();
  const others: { what: string; ms: number }[] = [];
  for (const k of info.kernels) {
    // customGrad's 'forward' wraps kernels that are profiled on their own: counting it would count them twice.
    if (k.name === 'forward') continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    if (k.name === 'BatchMatMul' || k.name === '_FusedMatMul') {
      const key = `${k.inputShapes.map((sh) => `[${sh}]`).join('·')}`;
      const m = matmuls.get(key) ?? { ms: 0, calls: 0 };
      m.ms += ms;
      m.calls += 1;
      matmuls.set(key, m);
    } else {
      others.push({ what: `${k.name} ${k.inputShapes.map((sh) => `[${sh}]`).join(',')}`, ms });
    }
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    byKernel.set(k.name, e);
    total += ms;
  }
  console.log(`profile: ${info.kernels.length} kernel launches, ${total.toFixed(0)} ms in kernels`);
  for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) {
    console.log(
      `  ${name.padEnd(16)} ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(6)} ms  ${e.calls} calls`,
    );
  }
  console.log('  slowest other kernels:');
  for (const o of others.sort((a, b) => b.ms - a.ms).slice(0, 8)) {
    console.log(`    ${o.what.padEnd(40)} ${o.ms.toFixed(1).padStart(6)} ms`);
  }
  console.log('  matMuls by operand shapes:');
  for (const [shapes, e] of [...matmuls].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10)) {
    console.log(
      `    ${shapes.padEnd(30)} ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(6)} ms  ${e.calls} calls`,
    );
  }
}

/** Run one tfjs variant in this process and print its JSON line. */
async function runChild(args: Args): Promise<void> {
  const [backend, variant] = (args.child as string).split('/') as [BackendName, string];
  await selectBackend(backend, { threads: args.threads });
  const config = bertConfig(args.size as 'tiny');
  const ops: ModelOps =
    variant === 'naive'
      ? naiveWasmOps
      : variant === 'packed-attention'
        ? wasmPackedAttentionOps
        : opsForBackend(tf.getBackend());
  const model = createBertModel(config, { heads: 'pretraining', seed: 1, ops });
  const optimizer = createOptimizer({ type: 'adamw' });
  const step = new PretrainingStep(model, optimizer, { seed: 1 });
  const batch = standardBatch(config);
  const times: number[] = [];
  const warmup = 2;
  for (let i = 0; i < warmup + args.steps; i++) {
    const t0 = performance.now();
    step.accumulate(batch);
    step.apply(1e-4);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  if (args.profile) await profileStep(step, batch);
  const ms = median(times);
  const r: Result = {
    size: args.size,
    variant: `${variant} (${ops.name} ops)`,
    backend,
    threads: backend === 'tensorflow' || ops.name === 'wasm-native' ? args.threads : 1,
    batch: BATCH,
    seq: SEQ,
    masked: MASKED,
    ms_per_step: Math.round(ms * 10) / 10,
    tokens_per_s: Math.round((BATCH * SEQ) / (ms / 1000)),
  };
  console.log(JSON.stringify(r));
}

function lastJson(stdout: string): Result | null {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  return line ? (JSON.parse(line) as Result) : null;
}

function runTfjsVariant(
  args: Args,
  size: string,
  child: string,
  threads: number,
  env: NodeJS.ProcessEnv = {},
): Result | string {
  const argv = [
    process.argv[1],
    'train',
    '--child',
    child,
    '--size',
    size,
    '--steps',
    String(args.steps),
    '--threads',
    String(threads),
  ];
  if (args.profile) argv.push('--profile');
  const r = spawnSync(process.execPath, argv, {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, ...env },
  });
  const profile = r.stdout.split('\n').filter((l) => !l.startsWith('{') && l.trim());
  if (profile.length && !args.json) console.log(profile.join('\n'));
  const res = r.status === 0 ? lastJson(r.stdout) : null;
  return res ?? r.stderr.split('\n').find((l) => /^\w*Error: /.test(l)) ?? `exit ${r.status}`;
}

function runTorch(size: string, python: string, threads: number): Result | string {
  if (!existsSync(PEER)) return `${PEER} not found`;
  const r = spawnSync(
    python,
    [
      PEER,
      '--size',
      size,
      '--threads',
      String(threads),
      '--batch',
      String(BATCH),
      '--seq',
      String(SEQ),
      '--masked',
      String(MASKED),
    ],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0)
    return (r.stderr || r.error?.message || '').trim().split('\n').pop() ?? 'failed';
  const p = lastJson(r.stdout) as (Result & { peer: string }) | null;
  if (!p) return 'no output';
  return {
    size,
    variant: p.peer,
    backend: 'pytorch',
    threads,
    batch: BATCH,
    seq: SEQ,
    masked: MASKED,
    ms_per_step: p.ms_per_step,
    tokens_per_s: p.tokens_per_s,
  };
}

/** PyTorch's version from a peer line ("pytorch 2.13.0+cpu") as a comparable number. */
function torchVersion(variant: string): number {
  const m = /(\d+)\.(\d+)/.exec(variant);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : 0;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.child) return runChild(args);
  for (const size of args.size.split(',')) runSize(args, size);
}

function runSize(args: Args, size: string): void {
  const builtin = { BERT_NATIVE_KERNELS: '0' };
  const plan: { name: string; go: () => Result | string }[] = [
    { name: 'wasm/tuned', go: () => runTfjsVariant(args, size, 'wasm/tuned', 1, builtin) },
  ];
  const native = loadNativeKernels();
  for (const t of [1, 2])
    plan.push({
      name: `wasm + native matMul/${t} threads`,
      go: () => ('addon' in native ? runTfjsVariant(args, size, 'wasm/tuned', t) : native.reason),
    });
  if (args.ab) {
    plan.push({
      name: 'wasm/packed-attention',
      go: () => runTfjsVariant(args, size, 'wasm/packed-attention', 1, builtin),
    });
  }
  if (args.naive)
    plan.push({
      name: 'wasm/naive',
      go: () => runTfjsVariant(args, size, 'wasm/naive', 1, builtin),
    });
  for (const t of [1, 2])
    plan.push({
      name: `tensorflow/${t} threads`,
      go: () => runTfjsVariant(args, size, 'tensorflow/tuned', t),
    });
  if (args.torch)
    for (const python of [...new Set(args.pythons)])
      for (const t of [1, 2])
        plan.push({
          name: `pytorch (${python})/${t} threads`,
          go: () => runTorch(size, python, t),
        });
  const results: Result[] = [];
  for (const p of plan) {
    const r = p.go();
    if (typeof r === 'string') {
      // In --json mode stdout carries only result lines; the reason goes to stderr.
      (args.json ? console.error : console.log)(`${p.name}: skipped (${r})`);
      continue;
    }
    results.push(r);
    if (args.json) console.log(JSON.stringify(r));
  }
  if (args.json) return;
  const label = (r: Result): string => `${r.backend} ${r.variant}, ${r.threads} thr`.padEnd(48);
  console.log(
    `\nBERT-${size} pretraining step, batch ${BATCH} × ${SEQ}, ${MASKED} masked/seq, AdamW`,
  );
  for (const r of results) {
    console.log(
      `  ${label(r)} ${r.ms_per_step.toFixed(0).padStart(7)} ms/step ${String(r.tokens_per_s).padStart(7)} tokens/s`,
    );
  }
  const torch = results.filter((r) => r.backend === 'pytorch');
  if (!torch.length) return;
  const newest = Math.max(...torch.map((r) => torchVersion(r.variant)));
  const reference = torch.filter((r) => torchVersion(r.variant) === newest);
  console.log(`ratios (tokens/s vs ${reference[0].variant} at the same thread count):`);
  for (const r of results) {
    if (reference.includes(r)) continue;
    const ref = reference.find((t) => t.threads === r.threads);
    if (ref) console.log(`  ${label(r)} ${(r.tokens_per_s / ref.tokens_per_s).toFixed(2)}×`);
  }
}
