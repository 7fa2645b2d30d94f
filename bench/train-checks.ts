/**
 * `npm run bench -- train-checks [--steps 100] [--soak 500] [--tol 1e-4] [--no-dropout] [--json]`
 *
 * The two training checks behind the README's "Training speed" notes (the
 * backends agree on the loss curve; memory stays flat), which used to be
 * done by hand:
 *
 * 1. Loss curves: BERT-tiny (bertConfig('tiny'), unchanged) trained for
 *    --steps steps from the same seed on the same deterministic batches
 *    (like bench/train.ts's standardBatch, a different seed per step, but
 *    batch 8 × 64 so that 100 wasm steps stay under ~2 min), AdamW at lr
 *    1e-4, on wasm and on tensorflow. Dropout stays on: its masks are
 *    seeded in JS (tf.randomUniform with a string seed), so both backends
 *    drop the same units; --no-dropout turns it off to tell the two apart
 *    when the curves disagree. PASS when the loss differs by at most --tol
 *    (relative to wasm's) at every step.
 * 2. Soak: --soak steps (0 skips) on each backend at batch 4 × 64, sampling
 *    tf.memory().numTensors and process RSS every 50 steps. PASS when the
 *    tensor count is the same at every sample after the first (step 0,
 *    before the optimizer's moments exist) and the final RSS is within
 *    max(10%, 64 MiB) of the RSS at step 100.
 *
 * Each backend runs in its own child process (a fresh backend and heap);
 * each row names the formulation and what the backend loaded. wasm uses the
 * native matMul when `bert setup native` has built it; BERT_NATIVE_KERNELS=0
 * (inherited by the children) checks the shipped WebAssembly module instead,
 * and with BERT_WASM_MODULE=0 as well, tfjs's stock WASM kernels. The
 * tensorflow backend is skipped, with the reason, when it is not set up
 * (`bert setup tensorflow`). Exit code 1 when a check fails.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendName } from '../src/backend/select.js';
import { bertConfig, type BertConfig } from '../src/model/config.js';
import { createBertModel } from '../src/model/bert.js';
import { standardBatch } from './train.js';
import { PretrainingStep } from '../src/train/step.js';
import { createOptimizer } from '../src/train/optimizer.js';

const BACKENDS: BackendName[] = ['wasm', 'tensorflow'];
const LR = 1e-4;
const MASKED = 20;
/** Batch × sequence length of each check (smaller than bench train's 16 × 128, to keep wasm quick). */
const SHAPES = { curve: { batch: 8, seq: 64 }, soak: { batch: 4, seq: 64 } } as const;
const SAMPLE_EVERY = 50;
const MIB = 1 << 20;

type Check = keyof typeof SHAPES;

interface Args {
  steps: number;
  soak: number;
  tol: number;
  dropout: boolean;
  json: boolean;
  /** Child mode: `<check>/<backend>`. */
  child: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { steps: 100, soak: 500, tol: 1e-4, dropout: true, json: false, child: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--steps') a.steps = Number(argv[++i]);
    else if (k === '--soak') a.soak = Number(argv[++i]);
    else if (k === '--tol') a.tol = Number(argv[++i]);
    else if (k === '--no-dropout') a.dropout = false;
    else if (k === '--json') a.json = true;
    else if (k === '--child') a.child = argv[++i];
    else throw new Error(`bench train-checks: unknown flag ${k}`);
  }
  for (const k of ['steps', 'soak'] as const)
    if (!Number.isInteger(a[k]) || a[k] < 0)
      throw new Error(`bench train-checks: --${k} must be a whole number, got ${a[k]}`);
  return a;
}

/** standardBatch's recipe at another shape. */
function checkBatch(config: BertConfig, shape: { batch: number; seq: number }, seed: number) {
  return standardBatch(config, seed, { ...shape, masked: MASKED });
}

/** Seed of step i's batch (distinct, away from the LCG's small-seed start). */
const batchSeed = (i: number): number => 1 + 7919 * (i + 1);

interface Sample {
  step: number;
  num_tensors: number;
  rss_mib: number;
}

type ChildResult =
  | { check: Check; backend: string; skipped: string }
  | ({ check: 'curve'; losses: number[] } & Ran)
  | ({ check: 'soak'; samples: Sample[] } & Ran);

/** What every child that trained reports: the backend as loaded and the model's formulation. */
interface Ran {
  backend: string;
  /** selectBackend's detail, e.g. whether wasm's native matMul is active. */
  detail: string;
  ops: string;
  ms_per_step: number;
}

/** Train in this process and print one JSON line. */
async function runChild(args: Args): Promise<void> {
  const [check, backend] = (args.child as string).split('/') as [Check, BackendName];
  let detail: string;
  try {
    const choice = await selectBackend(backend);
    detail = choice.attempts.find((a) => a.ok)?.detail ?? '';
  } catch (err) {
    const skipped = String((err as Error).message ?? err);
    console.log(JSON.stringify({ check, backend, skipped } satisfies ChildResult));
    return;
  }
  const config = bertConfig(
    'tiny',
    args.dropout ? {} : { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 },
  );
  const model = createBertModel(config, { heads: 'pretraining', seed: 1 });
  const step = new PretrainingStep(model, createOptimizer({ type: 'adamw' }), { seed: 1 });
  const steps = check === 'curve' ? args.steps : args.soak;
  const losses: number[] = [];
  const samples: Sample[] = [];
  const sample = (i: number): void => {
    samples.push({
      step: i,
      num_tensors: tf.memory().numTensors,
      rss_mib: Math.round(process.memoryUsage().rss / MIB),
    });
  };
  sample(0);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    step.accumulate(checkBatch(config, SHAPES[check], batchSeed(i)));
    losses.push((await step.apply(LR)).loss);
    if ((i + 1) % SAMPLE_EVERY === 0 || i + 1 === steps) sample(i + 1);
  }
  const ms_per_step = Math.round((performance.now() - t0) / Math.max(1, steps));
  const r: ChildResult =
    check === 'curve'
      ? { check, backend, detail, ops: model.ops.name, ms_per_step, losses }
      : { check, backend, detail, ops: model.ops.name, ms_per_step, samples };
  console.log(JSON.stringify(r));
}

/** One backend's check in a child process; a string is why it produced nothing. */
function spawnCheck(args: Args, check: Check, backend: BackendName): ChildResult | string {
  const argv = [process.argv[1], 'train-checks', '--child', `${check}/${backend}`];
  argv.push('--steps', String(args.steps), '--soak', String(args.soak));
  if (!args.dropout) argv.push('--no-dropout');
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (r.status === 0 && line) return JSON.parse(line) as ChildResult;
  return r.stderr.split('\n').find((l) => /^\w*Error: /.test(l)) ?? `exit ${r.status}`;
}

type RanCheck<C extends Check> = Extract<ChildResult, { check: C; ms_per_step: number }>;

/** Run each backend in turn, handing each result to `show` as it comes (skips are printed, to stderr with --json). */
function runBackends<C extends Check>(
  args: Args,
  check: C,
  show: (r: RanCheck<C>) => void,
): RanCheck<C>[] {
  const ran: RanCheck<C>[] = [];
  for (const backend of BACKENDS) {
    const r = spawnCheck(args, check, backend);
    const why = typeof r === 'string' ? r : 'skipped' in r ? r.skipped : null;
    if (why !== null) {
      const reason = why.replace(/^--backend \w+: no usable backend \(\w+: (.*)\)$/, '$1');
      (args.json ? console.error : console.log)(`${backend}: skipped (${reason})`);
      // wasm is always built in: its absence is a failure, not a skip.
      if (backend === 'wasm') process.exitCode = 1;
      continue;
    }
    ran.push(r as RanCheck<C>);
    show(r as RanCheck<C>);
  }
  return ran;
}

const fmt = (x: number): string => x.toExponential(2);
const label = (r: Ran): string => `${r.ops} ops; ${r.detail}`;

function lossCurves(args: Args): void {
  const { batch, seq } = SHAPES.curve;
  if (!args.json)
    console.log(
      `loss curves: BERT-tiny, ${args.steps} steps, batch ${batch} × ${seq}, ${MASKED} masked/seq, ` +
        `AdamW lr ${LR}, seed 1, dropout ${args.dropout ? 'on (masks seeded in JS)' : 'off (--no-dropout)'}`,
    );
  const runs = runBackends(args, 'curve', (r) => {
    const l = r.losses;
    if (args.json) console.log(JSON.stringify({ ...r, batch, seq, masked: MASKED }));
    else
      console.log(
        `  ${r.backend.padEnd(10)} ${String(r.ms_per_step).padStart(5)} ms/step  ` +
          `loss ${l[0]?.toFixed(4)} → ${l[l.length - 1]?.toFixed(4)}  [${label(r)}]`,
      );
  });
  const [ref, other] = runs;
  if (!ref || !other || ref.backend !== 'wasm') return;
  const rel = ref.losses.map((a, i) => Math.abs(other.losses[i] - a) / Math.abs(a));
  const max = Math.max(...rel.map((x) => (Number.isNaN(x) ? Infinity : x)));
  const worst = rel.indexOf(max);
  const last = rel[rel.length - 1] ?? 0;
  const pass = rel.length === other.losses.length && max <= args.tol;
  if (!pass) process.exitCode = 1;
  if (args.json) {
    const summary = { check: 'curve-diff', backends: [ref.backend, other.backend], tol: args.tol };
    console.log(JSON.stringify({ ...summary, max_rel_diff: max, last_rel_diff: last, pass }));
  } else {
    console.log(
      `  ${other.backend} vs ${ref.backend}: max relative loss difference ${fmt(max)} ` +
        `(step ${worst + 1}), at the last step ${fmt(last)}: ${pass ? 'PASS' : 'FAIL'} (tol ${fmt(args.tol)})`,
    );
  }
}

/** Tensor count flat after the first sample; final RSS within max(10%, 64 MiB) of step 100's (or the first after 0). */
function judgeSoak(samples: Sample[]): { pass: boolean; why: string } {
  const after = samples.slice(1);
  if (!after.length) return { pass: true, why: 'no samples' };
  const counts = new Set(after.map((s) => s.num_tensors));
  const ref = after.find((s) => s.step === 100) ?? after[0];
  const end = after[after.length - 1];
  const allowed = Math.max(0.1 * ref.rss_mib, 64);
  const grew = end.rss_mib - ref.rss_mib;
  const tensorsOk = counts.size === 1;
  const rssOk = Math.abs(grew) <= allowed;
  const why =
    `tensors ${tensorsOk ? `flat at ${after[0].num_tensors}` : `vary: ${[...counts].join(', ')}`}; ` +
    `RSS ${ref.rss_mib} → ${end.rss_mib} MiB from step ${ref.step} to ${end.step} ` +
    `(${grew >= 0 ? '+' : ''}${grew}, allowed ±${Math.round(allowed)})`;
  return { pass: tensorsOk && rssOk, why };
}

function soak(args: Args): void {
  const { batch, seq } = SHAPES.soak;
  if (!args.json)
    console.log(
      `\nsoak: BERT-tiny, ${args.soak} steps, batch ${batch} × ${seq}, ${MASKED} masked/seq, ` +
        `AdamW lr ${LR}, sampled every ${SAMPLE_EVERY} steps`,
    );
  runBackends(args, 'soak', (r) => {
    const { pass, why } = judgeSoak(r.samples);
    if (!pass) process.exitCode = 1;
    if (args.json) {
      console.log(JSON.stringify({ ...r, batch, seq, masked: MASKED, pass }));
      return;
    }
    console.log(
      `  ${r.backend} (${r.ms_per_step} ms/step) [${label(r)}]\n      step  tensors  RSS MiB`,
    );
    for (const s of r.samples)
      console.log(
        `    ${String(s.step).padStart(6)} ${String(s.num_tensors).padStart(8)} ${String(s.rss_mib).padStart(8)}`,
      );
    console.log(`    ${pass ? 'PASS' : 'FAIL'}: ${why}`);
  });
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.child) return runChild(args);
  if (args.steps > 0) lossCurves(args);
  if (args.soak > 0) soak(args);
}
