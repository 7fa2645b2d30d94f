/**
 * Pretraining runs with `train.objective: mlm` (packed sequences, MLM loss
 * only) and with `data.heldout_corpus` (evaluation on separate files), on the
 * tiny model of test/helpers/tiny-pretrain.ts.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { PretrainConfig } from '../../../src/config/types.js';
import { trainingPipelineConfig } from '../../../src/data/config.js';
import { pretrain, type PretrainResult } from '../../../src/tasks/pretrain/pretrain.js';
import { latestCheckpoint } from '../../../src/train/checkpoint.js';
import { selectBackend, type BackendChoice } from '../../../src/backend/select.js';
import type { BertEvent, EvalEvent, StepEvent } from '../../../src/ui/events.js';
import { packageRoot } from '../../../src/paths.js';
import { loadVocab } from '../../../src/tokenizer/vocab.js';
import { tinyPretrainConfig, tinyPretrainRoot } from '../../helpers/tiny-pretrain.js';
import { bertBin, tinyPretrainSets } from '../../helpers/bert-cli.js';

const { root, shards } = tinyPretrainRoot('bert-objective-');
let backend: BackendChoice;

function config(extra: string[]): PretrainConfig {
  return tinyPretrainConfig(shards, ['train.log_every=1', 'train.warmup_steps=2', ...extra]);
}

async function run(
  runDir: string,
  cfg: PretrainConfig,
  o: { stopAt?: number; resume?: boolean } = {},
): Promise<{ result: PretrainResult; steps: StepEvent[]; evals: EvalEvent[] }> {
  const events: BertEvent[] = [];
  const result = await pretrain({
    config: cfg,
    runDir,
    resumeFrom: o.resume ? latestCheckpoint(runDir) : null,
    stopAtStep: o.stopAt ?? null,
    reporter: { emit: (e) => void events.push(e), close: async () => undefined },
    stopRequested: () => false,
    backend,
  });
  return {
    result,
    steps: events.filter((e): e is StepEvent => e.type === 'step'),
    evals: events.filter((e): e is EvalEvent => e.type === 'eval'),
  };
}

/** Two stretches of the sample corpus as a held-out corpus of two documents. */
function writeHeldoutCorpus(): string {
  const lines = readFileSync(join(packageRoot, 'data/corpus/sample.txt'), 'utf8').split('\n');
  const text = [...lines.slice(1000, 1150), '', ...lines.slice(3000, 3150)].join('\n');
  const path = join(root, 'heldout.txt');
  writeFileSync(path, `${text}\n`);
  return path;
}

before(async () => {
  backend = await selectBackend((process.env.BERT_TEST_BACKEND as 'wasm') ?? 'wasm');
  const { ensureShards } = await import('../../../src/train/shards.js');
  await ensureShards(config([]).data, { emit: () => undefined, close: async () => undefined });
});

test('objective mlm: a few steps on full-length packed sequences lower the MLM loss, no NSP anywhere', async () => {
  const { result, steps } = await run(
    join(root, 'mlm'),
    config([
      'train.objective=mlm',
      'train.max_steps=24',
      'train.lr=3e-3',
      'train.lr_schedule=constant',
      'train.save_every=null',
    ]),
  );
  assert.equal(result.status, 'completed');
  assert.equal(steps.length, 24);
  for (const s of steps) {
    assert.equal(s.nsp_loss, undefined);
    assert.equal(s.nsp_accuracy, undefined);
    assert.ok(Math.abs(s.loss - s.mlm_loss!) < 1e-6);
  }
  const mean = (xs: StepEvent[]): number => xs.reduce((a, s) => a + s.loss, 0) / xs.length;
  const first = mean(steps.slice(0, 4));
  const last = mean(steps.slice(-4));
  assert.ok(last < first - 1, `MLM loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
});

test('objective mlm: 2N steps straight equal N steps + resume + N steps', async () => {
  const cfg = config(['train.objective=mlm', 'train.max_steps=6', 'train.save_every=3']);
  const straight = await run(join(root, 'straight'), cfg);
  const dir = join(root, 'split');
  const a = await run(dir, cfg, { stopAt: 3 });
  const b = await run(dir, cfg, { resume: true });
  assert.equal(b.result.step, 6);
  const losses = straight.steps.map((s) => s.loss);
  assert.deepEqual(
    [...a.steps, ...b.steps].map((s) => s.loss),
    losses,
  );
  assert.notEqual(losses[0], losses[5]);
});

test('data.heldout_corpus: held-out batches come from those files, fixed across evaluations', async () => {
  const heldout = writeHeldoutCorpus();
  for (const objective of ['mlm', 'mlm+nsp'] as const) {
    const cfg = config([
      `train.objective=${objective}`,
      `data.heldout_corpus=[${heldout}]`,
      'data.heldout_fraction=0.3', // ignored: the held-out set is the file
      'train.max_steps=4',
      'train.eval_every=2',
      'train.eval_batches=3',
      // A negligible step: the model barely moves, so equal metrics mean equal batches.
      'train.lr=1e-12',
      'train.save_every=null',
    ]);
    assert.equal(trainingPipelineConfig(cfg).heldout_fraction, 0, 'all corpus documents train');
    const { evals } = await run(join(root, `heldout-${objective}`), cfg);
    assert.deepEqual(
      evals.map((e) => [e.split, e.step]),
      [
        ['heldout', 2],
        ['heldout', 4],
      ],
    );
    const keys = Object.keys(evals[0].metrics).sort();
    assert.deepEqual(
      keys,
      objective === 'mlm'
        ? ['cls_mean_cosine', 'distinct_top_predictions', 'loss', 'mlm_accuracy', 'mlm_loss']
        : [
            'cls_mean_cosine',
            'distinct_top_predictions',
            'loss',
            'mlm_accuracy',
            'mlm_loss',
            'nsp_accuracy',
            'nsp_loss',
          ],
    );
    const [e1, e2] = evals.map((e) => e.metrics);
    for (const k of keys) assert.ok(Math.abs(e1[k] - e2[k]) < 1e-4, `${k}: ${e1[k]} vs ${e2[k]}`);
    assert.ok(e1.distinct_top_predictions >= 1);
    assert.ok(Number.isInteger(e1.distinct_top_predictions));
  }
});

test('data.heldout_corpus naming a missing file is one clear error', async () => {
  const cfg = config([`data.heldout_corpus=[${join(root, 'nope.txt')}]`, 'train.eval_every=2']);
  await assert.rejects(
    run(join(root, 'missing'), cfg),
    /data\.heldout_corpus: .*nope\.txt: no such file/,
  );
});

test('the CLI: metrics.jsonl carries the held-out distinct_top_predictions; data inspect shows packed sequences', () => {
  const dir = join(root, 'cli');
  const sets = tinyPretrainSets(shards, [
    'train.objective=mlm',
    'data.heldout_fraction=0.34',
    'train.max_steps=2',
    'train.eval_every=2',
    'train.eval_batches=2',
  ]);
  const backend = process.env.BERT_TEST_BACKEND ?? 'wasm';
  const args = ['pretrain', '--ui', 'json', '--backend', backend, '--run', dir, ...sets];
  const r = spawnSync(process.execPath, [bertBin, ...args], { encoding: 'utf8', cwd: packageRoot });
  assert.equal(r.status, 0, r.stderr);
  const events = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as BertEvent);
  const evals = events.filter((e): e is EvalEvent => e.type === 'eval');
  assert.equal(evals.length, 1);
  assert.equal(evals[0].split, 'heldout');
  assert.ok(Number.isInteger(evals[0].metrics.distinct_top_predictions));
  assert.ok(evals[0].metrics.distinct_top_predictions >= 1);
  assert.equal(evals[0].metrics.nsp_loss, undefined);

  const inspect = spawnSync(
    process.execPath,
    [bertBin, 'data', 'inspect', '--json', '-n', '3', ...sets],
    { encoding: 'utf8', cwd: packageRoot },
  );
  assert.equal(inspect.status, 0, inspect.stderr);
  const records = inspect.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { tokens: string[]; token_type_ids: number[] });
  assert.equal(records.length, 3);
  for (const rec of records) {
    assert.equal(rec.tokens.length, 32, 'full max_seq_length sequences');
    assert.ok(!('is_random_next' in rec));
    assert.ok(rec.token_type_ids.every((t) => t === 0));
  }

  // --split heldout with data.heldout_corpus shows the held-out files' text.
  const heldout = join(root, 'zebra.txt');
  const doc = Array.from({ length: 20 }, (_, i) => `the zebra number ${i} plays the xylophone .`);
  writeFileSync(heldout, `${doc.join('\n')}\n\n${doc.join('\n')}\n`);
  const fromFile = spawnSync(
    process.execPath,
    [
      bertBin,
      'data',
      'inspect',
      '--json',
      '-n',
      '2',
      '--split',
      'heldout',
      ...sets,
      '--set',
      `data.heldout_corpus=[${heldout}]`,
    ],
    { encoding: 'utf8', cwd: packageRoot },
  );
  assert.equal(fromFile.status, 0, fromFile.stderr);
  const zebra = loadVocab(
    join(packageRoot, 'data/vocab/bert-base-uncased/vocab.txt'),
  ).tokens.indexOf('zebra');
  assert.ok(zebra > 0);
  for (const line of fromFile.stdout.trim().split('\n')) {
    const rec = JSON.parse(line) as { original_ids: number[] };
    assert.ok(rec.original_ids.includes(zebra), 'a held-out sequence from the held-out file');
  }
});
