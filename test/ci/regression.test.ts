/**
 * `bert ci` end to end on a miniature pipeline (L1/H32, seq 32, a few steps,
 * a 32-sentence SST-2): record a baseline, re-run and match it exactly, then
 * break training through config (lr × 100) and see the table fail the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import type { CiOutput, RegressionReport } from '../../src/ci/report.js';

const bin = join(packageRoot, 'bin', 'bert.js');
const backend = process.env.BERT_TEST_BACKEND ?? 'wasm';

function bert(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: packageRoot,
    env: { ...process.env, CI: 'true' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A few hundred lines of each of the sample's documents, and the head of SST-2. */
function miniatureData(dir: string): { corpus: string; glue: string } {
  const docs = readFileSync(join(packageRoot, 'data/corpus/sample.txt'), 'utf8')
    .split(/\n\s*\n/)
    .filter((d) => d.trim() !== '');
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(
    corpus,
    docs.map((d) => d.split('\n').slice(0, 120).join('\n')).join('\n\n') + '\n',
  );
  const glue = join(dir, 'glue');
  mkdirSync(join(glue, 'SST-2'), { recursive: true });
  for (const [split, n] of [
    ['train', 33],
    ['dev', 33],
  ] as const) {
    const lines = readFileSync(join(packageRoot, `data/glue/SST-2/${split}.tsv`), 'utf8').split(
      '\n',
    );
    writeFileSync(join(glue, 'SST-2', `${split}.tsv`), lines.slice(0, n).join('\n') + '\n');
  }
  return { corpus, glue };
}

function miniatureConfig(dir: string): string {
  const { corpus, glue } = miniatureData(dir);
  const pretrain = join(dir, 'pretrain.yaml');
  writeFileSync(
    pretrain,
    `name: ci-mini-pretrain
model: { size: tiny, hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: 64, max_position_embeddings: 32 }
data:
  corpus: [${JSON.stringify(corpus)}]
  shards: ${JSON.stringify(join(dir, 'shards'))}
  vocab: data/vocab/bert-base-uncased/vocab.txt
  max_seq_length: 32
  max_predictions_per_seq: 5
  heldout_fraction: 0.3
train: { batch_size: 4, max_steps: 8, lr: 5.0e-3, warmup_ratio: 0.25, bias_correction: false, seed: 7, log_every: 4, eval_every: 8, eval_batches: 2, save_every: null, keep_last: 1 }
`,
  );
  const finetune = join(dir, 'finetune.yaml');
  writeFileSync(
    finetune,
    `name: ci-mini-finetune
data_dir: ${JSON.stringify(glue)}
max_seq_length: 32
train: { batch_size: 8, epochs: 1, lr: 1.0e-3, bias_correction: false, seed: 7, log_every: 2, keep_last: 1 }
`,
  );
  const ci = join(dir, 'ci.yaml');
  writeFileSync(
    ci,
    `name: ci-mini
pretrain: ${JSON.stringify(pretrain)}
finetune: ${JSON.stringify(finetune)}
task: glue/sst2
tolerances:
  pretrain.heldout_mlm_loss: 0.05
  pretrain.mlm_loss: 0.1
  eval.dev_accuracy: 0.05
`,
  );
  return ci;
}

test('bert ci: baseline, identical re-run, and lr x 100 through config fails with a readable table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bert-ci-e2e-'));
  const ci = miniatureConfig(dir);
  const run = join(dir, 'run');
  const common = ['ci', '-c', ci, '--run', run, '--backend', backend];

  const first = bert(...common, '--update-baseline');
  assert.equal(first.code, 0, first.err + first.out);
  assert.match(first.out, /baseline written: .*baseline\.wasm\.json|baseline written/);
  const baselinePath = join(dir, `baseline.${backend}.json`);
  const baseline = JSON.parse(readFileSync(baselinePath, 'utf8')) as RegressionReport;
  for (const k of [
    'pretrain.heldout_mlm_loss',
    'pretrain.mlm_loss',
    'pretrain.mlm_accuracy',
    'finetune.dev_accuracy',
    'eval.dev_accuracy',
  ]) {
    assert.equal(
      typeof baseline.metrics[k],
      'number',
      `${k} in ${JSON.stringify(baseline.metrics)}`,
    );
  }

  // Same config, same backend: the same numbers, bit for bit; --json prints exactly one object.
  const again = bert(...common, '--json');
  assert.equal(again.code, 0, again.err + again.out);
  const lines = again.out.trim().split('\n');
  assert.equal(lines.length, 1, again.out);
  const out = JSON.parse(lines[0]) as CiOutput;
  assert.equal(out.verdict, 'pass');
  assert.equal(out.backend, backend);
  assert.deepEqual(out.metrics, baseline.metrics);
  assert.ok(out.versions['@tensorflow/tfjs-core']);
  assert.equal(typeof out.timings.total_s, 'number');

  // A deliberately broken change: the learning rate x 100, applied through --set.
  const broken = bert(...common, '--set', 'pretrain.train.lr=0.5');
  assert.equal(broken.code, 1, broken.err + broken.out);
  assert.match(broken.out, /^metric\s+baseline\s+now\s+allowed\s+verdict$/m);
  assert.match(broken.out, /^pretrain\.heldout_mlm_loss\s+\S+\s+\S+\s+<= \S+\s+REGRESSED$/m);
  assert.match(
    broken.out,
    /^FAIL: \d of 3 metrics regressed past tolerance: .*pretrain\.heldout_mlm_loss/m,
  );
});

test('bert ci --help shows the flags and examples', () => {
  const r = bert('ci', '--help');
  assert.equal(r.code, 0, r.err);
  for (const flag of [
    '--baseline',
    '--tolerance',
    '--update-baseline',
    '--json',
    '--backend',
    '--run',
  ]) {
    assert.ok(r.out.includes(flag), flag);
  }
  assert.match(r.out, /Examples:/);
});

test('bert ci: a misspelt key in a stage config names the file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bert-ci-cfg-'));
  const ci = miniatureConfig(dir);
  const r = bert('ci', '-c', ci, '--run', join(dir, 'run'), '--set', 'pretrain.train.lrr=1');
  assert.equal(r.code, 1);
  assert.match(r.err, /--set train\.lrr: unknown key/);
  writeFileSync(join(dir, 'ci.yaml'), readFileSync(ci, 'utf8') + 'tolerance: {}\n');
  const bad = bert('ci', '-c', ci, '--run', join(dir, 'run'));
  assert.equal(bad.code, 1);
  assert.match(bad.err, /ci\.yaml:\d+: tolerance: unknown key \(did you mean 'tolerances'\?/);
});
