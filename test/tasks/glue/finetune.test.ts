import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig } from '../../../src/config/load.js';
import type { FinetuneConfig } from '../../../src/config/types.js';
import { finetune, type FinetuneResult } from '../../../src/tasks/glue/finetune.js';
import { evaluateCheckpoint } from '../../../src/tasks/registry.js';
import { findGlueTask } from '../../../src/tasks/glue/tasks.js';
import { selectBackend, type BackendChoice } from '../../../src/backend/select.js';
import type { BertEvent, Reporter } from '../../../src/ui/events.js';
import { packageRoot } from '../../../src/paths.js';

const root = mkdtempSync(join(tmpdir(), 'bert-finetune-'));
let backend: BackendChoice;
const SMALL = [
  'from=none',
  'model.hidden_size=32',
  'model.num_hidden_layers=1',
  'model.num_attention_heads=2',
  'model.intermediate_size=64',
  `data_dir=${join(packageRoot, 'data/glue')}`,
  'max_seq_length=64',
  'max_train_examples=96',
  'train.batch_size=16',
  'train.max_steps=6',
  'train.lr=1e-3',
  'train.log_every=1',
];

before(async () => {
  backend = await selectBackend((process.env.BERT_TEST_BACKEND as 'wasm') ?? 'wasm');
});

function config(extra: string[] = []): FinetuneConfig {
  return loadConfig<FinetuneConfig>('finetune', join(packageRoot, 'configs/finetune/glue.yaml'), {
    sets: [...SMALL, ...extra],
  }).config;
}

/** Fine-tune `task` into <root>/<name> with the small config plus `sets`; events are collected. */
async function tune(
  name: string,
  task: string,
  sets: string[],
  o: { reporter?: Reporter; stopAtStep?: number } = {},
): Promise<{ result: FinetuneResult; events: BertEvent[]; runDir: string }> {
  const events: BertEvent[] = [];
  const runDir = join(root, name);
  const result = await finetune({
    config: config(sets),
    task: findGlueTask(task)!,
    runDir,
    stopAtStep: o.stopAtStep ?? null,
    reporter: o.reporter ?? { emit: (e) => void events.push(e), close: async () => undefined },
    stopRequested: () => false,
    backend,
  });
  return { result, events, runDir };
}

test('fine-tuning SST-2 keeps the best dev checkpoint, and eval reproduces its score', async () => {
  const { result, events, runDir } = await tune('sst2', 'glue/sst2', ['train.eval_every=3']);
  assert.equal(result.status, 'completed');
  assert.equal(result.step, 6);
  const evals = events.filter((e) => e.type === 'eval');
  assert.equal(evals.length, 2, 'evaluated at steps 3 and 6');
  assert.ok(result.best && result.bestCheckpoint);
  const devAcc = result.best.metrics.dev.accuracy!;
  assert.ok(devAcc > 0.3 && devAcc < 0.8, `plausible accuracy ${devAcc}`);
  const cfg = JSON.parse(readFileSync(join(result.bestCheckpoint, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.architectures, ['BertForSequenceClassification']);
  assert.deepEqual(cfg.id2label, { '0': '0', '1': '1' });
  assert.equal(cfg.bert.task, 'sst2');
  assert.equal(realpathSync(join(runDir, 'checkpoints/best')), realpathSync(result.bestCheckpoint));

  const [dev] = await evaluateCheckpoint({
    checkpoint: result.bestCheckpoint,
    split: 'dev',
    outDir: join(root, 'predictions'),
  });
  assert.equal(dev.examples, 872);
  assert.equal(dev.metrics.accuracy, devAcc, 'eval on the same dev set gives the same accuracy');
  const lines = readFileSync(dev.predictions, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'index\tprediction');
  assert.equal(lines.length, 873);
  assert.ok(lines.slice(1).every((l, i) => new RegExp(`^${i}\\t[01]$`).test(l)));
});

test('bert eval --json prints one object per split with the GLUE-submission path', () => {
  const r = spawnSync(
    process.execPath,
    [
      join(packageRoot, 'bin/bert.js'),
      'eval',
      '--checkpoint',
      join(root, 'sst2'),
      '--json',
      '--backend',
      backend.backend,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const obj = JSON.parse(r.stdout.trim());
  assert.deepEqual(Object.keys(obj).sort(), [
    'examples',
    'metrics',
    'predictions',
    'split',
    'task',
  ]);
  assert.equal(obj.task, 'sst2');
  assert.match(obj.predictions, /predictions\/dev\/SST-2\.tsv$/);
});

test('STS-B trains a regression head and reports Pearson/Spearman', async () => {
  const { result } = await tune('stsb', 'stsb', [
    // The shipped GLUE sample (10 STS-B train and dev rows).
    `data_dir=${join(packageRoot, 'test/fixtures/glue')}`,
    'train.batch_size=4',
    'train.max_steps=2',
  ]);
  const m = result.best!.metrics.dev;
  assert.ok(Number.isFinite(m.pearson) && Number.isFinite(m.spearman), JSON.stringify(m));
  assert.ok(Math.abs(m.pearson!) <= 1 && Math.abs(m.spearman!) <= 1);
});

test('a missing train split is a clear error', async () => {
  await assert.rejects(
    tune('mrpc', 'mrpc', [`data_dir=${join(packageRoot, 'data/glue')}`]),
    /glue\/mrpc: train\.tsv not found/,
  );
});

test('weights that blow up end a GLUE run as failed with one warning, and nothing is saved', async () => {
  // One update at this rate overflows float32: the first checkpoint would hold Inf. Uncorrected
  // Adam's first update is 3.2x the rate (a corrected one is at most 1x: 3e38 stays finite).
  const { result, events, runDir } = await tune('blow-up', 'glue/sst2', [
    'train.lr=3e38',
    'train.bias_correction=false',
    'train.warmup_steps=0',
    'train.lr_schedule=constant',
    'train.max_grad_norm=null',
    'train.eval_every=1',
  ]);
  assert.equal(result.status, 'failed');
  assert.equal(result.step, 1);
  const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0], /^train\.bias_correction is false: /, 'the start-up warning');
  assert.match(warnings[1], /^weights became non-finite .* at step 1: stopping without saving/);
  assert.equal(events.filter((e) => e.type === 'checkpoint').length, 0);
  assert.equal(existsSync(join(runDir, 'checkpoints', 'step-1')), false);
});

test('metrics are flushed before every checkpoint is published, after the events of its step', async () => {
  const log: string[] = [];
  await tune('flush', 'glue/sst2', ['train.eval_every=2', 'train.log_every=100'], {
    stopAtStep: 4,
    reporter: {
      emit: (e) => void log.push(e.type === 'checkpoint' ? `checkpoint ${e.step}` : e.type),
      flush: () => void log.push('flush'),
      close: async () => undefined,
    },
  });
  const checkpoints = log.flatMap((l, i) => (l.startsWith('checkpoint') ? [i] : []));
  assert.equal(checkpoints.length, 2, log.join(', '));
  for (const i of checkpoints) {
    assert.equal(log[i - 1], 'flush', `flush right before ${log[i]}`);
    assert.equal(log[i - 2], 'eval', `the step's eval event is written before ${log[i]}`);
  }
});
