/**
 * `npm run bench -- train [--size tiny,mini,small] [--threads 1,2] [--repeats 3] [--steps 5]
 *   [--json] [--naive] [--ab] [--profile] [--no-torch] [--python PYTHON]…`
 *
 * ms/step and tokens/s of the standard BERT pretraining step — batch 16 ×
 * 128 tokens, 20 masked positions per sequence, tied decoder, NSP, AdamW,
 * global-norm clipping — for our best variants and the PyTorch peer
 * (../shared/peers/torch_bert_step.py), at each size and thread count.
 *
 * Interleaved: each of --repeats rounds runs every variant once, in turn
 * (ours, peer, ours, peer, …), each run a fresh child process (a fresh
 * backend; TensorFlow reads its thread count once, at start) that times
 * --steps steps after 2 warm-up steps and reports their median. A row gives
 * the median of the repeats, their spread (fastest–slowest), tokens/s, the
 * ratio of tokens/s to the newest PyTorch's median at the same size and
 * threads, and MFU: the step's matMul FLOPs (bench/train-flops.ts) per
 * second over the machine's SGEMM peak, measured in the same run at the same
 * thread count (a 2048³ product through the native addon's SGEMM — oneDNN's
 * dnnl_sgemm where installed — or, without the addon, torch.matmul in the
 * peer's Python; the output says which).
 *
 * Variants per (size, threads): wasm + native kernels (`bert setup native`),
 * tensorflow (`bert setup tensorflow`), each skipped with the reason when
 * not set up; plain WASM (zero setup: BERT_NATIVE_KERNELS=0, the shipped
 * WebAssembly module) at 1 thread; --ab adds the native formulation without
 * the fused elementwise kernels, WASM on tfjs's own kernels alone
 * (BERT_WASM_MODULE=0) and with packed 2-D attention, --naive plain tfjs
 * autodiff on WASM (slow). The peer runs under each Python given with --python (also
 * the colon-separated BERT_BENCH_PYTHON, e.g. a venv with PyTorch 2), or
 * /usr/bin/python3 (Debian's PyTorch) when none is given; --no-torch skips it.
 * --json prints each repeat's result, the peaks and the rows as JSON lines.
 * --profile prints where a tuned step's time goes (tf.profile kernel shares).
 *
 * The harness (shared flags, child runs, peer runs, the standard variants,
 * interleaved rounds with the SGEMM peak, the table) is exported for the
 * other suites that time ours against PyTorch (bench/finetune.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendName } from '../src/backend/select.js';
import { bertConfig, isSizeName, type BertConfig, type SizeName } from '../src/model/config.js';
import { createBertModel } from '../src/model/bert.js';
import {
  naiveWasmOps,
  opsForBackend,
  wasmNativeUnfusedOps,
  wasmPackedAttentionOps,
  type ModelOps,
} from '../src/model/ops.js';
import type { PretrainingBatch } from '../src/model/batch.js';
import { PretrainingStep } from '../src/train/step.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { loadNativeKernels } from '../src/backend/native-addon.js';
import { trainStepFlops } from './train-flops.js';
import {
  assembleRows,
  formatRows,
  median,
  type FormatOptions,
  type Row,
  type Series,
} from './train-table.js';

const BATCH = 16;
const SEQ = 128;
const MASKED = 20;
const PEER = fileURLToPath(new URL('../../../shared/peers/torch_bert_step.py', import.meta.url));
const DEBIAN_PYTHON = '/usr/bin/python3';

interface Result extends RunResult {
  masked: number;
}

/** The flags every bench suite that times ours against a PyTorch peer shares. */
export interface CommonArgs {
  size: string;
  /** Thread counts to compare at (a child gets one). */
  threads: number[];
  repeats: number;
  json: boolean;
  steps: number;
  torch: boolean;
  pythons: string[];
  child: string | null;
}

interface Args extends CommonArgs {
  naive: boolean;
  /** Also run the WASM formulation with packed 2-D attention (wasmPackedAttentionOps) for an A/B comparison. */
  ab: boolean;
  profile: boolean;
}

/** The shared flags' defaults: every size from tiny to small, 1 and 2 threads, 3 repeats of 5 steps. */
export function commonArgs(): CommonArgs {
  return {
    size: 'tiny,mini,small',
    threads: [1, 2],
    repeats: 3,
    json: false,
    steps: 5,
    torch: true,
    pythons: (process.env.BERT_BENCH_PYTHON ?? '').split(':').filter(Boolean),
    child: null,
  };
}

/** Reads shared flag `k` into `a` (`next` gives its value); false when `k` is not one of them. */
export function commonFlag(a: CommonArgs, k: string, next: () => string): boolean {
  if (k === '--size') a.size = next();
  else if (k === '--json') a.json = true;
  else if (k === '--steps') a.steps = Number(next());
  else if (k === '--no-torch') a.torch = false;
  else if (k === '--python') a.pythons.push(next());
  else if (k === '--child') a.child = next();
  else if (k === '--threads') a.threads = next().split(',').map(Number);
  else if (k === '--repeats') a.repeats = Number(next());
  else return false;
  return true;
}

/** Throws on a shared flag that makes no sense; the peer's Python defaults to Debian's. */
export function checkCommonArgs(a: CommonArgs, suite: string): void {
  for (const size of a.size.split(','))
    if (!isSizeName(size))
      throw new Error(`bench ${suite}: --size must be named sizes (tiny,mini,…), got ${size}`);
  if (!a.threads.length || a.threads.some((t) => !Number.isInteger(t) || t < 1))
    throw new Error(`bench ${suite}: --threads must be positive integers, e.g. 1,2`);
  for (const k of ['repeats', 'steps'] as const)
    if (!Number.isInteger(a[k]) || a[k] < 1)
      throw new Error(`bench ${suite}: --${k} must be a positive integer, got ${a[k]}`);
  if (!a.pythons.length) a.pythons.push(DEBIAN_PYTHON);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { ...commonArgs(), naive: false, ab: false, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--naive') a.naive = true;
    else if (k === '--ab') a.ab = true;
    else if (k === '--profile') a.profile = true;
    else if (!commonFlag(a, k, () => argv[++i])) throw new Error(`bench train: unknown flag ${k}`);
  }
  checkCommonArgs(a, 'train');
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

/** Kernel-time shares of one step, largest first. */
async function profileStep(step: PretrainingStep, batch: PretrainingBatch): Promise<void> {
  const info = await tf.profile(async () => {
    step.accumulate(batch);
    await step.apply(1e-4);
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
  for (const o of others
    .sort((a, b) => b.ms - a.ms)
    .slice(0, Number(process.env.BERT_PROFILE_TOP ?? 8))) {
    console.log(`    ${o.what.padEnd(40)} ${o.ms.toFixed(1).padStart(6)} ms`);
  }
  console.log('  matMuls by operand shapes:');
  for (const [shapes, e] of [...matmuls].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10)) {
    console.log(
      `    ${shapes.padEnd(30)} ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(6)} ms  ${e.calls} calls`,
    );
  }
}

/**
 * The median ms of `steps` calls of `step` after 2 warm-up calls (the first
 * builds kernels and optimizer state, the second settles the allocator).
 */
export async function timeSteps(
  steps: number,
  step: () => Promise<unknown> | void,
): Promise<number> {
  const times: number[] = [];
  const warmup = 2;
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    await step();
    if (i >= warmup) times.push(performance.now() - t0);
  }
  return median(times);
}

/** The threads a tfjs variant really runs on: plain WASM and the autodiff ops run on one. */
export function variantThreads(backend: string, ops: ModelOps, threads: number): number {
  return backend === 'tensorflow' || ops.name.startsWith('wasm-native') ? threads : 1;
}

/**
 * Selects a child's backend; with BERT_BENCH_NATIVE=1 (the "wasm + native
 * kernels" variants) fails unless the native addon is what runs. A parent
 * checks for the addon once, at the start; if the kernel sources change during
 * a run (an edit to native/ changes the addon's hash), a child would otherwise
 * run the WebAssembly module under the native row's name.
 */
export async function selectBenchBackend(backend: BackendName, threads: number): Promise<void> {
  const choice = await selectBackend(backend, { threads });
  if (process.env.BERT_BENCH_NATIVE !== '1') return;
  const detail = choice.attempts.find((a) => a.ok)?.detail ?? '';
  if (!detail.includes('native matMul ('))
    throw new Error(`the native addon is not what runs (${detail}): run \`bert setup native\``);
}

/** Run one tfjs variant in this process and print its JSON line. */
async function runChild(args: Args): Promise<void> {
  const threads = args.threads[0];
  if (args.child === 'sgemm') return sgemmChild(threads);
  const [backend, variant] = (args.child as string).split('/') as [BackendName, string];
  await selectBenchBackend(backend, threads);
  const config = bertConfig(args.size as 'tiny');
  const ops: ModelOps =
    variant === 'naive'
      ? naiveWasmOps
      : variant === 'packed-attention'
        ? wasmPackedAttentionOps
        : variant === 'unfused'
          ? wasmNativeUnfusedOps
          : opsForBackend(tf.getBackend());
  const model = createBertModel(config, { heads: 'pretraining', seed: 1, ops });
  const optimizer = createOptimizer({ type: 'adamw' });
  const step = new PretrainingStep(model, optimizer, { seed: 1 });
  const batch = standardBatch(config);
  const ms = await timeSteps(args.steps, async () => {
    step.accumulate(batch);
    await step.apply(1e-4);
  });
  if (args.profile) await profileStep(step, batch);
  const r: Result = {
    size: args.size,
    variant: `${variant} (${ops.name} ops)`,
    backend,
    threads: variantThreads(backend, ops, threads),
    batch: BATCH,
    seq: SEQ,
    masked: MASKED,
    ms_per_step: Math.round(ms * 10) / 10,
    tokens_per_s: Math.round((BATCH * SEQ) / (ms / 1000)),
  };
  console.log(JSON.stringify(r));
}

const SGEMM_N = 2048;

export interface Peak {
  gflops: number;
  method: string;
}

/** The best of 5 square SGEMMs through the native addon at `threads`; prints a Peak line. */
function sgemmChild(threads: number): void {
  const native = loadNativeKernels();
  if (!('addon' in native)) throw new Error(`native kernels: ${native.reason}`);
  native.addon.setThreads(threads);
  const n = SGEMM_N;
  const heap = new Float32Array(3 * n * n);
  for (let i = 0; i < 2 * n * n; i++) heap[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  let best = Infinity;
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    native.addon.batchMatMul(heap.buffer, 0, 4 * n * n, 8 * n * n, 1, n, n, n, false, false, 0, 0);
    if (r > 0) best = Math.min(best, performance.now() - t0);
  }
  const peak: Peak = {
    gflops: (2 * n ** 3) / (best / 1000) / 1e9,
    method: `${native.library} SGEMM via the native addon, ${n}³, best of 5`,
  };
  console.log(JSON.stringify(peak));
}

function lastJson<T>(stdout: string): T | null {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  return line ? (JSON.parse(line) as T) : null;
}

/** The last line of a failed child's output that says why. */
function failure(r: ReturnType<typeof spawnSync>): string {
  const text = `${String(r.stderr ?? '')}\n${r.error?.message ?? ''}`;
  const lines = text.split('\n').filter((l) => l.trim());
  return lines.find((l) => /^\w*Error: /.test(l)) ?? lines.pop() ?? `exit ${r.status}`;
}

/**
 * `bench <argv…>` (a suite in child mode) in a fresh Node process with `env`
 * added: its last JSON line, or why it failed. `echo` gets its other lines.
 */
export function benchChild<T>(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  echo?: (lines: string[]) => void,
): T | string {
  const r = spawnSync(process.execPath, [process.argv[1], ...argv], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, ...env },
  });
  const other = r.stdout.split('\n').filter((l) => !l.startsWith('{') && l.trim());
  if (other.length && echo) echo(other);
  const res = r.status === 0 ? lastJson<T>(r.stdout) : null;
  return res ?? failure(r);
}

/** A peer script under `python` with `argv`: its last JSON line, or why it failed. */
export function peerRun<T>(python: string, script: string, argv: string[]): T | string {
  if (!existsSync(script)) return `${script} not found`;
  const r = spawnSync(python, [script, ...argv], { encoding: 'utf8' });
  if (r.status !== 0) return failure(r);
  return lastJson<T>(r.stdout) ?? 'no output';
}

function runTfjsVariant(
  args: Args,
  size: string,
  child: string,
  threads: number,
  env: NodeJS.ProcessEnv = {},
): Result | string {
  const argv = ['train', '--child', child, '--size', size, '--steps', String(args.steps)];
  argv.push('--threads', String(threads));
  if (args.profile) argv.push('--profile');
  return benchChild<Result>(argv, env, (lines) => {
    if (!args.json) console.log(lines.join('\n'));
  });
}

function runTorch(args: Args, size: string, python: string, threads: number): Result | string {
  const p = peerRun<Result & { peer: string }>(python, PEER, [
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
    '--steps',
    String(args.steps),
  ]);
  if (typeof p === 'string') return p;
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

/** torch.matmul of two 2048² float32 matrices in the peer's Python: the fallback peak. */
const TORCH_SGEMM = `
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[1])); n = int(sys.argv[2])
a = torch.randn(n, n); b = torch.randn(n, n); best = 1e9
for r in range(6):
    t0 = time.perf_counter(); torch.matmul(a, b); dt = time.perf_counter() - t0
    if r: best = min(best, dt)
print(json.dumps({"gflops": 2 * n**3 / best / 1e9,
                  "method": f"torch.matmul (PyTorch {torch.__version__}), {n}³, best of 5"}))
`;

/** The SGEMM peak at `threads`: the native addon's SGEMM, else torch.matmul under `python`. */
function measurePeak(threads: number, python: string): Peak | string {
  const viaAddon = spawnSync(
    process.execPath,
    [process.argv[1], 'train', '--child', 'sgemm', '--threads', String(threads)],
    { encoding: 'utf8' },
  );
  const peak = viaAddon.status === 0 ? lastJson<Peak>(viaAddon.stdout) : null;
  if (peak) return peak;
  const viaTorch = spawnSync(python, ['-c', TORCH_SGEMM, String(threads), String(SGEMM_N)], {
    encoding: 'utf8',
  });
  return (
    (viaTorch.status === 0 ? lastJson<Peak>(viaTorch.stdout) : null) ??
    `${failure(viaAddon)}; ${failure(viaTorch)}`
  );
}

/** What a run reports: what ran (a tfjs child's "<variant> (<ops> ops)", a peer's "pytorch x.y") and its ms/step. */
export interface Timed {
  variant: string;
  ms_per_step: number;
}

/** A run's JSON line: what ran, where, on what shape, how fast. */
export interface RunResult extends Timed {
  size: string;
  backend: string;
  threads: number;
  batch: number;
  seq: number;
  tokens_per_s: number;
}

export interface Variant<R extends Timed = Result> {
  size: string;
  threads: number;
  name: string;
  peer: boolean;
  go: () => R | string;
  /** What is timed, where a suite times more than one thing (bench finetune: step or forward). */
  mode?: string;
  /** What one timed call is: 'step' (default) or, for a forward pass, 'batch'. */
  per?: string;
  /** Why it was skipped (set on its first failure; it is not retried). */
  skipped?: string;
  results: R[];
}

/**
 * The variants every suite times at (size, threads), in the order one round
 * runs them: wasm + native kernels, each PyTorch peer, tensorflow, and plain
 * WASM (BERT_NATIVE_KERNELS=0: the shipped WebAssembly module, what `npm
 * install` alone gives) at 1 thread. `ours(child, threads,
 * env)` runs a tfjs child ("wasm/tuned", "tensorflow/tuned"), `peer(python)`
 * the PyTorch peer; `native` is loadNativeKernels()'s answer.
 */
export function standardVariants<R extends Timed>(
  size: string,
  threads: number,
  pythons: readonly string[],
  native: ReturnType<typeof loadNativeKernels>,
  ours: (child: string, threads: number, env?: NodeJS.ProcessEnv) => R | string,
  peer: (python: string) => R | string,
): Variant<R>[] {
  const v = (name: string, go: () => R | string, isPeer = false): Variant<R> => ({
    size,
    threads,
    name,
    peer: isPeer,
    go,
    results: [],
  });
  return [
    v('wasm + native kernels', () =>
      'addon' in native ? ours('wasm/tuned', threads, { BERT_BENCH_NATIVE: '1' }) : native.reason,
    ),
    ...[...new Set(pythons)].map((python) => v(`pytorch (${python})`, () => peer(python), true)),
    v('tensorflow', () => ours('tensorflow/tuned', threads)),
    // The module is single-threaded: one row per size, at 1 thread.
    ...(threads === 1
      ? [v('plain WASM', () => ours('wasm/tuned', 1, { BERT_NATIVE_KERNELS: '0' }))]
      : []),
  ];
}

/** Every variant to time, in the order one round runs them. */
function plan(args: Args): Variant[] {
  // tfjs's own wasm kernels: neither the native addon nor the WebAssembly module.
  const builtin = { BERT_NATIVE_KERNELS: '0', BERT_WASM_MODULE: '0' };
  const native = loadNativeKernels();
  const variants: Variant[] = [];
  const add = (size: string, threads: number, name: string, go: () => Result | string): void => {
    variants.push({ size, threads, name, peer: false, go, results: [] });
  };
  for (const size of args.size.split(','))
    for (const t of args.threads) {
      variants.push(
        ...standardVariants<Result>(
          size,
          t,
          args.torch ? args.pythons : [],
          native,
          (child, threads, env) => runTfjsVariant(args, size, child, threads, env),
          (python) => runTorch(args, size, python, t),
        ),
      );
      if (args.ab) {
        add(size, t, 'wasm + native, unfused', () =>
          'addon' in native
            ? runTfjsVariant(args, size, 'wasm/unfused', t, { BERT_BENCH_NATIVE: '1' })
            : native.reason,
        );
        if (t === 1) {
          add(size, t, 'WASM, tfjs kernels only', () =>
            runTfjsVariant(args, size, 'wasm/tuned', 1, builtin),
          );
          add(size, t, 'wasm/packed-attention', () =>
            runTfjsVariant(args, size, 'wasm/packed-attention', 1, builtin),
          );
        }
      }
      if (args.naive && t === 1)
        add(size, t, 'wasm/naive', () => runTfjsVariant(args, size, 'wasm/naive', 1, builtin));
    }
  return variants;
}

/**
 * --repeats interleaved rounds: each measures the SGEMM peak at every thread
 * count (the best of the rounds is kept), then runs every variant once, in
 * turn; a variant that fails is skipped from then on, with its reason.
 * Progress (or, with --json, each repeat's JSON line) as it goes; returns
 * the peaks per thread count.
 */
export function runRounds<R extends Timed>(
  args: CommonArgs,
  variants: readonly Variant<R>[],
): Map<number, Peak> {
  // In --json mode stdout carries only JSON lines; notes go to stderr.
  const note = args.json ? console.error : console.log;
  const peaks = new Map<number, Peak>();
  for (let repeat = 0; repeat < args.repeats; repeat++) {
    for (const t of args.threads) {
      const peak = measurePeak(t, args.pythons[args.pythons.length - 1]);
      if (typeof peak === 'string') note(`SGEMM peak at ${t} threads: not measured (${peak})`);
      else if (!peaks.has(t) || peak.gflops > (peaks.get(t) as Peak).gflops) peaks.set(t, peak);
    }
    for (const v of variants) {
      if (v.skipped) continue;
      const what = `BERT-${v.size} ${v.mode ? `${v.mode} ` : ''}${v.name}`;
      const r = v.go();
      if (typeof r === 'string') {
        v.skipped = r;
        note(`${what}/${v.threads} threads: skipped (${r})`);
        continue;
      }
      v.results.push(r);
      if (args.json) console.log(JSON.stringify({ ...r, repeat }));
      else
        note(
          `  repeat ${repeat + 1}/${args.repeats}: ${what}, ${v.threads} thr: ${r.ms_per_step.toFixed(0)} ms/${v.per ?? 'step'}`,
        );
    }
  }
  return peaks;
}

/** The table's series: a tfjs variant named with the ops its child reported, a peer by its version. */
export function seriesOf<R extends Timed>(variants: readonly Variant<R>[]): Series[] {
  return variants.map((v) => ({
    size: v.size,
    variant: v.results[0]
      ? v.peer
        ? v.results[0].variant
        : `${v.name} (${/\((.+) ops\)/.exec(v.results[0].variant)?.[1] ?? v.results[0].variant} ops)`
      : v.name,
    threads: v.threads,
    peer: v.peer,
    msPerStep: v.results.map((r) => r.ms_per_step),
  }));
}

/** The peaks as JSON lines. */
export function peakJson(peaks: ReadonlyMap<number, Peak>): void {
  for (const [threads, p] of peaks) console.log(JSON.stringify({ sgemm_peak: { threads, ...p } }));
}

/**
 * A table: its title, the matMul GFLOP of a step at each size, the SGEMM
 * peaks, what ratio and MFU mean, then the rows (formatRows with `format`).
 */
export function printTable(
  title: string,
  flops: ReadonlyMap<string, number>,
  peaks: ReadonlyMap<number, Peak>,
  rows: readonly Row[],
  format: FormatOptions = {},
): void {
  console.log(`\n${title}`);
  for (const [size, f] of flops)
    console.log(
      `  BERT-${size}: ${(f / 1e9).toFixed(1)} GFLOP of matMuls per ${format.per ?? 'step'}`,
    );
  for (const [t, p] of peaks)
    console.log(
      `  SGEMM peak at ${t} thread${t === 1 ? '' : 's'}: ${p.gflops.toFixed(0)} GFLOP/s (${p.method})`,
    );
  console.log(
    '  ratio: tokens/s over the newest PyTorch at the same size and threads; MFU: matMul FLOP/s over that peak\n',
  );
  for (const line of formatRows(rows, format)) console.log(line);
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.child) return runChild(args);
  const variants = plan(args);
  const peaks = runRounds(args, variants);
  const sizes = args.size.split(',') as SizeName[];
  const flops = new Map(
    sizes.map((s) => [
      s,
      trainStepFlops(bertConfig(s), { batch: BATCH, seq: SEQ, masked: MASKED }),
    ]),
  );
  const rows = assembleRows(seriesOf(variants), {
    tokensPerStep: BATCH * SEQ,
    flopsPerStep: flops,
    peakGflops: new Map([...peaks].map(([t, p]) => [t, p.gflops])),
  });
  if (args.json) {
    peakJson(peaks);
    for (const r of rows) console.log(JSON.stringify({ row: r }));
    return;
  }
  printTable(
    `Pretraining step, batch ${BATCH} × ${SEQ}, ${MASKED} masked/seq, AdamW; median of ${args.repeats} interleaved repeats (${args.steps} steps each)`,
    flops,
    peaks,
    rows,
  );
}
