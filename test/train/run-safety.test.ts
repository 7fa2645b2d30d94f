/**
 * Never lose a run, through the real CLI: run names that point at or above
 * the runs root, --force with inputs that turn out bad, a second writer on
 * the same run, corrupt latest weights and leftovers of a killed prune.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  truncateSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../../src/train/checkpoint.js';
import { runBert, spawnBert, exited, waitForEvent, tinyPretrainArgs } from '../helpers/bert-cli.js';
import { tinyConfigFile, tinyPretrainRoot } from '../helpers/tiny-pretrain.js';

const { root, shards } = tinyPretrainRoot('bert-run-safety-');

/** A finished tiny run of `steps` steps in `dir` (keep_last 3). */
async function makeRun(dir: string, steps: number): Promise<void> {
  const r = await runBert(
    tinyPretrainArgs(shards, ['-c', tinyConfigFile, '--run', dir, '--max-steps', String(steps)]),
    root,
  );
  assert.equal(r.code, 0, r.stderr);
}

function stepsOf(dir: string): number[] {
  return listCheckpoints(dir).map((c) => c.step);
}

/** The error a refused command printed: exactly one line on stderr. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${stderr}`);
  return lines[0];
}

before(async () => {
  // Tokenize the sample corpus into the shared shards once.
  await makeRun(join(root, 'warm-up'), 1);
});

test('run names . and .. (and paths at or above the runs root or cwd) are refused, --force deletes nothing', async () => {
  const work = join(root, 'dots', 'work');
  mkdirSync(join(work, 'runs', 'keep'), { recursive: true });
  writeFileSync(join(work, 'runs', 'keep', 'run.json'), '{}\n');
  writeFileSync(join(work, 'precious.txt'), 'keep me\n');
  writeFileSync(join(root, 'dots', 'beside.txt'), 'keep me too\n');
  const attempts: string[][] = [
    ['--set', 'name=.', '--force'],
    ['--set', 'name=..', '--force'],
    ['--run', '.', '--force'],
    ['--run', '..', '--force'],
    ['--run', 'runs', '--force'],
    ['--resume', '.'],
  ];
  for (const flags of attempts) {
    const r = await runBert(tinyPretrainArgs(shards, ['-c', tinyConfigFile, ...flags]), work);
    assert.equal(r.code, 1, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(oneLine(r.stderr), /run directory|run name/, flags.join(' '));
    assert.equal(readFileSync(join(work, 'precious.txt'), 'utf8'), 'keep me\n');
    assert.ok(existsSync(join(work, 'runs', 'keep', 'run.json')), `${flags.join(' ')}: runs/keep`);
    assert.ok(existsSync(join(root, 'dots', 'beside.txt')), `${flags.join(' ')}: ../beside.txt`);
  }
});

test('--force keeps the old run until the new inputs are validated, then replaces it whole', async () => {
  const dir = join(root, 'forced');
  await makeRun(dir, 3);
  const runJson = readFileSync(join(dir, 'run.json'), 'utf8');
  const bad: string[][] = [
    ['data.vocab=' + join(root, 'no-such-vocab.txt')],
    ['model.hidden_size=33'],
  ];
  for (const sets of bad) {
    const r = await runBert(
      tinyPretrainArgs(shards, ['-c', tinyConfigFile, '--run', dir, '--force'], sets),
      root,
    );
    assert.equal(r.code, 1, `${sets.join(' ')}: ${r.stderr}`);
    oneLine(r.stderr);
    assert.deepEqual(stepsOf(dir), [1, 2, 3], `${sets.join(' ')}: old checkpoints kept`);
    assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), runJson, 'old run.json kept');
  }
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.forced')),
    [],
    'no staging left beside the run',
  );
  // Valid inputs: the old run is replaced by the new one.
  const ok = await runBert(
    tinyPretrainArgs(shards, ['-c', tinyConfigFile, '--run', dir, '--force', '--max-steps', '1']),
    root,
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(stepsOf(dir), [1]);
  assert.notEqual(readFileSync(join(dir, 'run.json'), 'utf8'), runJson);
  assert.equal(
    readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('"type":"run_start"').length,
    2,
    'metrics.jsonl holds the new run only',
  );
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.forced')),
    [],
    'no leftovers beside the run',
  );
});

test('a second writer on a run being written is refused with one line; a dead writer’s lock is taken over', async () => {
  const dir = join(root, 'dual');
  await makeRun(dir, 2);
  const first = spawnBert(
    tinyPretrainArgs(
      shards,
      ['--resume', dir, '--max-steps', '100000'],
      ['train.max_steps=100000'],
    ),
    root,
  );
  try {
    assert.ok(await waitForEvent(first, 'checkpoint'), `first writer started: ${first.out.stderr}`);
    const second = await runBert(
      tinyPretrainArgs(shards, ['--resume', dir, '--max-steps', '3']),
      root,
    );
    assert.equal(second.code, 1, second.stderr);
    assert.match(oneLine(second.stderr), new RegExp(`pid ${first.pid}\\b`));
    assert.equal(first.exitCode, null, 'the first writer is still running');
  } finally {
    first.kill('SIGKILL');
    await exited(first);
  }
  // The killed writer left its lock behind; the next writer takes it over and says so.
  const next = String(stepsOf(dir).slice(-1)[0] + 1);
  const after = await runBert(
    tinyPretrainArgs(shards, ['--resume', dir, '--max-steps', next]),
    root,
  );
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, new RegExp(`lock.*pid ${first.pid}.*no longer running`));
});

test('--resume skips a latest checkpoint with corrupt weights, with a warning naming it', async () => {
  const dir = join(root, 'corrupt');
  await makeRun(dir, 4);
  const weights = join(dir, 'checkpoints', 'step-4', 'model.safetensors');
  truncateSync(weights, Math.floor(statSync(weights).size / 2));
  const r = await runBert(tinyPretrainArgs(shards, ['--resume', dir, '--max-steps', '5']), root);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /"type":"warning"[^\n]*step-4[^\n]*model\.safetensors/);
  assert.match(r.stdout, /resuming from [^"]*step-3 at step 3/);
  assert.deepEqual(stepsOf(dir).slice(-1), [5]);
});

test('a start sweeps an empty or half-deleted step directory and temporaries left by a kill', async () => {
  const dir = join(root, 'leftovers');
  await makeRun(dir, 2);
  const ck = join(dir, 'checkpoints');
  mkdirSync(join(ck, 'step-9')); // a prune killed after emptying it
  mkdirSync(join(ck, 'step-8'));
  writeFileSync(join(ck, 'step-8', 'config.json'), '{}'); // half deleted
  mkdirSync(join(ck, '.step-7.tmp-1-abcd'));
  const r = await runBert(tinyPretrainArgs(shards, ['--resume', dir, '--max-steps', '3']), root);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /resuming from [^"]*step-2 at step 2/);
  const left = readdirSync(ck);
  for (const gone of ['step-9', 'step-8', '.step-7.tmp-1-abcd'])
    assert.ok(!left.includes(gone), `${gone} swept (left: ${left.join(' ')})`);
  assert.deepEqual(stepsOf(dir), [1, 2, 3]);
});
