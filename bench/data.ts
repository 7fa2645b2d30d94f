/**
 * `npm run bench -- data [--shards DIR] [--corpus FILE] [--batches N] [--measure-trainer] [--json]`
 *
 * Throughput of the pretraining data pipeline: how fast the worker builds
 * batches (instances/s, tokens/s), what the transfer to the main thread
 * costs, and whether a trainer at the tiny and base sizes ever waits.
 *
 * The trainer's consumption rate for tiny (L2/H128) is the project's standard
 * figure — ~1.4 s per step of 16 × 128 on WASM — or, with --measure-trainer,
 * what bench/train.ts measures on this machine (5 steps, a minute or so);
 * base (L12/H768) is tiny scaled by the ratio of training FLOPs per sequence
 * (6 × multiply-adds of the encoder, attention and the masked-only MLM
 * decoder), since bench/train.ts does not run base.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildBatches } from '../src/data/batch.js';
import { PRETRAIN_DATA_DEFAULTS, type PretrainDataConfig } from '../src/data/config.js';
import { PretrainingLoader } from '../src/data/loader.js';
import { createPipeline } from '../src/data/pipeline.js';
import { openShards } from '../src/data/shards.js';
import { buildMaskingVocab, parseVocabText } from '../src/data/vocab.js';
import { shardCorpus } from '../src/tokenizer/shard-corpus.js';
import { Vocab } from '../src/tokenizer/vocab.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VOCAB = join(ROOT, 'data/vocab/bert-base-uncased/vocab.txt');
const DEFAULT_CORPUS = join(ROOT, '../shared/data/corpus/gutenberg_00.txt');

const BATCH = 16;
const SEQ = 128;
const TINY_WASM_STEP_S = 1.4; // standard figure for tiny, batch 16 × 128, WASM backend

interface Size {
  layers: number;
  hidden: number;
}
const SIZES: Record<'tiny' | 'base', Size> = {
  tiny: { layers: 2, hidden: 128 },
  base: { layers: 12, hidden: 768 },
};

/** Training FLOPs per sequence (forward + backward ≈ 3 × forward, 2 FLOPs per multiply-add). */
function flopsPerSequence(s: Size, T = SEQ, P = 20, V = 30522): number {
  const H = s.hidden;
  const encoder = T * s.layers * 12 * H * H; // QKV+O (4H²) + FFN (8H²) per token per layer
  const attention = s.layers * 2 * T * T * H; // scores and weighted sum
  const mlmHead = P * (H * H + H * V); // transform + tied decoder on masked positions only
  return 6 * (encoder + attention + mlmHead);
}

/**
 * With --measure-trainer: tiny's s/step on WASM from bench/train.ts (run in a
 * child process, a few steps); otherwise null and the standard figure is used.
 */
function measuredTinyStepS(): number | null {
  const index = fileURLToPath(new URL('./index.js', import.meta.url));
  const r = spawnSync(
    process.execPath,
    [index, 'train', '--size', 'tiny', '--json', '--no-torch', '--steps', '5'],
    { encoding: 'utf8' },
  );
  for (const line of r.stdout.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    const row = JSON.parse(line) as { backend?: string; variant?: string; ms_per_step?: number };
    if (row.backend === 'wasm' && row.variant?.startsWith('tuned') && row.ms_per_step) {
      return row.ms_per_step / 1000;
    }
  }
  console.error(`bench train gave no tuned WASM figure; using the standard one\n${r.stderr}`);
  return null;
}

function parseArgs(argv: string[]): {
  shards?: string;
  corpus: string;
  batches: number;
  json: boolean;
  measureTrainer: boolean;
} {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    shards: get('--shards'),
    corpus: get('--corpus') ?? DEFAULT_CORPUS,
    batches: Number(get('--batches') ?? 2000),
    json: argv.includes('--json'),
    measureTrainer: argv.includes('--measure-trainer'),
  };
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const vocabTokens = parseVocabText(readFileSync(VOCAB, 'utf8'));
  let dir = args.shards;
  let tmp: string | undefined;
  if (!dir) {
    tmp = mkdtempSync(join(tmpdir(), 'bert-bench-data-'));
    dir = tmp;
    const t0 = performance.now();
    await shardCorpus({
      inputs: [args.corpus],
      format: 'lines',
      vocab: new Vocab(vocabTokens),
      lowercase: true,
      outputDir: dir,
      workers: 'auto',
    });
    console.log(
      `tokenized ${args.corpus} into shards in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  try {
    const tinyStepS = args.measureTrainer ? measuredTinyStepS() : null;
    await measure(dir, vocabTokens, args.batches, args.json, tinyStepS);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

async function measure(
  dir: string,
  vocabTokens: string[],
  batches: number,
  json: boolean,
  measuredTinyS: number | null,
): Promise<void> {
  const config: PretrainDataConfig = {
    ...PRETRAIN_DATA_DEFAULTS,
    shards: dir,
    max_seq_length: SEQ,
  };
  const rows: Record<string, number | string>[] = [];
  /** The worker loader over the shards in `dir`, batches of BATCH, with `seed`. */
  const startLoader = (seed: number): PretrainingLoader =>
    PretrainingLoader.start({
      source: { kind: 'shards', dir },
      vocabTokens,
      config,
      seed,
      batchSize: BATCH,
    });

  // 1. In-thread builder (no worker): the raw cost of pairs + masking + batching.
  {
    const source = openShards(dir);
    const t0 = performance.now();
    const p = createPipeline(source, buildMaskingVocab(vocabTokens), config, 1);
    p.stream.epochPlan(0);
    const planMs = performance.now() - t0;
    const t1 = performance.now();
    let inst = 0;
    let tok = 0;
    let n = 0;
    for (const { batch } of buildBatches(p.stream, { epoch: 0, index: 0 }, BATCH, p.shape)) {
      inst += batch.batch_size;
      tok += batch.num_tokens;
      if (++n === batches) break;
    }
    const s = (performance.now() - t1) / 1000;
    rows.push({
      what: 'in-thread builder',
      instances_per_s: inst / s,
      tokens_per_s: tok / s,
      epoch_plan_ms: planMs,
      instances_per_epoch: p.stream.epochPlan(0).count,
    });
  }

  // 2. Worker loader drained as fast as possible: production and delivery rates.
  {
    const loader = startLoader(1);
    let n = 0;
    let t1 = 0;
    let inst = 0;
    let tok = 0;
    for await (const { batch } of loader) {
      if (n === 0) t1 = performance.now();
      else {
        inst += batch.batch_size;
        tok += batch.num_tokens;
      }
      if (++n === batches) break;
    }
    const s = (performance.now() - t1) / 1000;
    const st = loader.stats();
    rows.push({
      what: 'worker, drained',
      instances_per_s: st.instancesPerSec,
      tokens_per_s: st.tokensPerSec,
      delivered_instances_per_s: inst / s,
      delivered_tokens_per_s: tok / s,
      first_batch_ms: st.firstBatchMs,
      consumer_wait_ms: st.consumerWaitMs,
    });
  }

  // 3. Worker loader feeding a simulated trainer at tiny/WASM speed and at a
  //    20× faster one (tfjs-node or a GPU): does the trainer ever wait?
  for (const [label, stepS, steps] of [
    ['worker → tiny trainer (1.4 s/step)', TINY_WASM_STEP_S, 5],
    ['worker → fast trainer (70 ms/step)', TINY_WASM_STEP_S / 20, 60],
  ] as const) {
    const loader = startLoader(2);
    let n = 0;
    for await (const _ of loader) {
      await sleep(stepS * 1000);
      if (++n === steps) break;
    }
    const st = loader.stats();
    rows.push({
      what: label,
      steps,
      first_batch_ms: st.firstBatchMs,
      consumer_wait_ms: st.consumerWaitMs,
      waits: st.waits,
    });
  }

  // 4. Trainer consumption at the tiny and base sizes vs the worker's rate.
  const workerRate = Number(rows[1].instances_per_s);
  const ratio = flopsPerSequence(SIZES.base) / flopsPerSequence(SIZES.tiny);
  const tinyS = measuredTinyS ?? TINY_WASM_STEP_S;
  const tinySource = measuredTinyS
    ? 'measured by bench/train.ts (wasm, tuned)'
    : `standard figure ${TINY_WASM_STEP_S} s/step`;
  for (const [size, stepS] of [
    ['tiny', tinyS],
    ['base', tinyS * ratio],
  ] as const) {
    const need = BATCH / stepS;
    rows.push({
      what: `trainer ${size} (WASM, ${BATCH}x${SEQ})`,
      step_s: stepS,
      instances_per_s: need,
      tokens_per_s: need * SEQ,
      worker_headroom_x: workerRate / need,
      source: size === 'tiny' ? tinySource : `tiny × FLOP ratio ${ratio.toFixed(1)}`,
    });
  }

  if (json) {
    for (const r of rows) console.log(JSON.stringify({ suite: 'data', ...r }));
    return;
  }
  const fmt = (v: number | string | undefined): string =>
    v === undefined
      ? ''
      : typeof v === 'string'
        ? v
        : Number.isInteger(v) || v >= 100
          ? v.toFixed(0)
          : v.toFixed(2);
  for (const r of rows) {
    const { what, ...rest } = r;
    console.log(
      `${String(what).padEnd(40)} ${Object.entries(rest)
        .map(([k, v]) => `${k}=${fmt(v)}`)
        .join('  ')}`,
    );
  }
}
