/**
 * The regression pipeline, one stage after another in one run directory:
 *
 *   runs/<name>/pretrain/   pretrain (shards tokenized on first use, else reused)
 *   runs/<name>/finetune/   fine-tune the task from pretrain's last checkpoint
 *   runs/<name>/eval/       `bert eval` of finetune's last checkpoint on dev
 *   runs/<name>/report.json the metrics and timings below
 *
 * Each stage directory is an ordinary run (config.resolved.yaml, run.json,
 * metrics.jsonl), so `bert plot` and `bert eval` work on it. Metrics are read
 * from the stages' results and events, named `<stage>.<metric>`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pretrain } from '../tasks/pretrain/pretrain.js';
import { writeRunFiles, finishRunFile, runInfo } from '../train/run-dir.js';
import type { BackendChoice } from '../backend/select.js';
import { MetricsFileReporter } from '../ui/metrics-file.js';
import { TeeReporter } from '../ui/tee.js';
import { now, type BertEvent, type Reporter, type StepEvent } from '../ui/events.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { UserError } from '../errors.js';
import type { Metrics } from './compare.js';
import type { RegressionConfig } from './config.js';
import { BASELINE_FORMAT, type RegressionReport } from './report.js';

/** The file that marks a directory as a `bert ci` run, so it may be replaced without --force. */
export const REPORT_FILE = 'report.json';

export interface RegressionOptions {
  config: RegressionConfig;
  runDir: string;
  backend: BackendChoice;
  /**
   * A fresh UI reporter for each stage (so one stage's running averages do not leak into the
   * next); each stage's events also go to its own metrics.jsonl. Closed at the stage's end.
   */
  ui: () => Reporter;
  stopRequested: () => boolean;
  argv: string[];
}

/**
 * Make `dir` empty for a new regression run. A previous `bert ci` run there
 * (it has report.json or only stage folders) is replaced; anything else
 * needs `force`.
 */
export async function prepareCiRunDir(dir: string, force: boolean): Promise<string> {
  const path = resolve(dir);
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) throw new UserError(`${dir}: exists and is not a directory`);
    const entries = readdirSync(path);
    const ours = entries.every((e) => ['pretrain', 'finetune', 'eval', REPORT_FILE].includes(e));
    if (entries.length > 0 && !ours && !force) {
      throw new UserError(
        `${dir}: exists and is not a bert ci run directory; pass --force to replace it`,
      );
    }
    await rm(path, { recursive: true, force: true });
  }
  await mkdir(path, { recursive: true });
  return path;
}

/** A stage's reporter: UI + the stage's metrics.jsonl + `onEvent`. */
function stageReporter(ui: Reporter, dir: string, onEvent: (e: BertEvent) => void): Reporter {
  return new TeeReporter([
    ui,
    MetricsFileReporter.forRunDir(dir),
    { emit: onEvent, close: async () => {} },
  ]);
}

function prefixed(stage: string, values: Record<string, number>): Metrics {
  const out: Metrics = {};
  for (const [k, v] of Object.entries(values)) {
    // grad_norm has no better direction; it is in metrics.jsonl for those who want it.
    if (k === 'grad_norm' || typeof v !== 'number') continue;
    out[`${stage}.${k}`] = v;
  }
  return out;
}

const seconds = (fromMs: number): number => Math.round((performance.now() - fromMs) / 10) / 100;

export async function runRegression(o: RegressionOptions): Promise<RegressionReport> {
  const { config, runDir, backend } = o;
  const info = runInfo('ci', o.argv, backend);
  const metrics: Metrics = {};
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  const log = (r: Reporter, message: string): void => r.emit({ type: 'log', time: now(), message });
  const end = (r: Reporter, stage: string, status: string, step: number, startMs: number): void =>
    r.emit({
      type: 'run_end',
      time: now(),
      status: status as 'completed' | 'stopped' | 'failed',
      step,
      elapsed_s: seconds(startMs),
      summary: Object.fromEntries(
        Object.entries(metrics).filter(([k]) => k.startsWith(`${stage}.`)),
      ),
      outputs: { run: join(runDir, stage) },
    });
  let status: RegressionReport['status'] = 'completed';

  // Stage 1: pretraining.
  const pretrainDir = join(runDir, 'pretrain');
  await mkdir(pretrainDir, { recursive: true });
  await writeRunFiles(pretrainDir, config.pretrain, runInfo('pretrain', o.argv, backend), 'new');
  let t = performance.now();
  const pre = stageReporter(o.ui(), pretrainDir, () => {});
  log(pre, `ci: pretrain (${config.ci.pretrain}) → ${pretrainDir}`);
  const pretrained = await pretrain({
    config: config.pretrain,
    runDir: pretrainDir,
    resumeFrom: null,
    stopAtStep: null,
    reporter: pre,
    stopRequested: o.stopRequested,
    backend,
  }).catch(async (err: unknown) => {
    await pre.close();
    throw err;
  });
  await finishRunFile(pretrainDir, pretrained.status);
  timings.pretrain_s = seconds(t);
  Object.assign(metrics, prefixed('pretrain', pretrained.finalMetrics));
  end(pre, 'pretrain', pretrained.status, pretrained.step, t);
  await pre.close();
  if (pretrained.status !== 'completed') status = pretrained.status;
  else if (!pretrained.lastCheckpoint) status = 'failed';

  // Stage 2: fine-tuning from the last pretraining checkpoint.
  let finetuned: string | null = null;
  if (status === 'completed' && pretrained.lastCheckpoint) {
    const finetuneDir = join(runDir, 'finetune');
    await mkdir(finetuneDir, { recursive: true });
    const ftConfig = {
      ...config.finetune,
      task: config.task.name,
      from: pretrained.lastCheckpoint,
    };
    await writeRunFiles(finetuneDir, ftConfig, runInfo('finetune', o.argv, backend), 'new');
    t = performance.now();
    let lastStep: StepEvent | null = null;
    const evals = new Map<string, { step: number; metrics: Record<string, number> }>();
    const ft = stageReporter(o.ui(), finetuneDir, (e) => {
      if (e.type === 'step') lastStep = e;
      if (e.type === 'eval') evals.set(e.split, { step: e.step, metrics: e.metrics });
    });
    log(ft, `ci: finetune ${config.task.name} (${config.ci.finetune}) → ${finetuneDir}`);
    const result = await config.task
      .finetune({
        config: ftConfig,
        runDir: finetuneDir,
        stopAtStep: null,
        reporter: ft,
        stopRequested: o.stopRequested,
        backend,
      })
      .catch(async (err: unknown) => {
        await ft.close();
        throw err;
      });
    await finishRunFile(finetuneDir, result.status);
    timings.finetune_s = seconds(t);
    const final = lastStep as StepEvent | null;
    if (final) {
      metrics['finetune.loss'] = final.loss;
      if (final.accuracy !== undefined) metrics['finetune.train_accuracy'] = final.accuracy;
    }
    // The last evaluation (of the last step), not the best: a regression run measures where training ends.
    for (const [split, e] of evals) {
      if (e.step !== result.step) continue;
      for (const [k, v] of Object.entries(e.metrics)) metrics[`finetune.${split}_${k}`] = v;
    }
    end(ft, 'finetune', result.status, result.step, t);
    await ft.close();
    if (result.status !== 'completed') status = result.status;
    else if (!result.lastCheckpoint) status = 'failed';
    else finetuned = result.lastCheckpoint;
  }

  // Stage 3: `bert eval` of the fine-tuned checkpoint, read back from disk.
  if (status === 'completed' && finetuned) {
    const evalDir = join(runDir, 'eval');
    const ui = o.ui();
    log(ui, `ci: eval ${finetuned} on dev → ${evalDir}`);
    t = performance.now();
    try {
      const results = await config.task.evaluate({
        checkpoint: finetuned,
        split: 'dev',
        dataDir: config.finetune.data_dir ?? undefined,
        outDir: evalDir,
        batchSize: config.finetune.train.eval_batch_size,
      });
      timings.eval_s = seconds(t);
      for (const r of results) {
        for (const [k, v] of Object.entries(r.metrics)) metrics[`eval.${r.split}_${k}`] = v;
        log(ui, `ci: eval ${r.split}: ${r.examples} examples, ${JSON.stringify(r.metrics)}`);
      }
    } finally {
      await ui.close();
    }
  }
  timings.total_s = seconds(t0);

  const report: RegressionReport = {
    format: BASELINE_FORMAT,
    name: config.ci.name,
    config: config.file,
    status,
    backend: backend.backend,
    versions: info.versions,
    git_sha: info.git_sha,
    host: info.host,
    started: info.started,
    metrics,
    timings,
  };
  await writeJsonAtomic(join(runDir, REPORT_FILE), report);
  return report;
}
