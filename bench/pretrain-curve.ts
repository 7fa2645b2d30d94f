/**
 * `npm run bench -- pretrain-curve [--config configs/pretrain/tiny.yaml] [--corpus a.txt,b.txt]
 *   [--lr 1e-3] [--steps 1000] [--schedule-steps N] [--warmup-steps 20] [--batch-size 32]
 *   [--hf-seeds 2] [--every 50] [--python PY] [--out DIR] [--set key=value]… [--backend B]`
 *
 * Our learning curve against HuggingFace's on the same instances. Strictly one
 * after another:
 *  1. `bert pretrain` with the config and `train.bias_correction=true`, the lr,
 *     warm-up, batch and schedule length given, logging every step
 *     (`<out>/ours/metrics.jsonl`);
 *  2. `bert data inspect --json` with the same config and seed: the instances
 *     that run consumed, in order (`<out>/instances.jsonl`);
 *  3. bench/hf/pretrain_curve.py (HF BertForPreTraining, torch AdamW) on them,
 *     once per seed 1..--hf-seeds, with the optimizer settings read back from
 *     our run's config.resolved.yaml (betas, epsilon, weight decay, clipping,
 *     dropout).
 * Prints train MLM loss, MLM accuracy and NSP loss averaged per --every steps
 * side by side, and writes `<out>/curves.json` and `<out>/curves.svg` (the
 * `bert plot` renderer: colour = metric, dash = ours / HF seed).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { buildSpec, renderSvg } from '../src/plot/plot.js';
import type { RunMetrics, Series } from '../src/plot/metrics.js';
import {
  BERT_BIN,
  hfScript,
  jsonLines,
  parseFlags,
  resolvePython,
  runBert,
  runStep,
} from './hf-run.js';

const SUITE = 'pretrain-curve';

/** One row of a curve: per-step values averaged over the `every` steps ending at `step`. */
export interface CurveRow {
  step: number;
  mlm_loss: number;
  nsp_loss: number;
  mlm_accuracy: number;
  nsp_accuracy: number;
}

interface StepRecord {
  type: string;
  step: number;
  mlm_loss?: number;
  nsp_loss?: number;
  mlm_accuracy?: number;
  nsp_accuracy?: number;
}

/** Average per-step metrics over consecutive windows of `every` steps (the last window may be shorter). */
export function windowMeans(steps: readonly StepRecord[], every: number, last: number): CurveRow[] {
  const byStep = new Map<number, StepRecord>();
  for (const s of steps) if (s.type === 'step') byStep.set(s.step, s); // a resumed step: the later value
  const rows: CurveRow[] = [];
  for (let end = every; end - every < last; end += every) {
    const stop = Math.min(end, last);
    const window = [...byStep.values()].filter((s) => s.step > end - every && s.step <= stop);
    if (window.length === 0) continue;
    const mean = (k: keyof CurveRow): number =>
      window.reduce((a, s) => a + Number(s[k] ?? NaN), 0) / window.length;
    rows.push({
      step: stop,
      mlm_loss: mean('mlm_loss'),
      nsp_loss: mean('nsp_loss'),
      mlm_accuracy: mean('mlm_accuracy'),
      nsp_accuracy: mean('nsp_accuracy'),
    });
  }
  return rows;
}

function seriesOf(source: string, rows: readonly CurveRow[]): Series[] {
  const metric = (key: keyof CurveRow, panel: 'loss' | 'accuracy'): Series => ({
    name: `${source} ${key}`,
    metric: key,
    source,
    panel,
    kind: 'train',
    points: rows.map((r) => ({ step: r.step, value: r[key] })),
  });
  return [
    metric('mlm_loss', 'loss'),
    metric('nsp_loss', 'loss'),
    metric('mlm_accuracy', 'accuracy'),
  ];
}

const pct = (x: number | undefined): string => (x === undefined ? '' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | undefined): string => (x === undefined ? '' : x.toFixed(3));

export async function run(argv: string[]): Promise<void> {
  const a = parseFlags(SUITE, argv, {
    config: 'configs/pretrain/tiny.yaml',
    corpus: '',
    lr: 1e-3,
    steps: 1000,
    'schedule-steps': 0,
    'warmup-steps': 20,
    'batch-size': 32,
    'hf-seeds': 2,
    every: 50,
    python: '',
    out: 'runs/bench-pretrain-curve',
    set: [] as string[],
    backend: 'auto',
    threads: 2,
  });
  const python = resolvePython(a.python || null, SUITE);
  const scheduleSteps = a['schedule-steps'] || a.steps;
  const oursDir = join(a.out, 'ours');
  mkdirSync(a.out, { recursive: true });

  const dataSets = [...a.set];
  if (a.corpus) dataSets.push(`data.corpus=[${a.corpus}]`);
  const trainSets = [
    `train.lr=${a.lr}`,
    `train.max_steps=${scheduleSteps}`,
    `train.warmup_steps=${a['warmup-steps']}`,
    `train.batch_size=${a['batch-size']}`,
    'train.micro_batch_size=null',
    'train.lr_schedule=linear',
    'train.bias_correction=true',
    'train.log_every=1',
    'train.eval_every=null',
  ];
  const sets = (xs: string[]): string[] => xs.flatMap((s) => ['--set', s]);

  // A curve per step needs a step schedule: a wall-clock budget (train.budget_minutes) would make
  // our learning rate follow time instead.
  const file = parseYaml(readFileSync(a.config, 'utf8')) as { train?: Record<string, unknown> };
  const budgetOverride = a.set.find((s) => s.startsWith('train.budget_minutes='));
  if (
    file.train?.budget_minutes !== undefined &&
    file.train.budget_minutes !== null &&
    budgetOverride !== 'train.budget_minutes=null'
  ) {
    throw new Error(
      `bench ${SUITE}: ${a.config}: train.budget_minutes is set; add --set train.budget_minutes=null (the curve compares step schedules)`,
    );
  }

  // 1. Ours.
  runBert('bert pretrain', [
    'pretrain',
    '--config',
    a.config,
    ...sets([...dataSets, ...trainSets]),
    '--max-steps',
    String(a.steps),
    '--run',
    oursDir,
    '--force',
    '--ui',
    'plain',
    '--backend',
    a.backend,
    '--threads',
    String(a.threads),
  ]);
  const resolved = parseYaml(readFileSync(join(oursDir, 'config.resolved.yaml'), 'utf8')) as {
    model: Record<string, unknown>;
    data: Record<string, unknown>;
    train: Record<string, number | null>;
  };
  if (resolved.model.layer_norm === 'pre' || (resolved.train.objective as unknown) === 'mlm') {
    throw new Error(
      `bench ${SUITE}: the HF side is post-LN BertForPreTraining with MLM+NSP; this config is not`,
    );
  }
  const ours = windowMeans(
    jsonLines<StepRecord>(readFileSync(join(oursDir, 'metrics.jsonl'), 'utf8')),
    a.every,
    a.steps,
  );

  // 2. The instances that run consumed (same config, same seed, epoch 0 of the training split).
  const instances = join(a.out, 'instances.jsonl');
  const text = runStep('bert data inspect', process.execPath, [
    BERT_BIN,
    'data',
    'inspect',
    '--config',
    a.config,
    ...sets([...dataSets, ...trainSets]),
    '-n',
    String(a.steps * a['batch-size']),
    '--json',
  ]);
  writeFileSync(instances, text);

  // 3. HF, once per seed, with our run's optimizer settings.
  const vocabSize = readFileSync(String(resolved.data.vocab), 'utf8')
    .split('\n')
    .filter(Boolean).length;
  const t = resolved.train;
  const hf: Record<string, CurveRow[]> = {};
  for (let seed = 1; seed <= a['hf-seeds']; seed++) {
    const out = runStep(`pretrain_curve.py seed ${seed}`, python, [
      hfScript('pretrain_curve.py'),
      '--instances',
      instances,
      '--size',
      String(resolved.model.size),
      '--vocab-size',
      String(resolved.model.vocab_size ?? vocabSize),
      '--steps',
      String(a.steps),
      '--schedule-steps',
      String(scheduleSteps),
      '--batch-size',
      String(a['batch-size']),
      '--lr',
      String(a.lr),
      '--warmup-steps',
      String(a['warmup-steps']),
      '--beta1',
      String(t.adam_beta1),
      '--beta2',
      String(t.adam_beta2),
      '--eps',
      String(t.adam_epsilon),
      '--weight-decay',
      String(t.weight_decay),
      '--max-grad-norm',
      String(t.max_grad_norm ?? 0),
      '--dropout',
      String(resolved.model.hidden_dropout_prob),
      '--seed',
      String(seed),
      '--threads',
      String(a.threads),
      '--every',
      String(a.every),
      '--jsonl',
    ]);
    hf[`hf seed ${seed}`] = jsonLines<CurveRow>(out);
  }

  // Table, JSON, picture.
  const sources: [string, CurveRow[]][] = [['ours', ours], ...Object.entries(hf)];
  const header = [
    'step',
    ...sources.map(([s]) => `${s} mlm`),
    ...sources.map(([s]) => `${s} acc`),
    ...sources.map(([s]) => `${s} nsp`),
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---:').join('|')}|`];
  for (const r of ours) {
    const at = (rows: CurveRow[]): CurveRow | undefined => rows.find((x) => x.step === r.step);
    lines.push(
      `| ${[
        r.step,
        ...sources.map(([, rows]) => num(at(rows)?.mlm_loss)),
        ...sources.map(([, rows]) => pct(at(rows)?.mlm_accuracy)),
        ...sources.map(([, rows]) => num(at(rows)?.nsp_loss)),
      ].join(' | ')} |`,
    );
  }
  console.log(
    `\ntrain curves, mean per ${a.every} steps (lr ${a.lr}, warm-up ${a['warmup-steps']}, ` +
      `linear decay over ${scheduleSteps}, batch ${a['batch-size']}, bias correction on both sides)`,
  );
  console.log(lines.join('\n'));
  const settings = {
    config: a.config,
    corpus: resolved.data.corpus,
    lr: a.lr,
    steps: a.steps,
    schedule_steps: scheduleSteps,
    warmup_steps: a['warmup-steps'],
    batch_size: a['batch-size'],
    every: a.every,
    train: t,
  };
  writeFileSync(join(a.out, 'curves.json'), JSON.stringify({ settings, ours, hf }, null, 1) + '\n');
  const metrics: RunMetrics = {
    start: null,
    steps: a.steps,
    series: sources.flatMap(([s, rows]) => seriesOf(s === 'ours' ? 'bert (ours)' : s, rows)),
  };
  writeFileSync(
    join(a.out, 'curves.svg'),
    await renderSvg(buildSpec(metrics, `ours vs HF BertForPreTraining · lr ${a.lr}`)),
  );
  console.log(`\nwrote ${join(a.out, 'curves.json')} and ${join(a.out, 'curves.svg')}`);
}
