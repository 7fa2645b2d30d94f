/**
 * kill -9 at random moments while a run saves, re-saves the same step and
 * prunes old checkpoints (keep_last 1, a save every step): after every kill
 * a complete checkpoint exists and `--resume` starts from it; after a clean
 * start nothing half-written is left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { latestCheckpoint, listCheckpoints, loadCheckpoint } from '../../src/train/checkpoint.js';
import { runBert, spawnBert, exited, waitForEvent, tinyPretrainArgs } from '../helpers/bert-cli.js';
import { tinyConfigFile, tinyPretrainRoot } from '../helpers/tiny-pretrain.js';

const { root, shards } = tinyPretrainRoot('bert-run-kill-');
const KILLS = 20;

function args(flags: string[]): string[] {
  return tinyPretrainArgs(shards, flags, ['train.keep_last=1', 'train.log_every=100']);
}

/** A deterministic pseudo-random sequence, so a failure can be replayed (seed printed). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The step of the newest complete checkpoint; throws when there is none that loads. */
async function completeStep(dir: string): Promise<number> {
  const latest = latestCheckpoint(dir);
  assert.ok(
    latest,
    `a complete checkpoint exists (left: ${readdirSync(join(dir, 'checkpoints'))})`,
  );
  const loaded = await loadCheckpoint(latest);
  assert.ok(loaded.trainerState, `${latest}: trainer_state.json`);
  return loaded.trainerState.step;
}

test(`${KILLS} kill -9 at random moments during saves, same-step re-saves and prunes never lose the run`, async () => {
  const seed = Number(process.env.BERT_KILL_SEED ?? Date.now() % 100_000);
  console.log(`# kill seed ${seed} (BERT_KILL_SEED=${seed} replays it)`);
  const rand = random(seed);
  const dir = join(root, 'run');
  const first = await runBert(args(['-c', tinyConfigFile, '--run', dir, '--max-steps', '2']), root);
  assert.equal(first.code, 0, first.stderr);
  let killed = 0;
  /** What the kills interrupted, as the names they left: a save or prune (tmp), a re-save swap. */
  const caught = new Map<string, number>();
  for (let i = 0; i < KILLS; i++) {
    const step = await completeStep(dir);
    // Every third start re-saves the step it resumes at (--max-steps = that step).
    const target = i % 3 === 0 ? step : step + 1 + Math.floor(rand() * 3);
    const child = spawnBert(args(['--resume', dir, '--max-steps', String(target)]), root);
    const started = await waitForEvent(child, 'run_start');
    if (!started) {
      const r = await exited(child);
      assert.fail(`resume ${i} did not start (exit ${r.code}): ${r.stderr}`);
    }
    await new Promise((r) => setTimeout(r, Math.floor(rand() * 120)));
    child.kill('SIGKILL');
    const r = await exited(child);
    if (r.signal === 'SIGKILL') killed += 1;
    else assert.equal(r.code, 0, `resume ${i} ended with ${r.code}: ${r.stderr}`);
    for (const name of readdirSync(join(dir, 'checkpoints'))) {
      const kind =
        /\.(incoming|outgoing)$/.exec(name)?.[1] ?? (name.includes('.tmp-') ? 'tmp' : null);
      if (kind) caught.set(kind, (caught.get(kind) ?? 0) + 1);
    }
    await completeStep(dir);
  }
  console.log(
    `# ${killed} of ${KILLS} starts were killed mid-run; leftovers seen: ${JSON.stringify(Object.fromEntries(caught))}`,
  );
  assert.ok(killed >= KILLS / 2, `most starts were killed (${killed})`);
  // A clean start resumes, sweeps what the kills left and finishes.
  const from = await completeStep(dir);
  const last = await runBert(args(['--resume', dir, '--max-steps', String(from + 1)]), root);
  assert.equal(last.code, 0, last.stderr);
  assert.match(last.stdout, new RegExp(`resuming from [^"]*step-${from} at step ${from}`));
  const ck = join(dir, 'checkpoints');
  const names = readdirSync(ck);
  assert.deepEqual(
    names.filter((n) => n.startsWith('.')),
    [],
    `no hidden temporaries left (${names.join(' ')})`,
  );
  for (const n of names.filter((x) => /^step-\d+$/.test(x)))
    assert.ok(existsSync(join(ck, n, 'trainer_state.json')), `${n} is complete`);
  assert.deepEqual(
    listCheckpoints(dir).map((c) => c.step),
    [from + 1],
  );
  assert.ok(!existsSync(join(dir, 'run.lock')), 'the lock is released at the end');
});
