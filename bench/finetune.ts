/**
 * `npm run bench -- finetune [--mode step,forward] [--size tiny,mini,small] [--threads 1,2]
 *   [--repeats 3] [--steps 5] [--batch 32] [--eval-batch 64] [--seq 128] [--json] [--no-torch]
 *   [--python PYTHON]…`
 *
 * The fine-tuning and inference paths against PyTorch, at each size and
 * thread count, with bench/train.ts's method and table:
 *
 * - step: the sequence-classification training step `bert finetune
 *   glue/sst2` runs (train/step.ts ClassificationStep): batch 32 × 128
 *   (--batch, --seq), 2 labels, dropout 0.1, forward + backward, global-norm
 *   clipping at 1.0, AdamW. Its peer: bench/peers/torch_bert_finetune.py
 *   --mode step (cross-entropy, clip_grad_norm 1.0, AdamW).
 * - forward: the inference forward `bert eval` runs (model/predict.ts
 *   predictClassification: eval mode, no dropout, no gradients, the logits
 *   read back), batch 64 × 128 (--eval-batch, --seq). Its peer: the same
 *   script's --mode forward (model.eval() under torch.inference_mode()).
 *   A forward row's time is per batch; it also gives sequences/s.
 *
 * Random weights and random tokens (bench/train.ts standardBatch: two
 * segments, no padding), random labels: the speed does not depend on them.
 * Interleaved: each of --repeats rounds runs every variant once, in turn
 * (ours, peer, ours, peer, …), each run a fresh child process that times
 * --steps steps (forward: batches) after warm-up and reports their median. A
 * row gives the median of the repeats, their spread (fastest–slowest),
 * tokens/s, the ratio of tokens/s to the newest PyTorch's median at the same
 * size and threads, and MFU: the matMul FLOPs (bench/train-flops.ts: the
 * classification forward, ×3 for a step) per second over the SGEMM peak
 * measured in the same run at the same thread count.
 *
 * Variants per (mode, size, threads), as in bench train: wasm + native
 * kernels (`bert setup native`), tensorflow (`bert setup tensorflow`), each
 * skipped with the reason when not set up; plain WASM
 * (BERT_NATIVE_KERNELS=0: the shipped WebAssembly module) at 1 thread. The peer runs under each
 * Python given with --python (also the colon-separated BERT_BENCH_PYTHON,
 * e.g. a venv with PyTorch 2), or /usr/bin/python3 when none is given;
 * --no-torch skips it. --json prints each repeat's result, the peaks and the
 * rows (with their mode and sequences/s) as JSON lines.
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../src/backend/select.js';
import { loadNativeKernels } from '../src/backend/native-addon.js';
import { bertConfig, type BertConfig, type SizeName } from '../src/model/config.js';
import { createBertModel } from '../src/model/bert.js';
import { opsForBackend } from '../src/model/ops.js';
import type { ClassificationBatch } from '../src/model/batch.js';
import { predictClassification } from '../src/model/predict.js';
import { ClassificationStep } from '../src/train/step.js';
import { createOptimizer } from '../src/train/optimizer.js';
import {
  benchChild,
  checkCommonArgs,
  commonArgs,
  commonFlag,
  peakJson,
  peerRun,
  printTable,
  runRounds,
  selectBenchBackend,
  seriesOf,
  standardBatch,
  standardVariants,
  timeSteps,
  variantThreads,
  type CommonArgs,
  type RunResult,
  type Variant,
} from './train.js';
import { classificationFlops, classificationStepFlops } from './train-flops.js';
import { assembleRows } from './train-table.js';

/** SST-2's labels. */
const LABELS = 2;
/** BERT's fine-tuning learning rate (the step's time does not depend on it). */
const LR = 2e-5;
const PEER = fileURLToPath(new URL('../../bench/peers/torch_bert_finetune.py', import.meta.url));
const MODES = ['step', 'forward'] as const;
type Mode = (typeof MODES)[number];

/** ms_per_step: per training step, or per forward batch. */
interface Result extends RunResult {
  mode: Mode;
  sequences_per_s: number;
}

interface Args extends CommonArgs {
  modes: Mode[];
  /** Training batch (step). */
  batch: number;
  /** Inference batch (forward). */
  evalBatch: number;
  seq: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { ...commonArgs(), modes: [...MODES], batch: 32, evalBatch: 64, seq: 128 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--mode') a.modes = argv[++i].split(',') as Mode[];
    else if (k === '--batch') a.batch = Number(argv[++i]);
    else if (k === '--eval-batch') a.evalBatch = Number(argv[++i]);
    else if (k === '--seq') a.seq = Number(argv[++i]);
    else if (!commonFlag(a, k, () => argv[++i]))
      throw new Error(`bench finetune: unknown flag ${k}`);
  }
  checkCommonArgs(a, 'finetune');
  if (!a.modes.length || a.modes.some((m) => !MODES.includes(m)))
    throw new Error(`bench finetune: --mode must be ${MODES.join(' and/or ')}, e.g. step,forward`);
  for (const [flag, n] of [
    ['batch', a.batch],
    ['eval-batch', a.evalBatch],
    ['seq', a.seq],
  ] as const)
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`bench finetune: --${flag} must be a positive integer, got ${n}`);
  return a;
}

/** The batch size a mode runs at. */
function batchOf(args: Args, mode: Mode): number {
  return mode === 'step' ? args.batch : args.evalBatch;
}

/** A classification batch: standardBatch's tokens and segments, no padding, random labels 0/1. */
export function classificationBatch(
  config: BertConfig,
  seed: number,
  { batch, seq }: { batch: number; seq: number },
): ClassificationBatch {
  const b = standardBatch(config, seed, { batch, seq, masked: 0 });
  const { batch_size, seq_length, input_ids, token_type_ids, attention_mask } = b;
  const labels = b.next_sentence_labels;
  return { batch_size, seq_length, input_ids, token_type_ids, attention_mask, labels };
}

/** Run one tfjs variant of one mode in this process and print its JSON line. */
async function runChild(args: Args): Promise<void> {
  const threads = args.threads[0];
  const mode = args.modes[0];
  const [backend, variant] = (args.child as string).split('/') as [BackendName, string];
  await selectBenchBackend(backend, threads);
  const config = bertConfig(args.size as SizeName);
  const ops = opsForBackend(tf.getBackend());
  const model = createBertModel(config, {
    heads: 'classification',
    numLabels: LABELS,
    seed: 1,
    ops,
  });
  const B = batchOf(args, mode);
  const batch = classificationBatch(config, 1, { batch: B, seq: args.seq });
  let work: () => Promise<unknown>;
  if (mode === 'step') {
    const step = new ClassificationStep(model, createOptimizer({ type: 'adamw' }), {
      maxGradNorm: 1.0,
      seed: 1,
    });
    work = async () => {
      step.accumulate(batch);
      await step.apply(LR);
    };
  } else work = () => predictClassification(model, batch);
  const ms = await timeSteps(args.steps, work);
  const r: Result = {
    mode,
    size: args.size,
    variant: `${variant} (${ops.name} ops)`,
    backend,
    threads: variantThreads(backend, ops, threads),
    batch: B,
    seq: args.seq,
    ms_per_step: Math.round(ms * 10) / 10,
    tokens_per_s: Math.round((B * args.seq) / (ms / 1000)),
    sequences_per_s: Math.round((10 * B) / (ms / 1000)) / 10,
  };
  console.log(JSON.stringify(r));
}

/** The flags a child or the peer needs for `mode` at `size` and `threads`. */
function shapeFlags(args: Args, mode: Mode, size: string, threads: number): string[] {
  const flags = ['--mode', mode, '--size', size, '--threads', String(threads)];
  return [...flags, '--steps', String(args.steps), '--seq', String(args.seq)];
}

function runOurs(
  args: Args,
  mode: Mode,
  size: string,
  child: string,
  threads: number,
  env?: NodeJS.ProcessEnv,
): Result | string {
  const flags = shapeFlags(args, mode, size, threads);
  const batches = ['--batch', String(args.batch), '--eval-batch', String(args.evalBatch)];
  return benchChild<Result>(['finetune', '--child', child, ...flags, ...batches], env);
}

function runTorch(
  args: Args,
  mode: Mode,
  size: string,
  python: string,
  threads: number,
): Result | string {
  const batch = batchOf(args, mode);
  const flags = [...shapeFlags(args, mode, size, threads), '--batch', String(batch)];
  const p = peerRun<Result & { peer: string }>(python, PEER, [...flags, '--labels', '2']);
  if (typeof p === 'string') return p;
  const { peer, ms_per_step, tokens_per_s, sequences_per_s } = p;
  const seq = args.seq;
  const timing = { ms_per_step, tokens_per_s, sequences_per_s };
  return { mode, size, variant: peer, backend: 'pytorch', threads, batch, seq, ...timing };
}

/** Every variant to time, in the order one round runs them: each mode, size and thread count. */
function plan(args: Args): Variant<Result>[] {
  const native = loadNativeKernels();
  const pythons = args.torch ? args.pythons : [];
  const variants: Variant<Result>[] = [];
  for (const mode of args.modes)
    for (const size of args.size.split(','))
      for (const t of args.threads) {
        const ours = (child: string, threads: number, env?: NodeJS.ProcessEnv) =>
          runOurs(args, mode, size, child, threads, env);
        const peer = (python: string) => runTorch(args, mode, size, python, t);
        const per = mode === 'step' ? 'step' : 'batch';
        for (const v of standardVariants<Result>(size, t, pythons, native, ours, peer))
          variants.push({ ...v, mode, per });
      }
  return variants;
}

const TITLES: Record<Mode, (args: Args) => string> = {
  step: (a) =>
    `Sequence-classification fine-tuning step (bert finetune glue/sst2), batch ${a.batch} × ${a.seq}, ${LABELS} labels, dropout 0.1, AdamW, clip 1.0`,
  forward: (a) =>
    `Inference forward (bert eval), batch ${a.evalBatch} × ${a.seq}, eval mode (no dropout, no gradients), classification logits`,
};

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.child) return runChild(args);
  const variants = plan(args);
  const peaks = runRounds(args, variants);
  const peakGflops = new Map([...peaks].map(([t, p]) => [t, p.gflops]));
  const sizes = args.size.split(',') as SizeName[];
  const tables = args.modes.map((mode) => {
    const batch = batchOf(args, mode);
    const shape = { batch, seq: args.seq, labels: LABELS };
    const count = mode === 'step' ? classificationStepFlops : classificationFlops;
    const flops = new Map(sizes.map((s) => [s, count(bertConfig(s), shape)]));
    const series = seriesOf(variants.filter((v) => v.mode === mode));
    const rows = assembleRows(series, {
      tokensPerStep: batch * args.seq,
      flopsPerStep: flops,
      peakGflops,
    });
    return { mode, flops, rows };
  });
  if (args.json) {
    peakJson(peaks);
    for (const { mode, rows } of tables)
      for (const r of rows)
        console.log(
          JSON.stringify({ row: { mode, ...r, sequencesPerS: r.tokensPerS / args.seq } }),
        );
    return;
  }
  for (const { mode, flops, rows } of tables)
    printTable(
      `${TITLES[mode](args)}; median of ${args.repeats} interleaved repeats (${args.steps} ${mode === 'step' ? 'steps' : 'batches'} each)`,
      flops,
      peaks,
      rows,
      { per: mode === 'step' ? 'step' : 'batch', seqLength: args.seq },
    );
}
