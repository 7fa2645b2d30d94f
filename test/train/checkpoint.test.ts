/**
 * Checkpoint directories on disk: same-step re-saves, half-done swaps and
 * prunes, and which checkpoint a resume or a reader resolves to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  saveCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  resolveCheckpoint,
  type CheckpointContents,
} from '../../src/train/checkpoint.js';
import type { TensorData } from '../../src/io/safetensors.js';

const root = mkdtempSync(join(tmpdir(), 'bert-checkpoint-'));
const vocab = join(root, 'vocab.txt');
writeFileSync(vocab, '[PAD]\n[UNK]\n');

function contents(step: number, value: number, vocabPath = vocab): CheckpointContents {
  const model = new Map<string, TensorData>([
    ['w', { dtype: 'float32', shape: [2], data: new Float32Array([value, value]) }],
  ]);
  return {
    model,
    optimizer: model,
    trainerState: { step, epoch: 0, total_steps: 10, data_cursor: null },
    config: { hidden_size: 2 },
    vocabPath,
  };
}

async function weightOf(dir: string): Promise<number> {
  return (await loadCheckpoint(dir)).model.get('w')!.data[0];
}

test('a re-save of step N that dies midway keeps the old complete step-N', async () => {
  const run = join(root, 'resave');
  await saveCheckpoint(run, contents(3, 1), { keepLast: 2 });
  // The new write fails after the weights are out (the vocab to copy is missing).
  await assert.rejects(
    saveCheckpoint(run, contents(3, 2, join(root, 'missing-vocab.txt')), { keepLast: 2 }),
  );
  const latest = latestCheckpoint(run);
  assert.ok(latest, 'step-3 still exists');
  assert.equal(await weightOf(latest), 1, 'the old step-3');
  // A re-save that succeeds replaces it.
  await saveCheckpoint(run, contents(3, 2), { keepLast: 2 });
  assert.equal(await weightOf(latestCheckpoint(run)!), 2, 'the new step-3');
  assert.deepEqual(
    readdirSync(join(run, 'checkpoints')).sort(),
    ['latest', 'step-3'],
    'nothing else left',
  );
});

/** The names a swap of step-3 goes through: the new copy waits as .step-3.incoming, the old leaves as .step-3.outgoing. */
async function swapState(name: string, state: 'incoming' | 'both' | 'outgoing'): Promise<string> {
  const run = join(root, name);
  await saveCheckpoint(run, contents(2, 1), { keepLast: 5 });
  await saveCheckpoint(run, contents(3, 1), { keepLast: 5 });
  const ck = join(run, 'checkpoints');
  const fresh = join(root, `${name}-fresh`);
  await saveCheckpoint(fresh, contents(3, 2), { keepLast: 5 });
  renameSync(join(fresh, 'checkpoints', 'step-3'), join(ck, '.step-3.incoming'));
  if (state !== 'incoming') renameSync(join(ck, 'step-3'), join(ck, '.step-3.outgoing'));
  if (state === 'outgoing') renameSync(join(ck, '.step-3.incoming'), join(ck, 'step-3'));
  return run;
}

test('between the renames of a same-step swap, step 3 still resolves to a complete checkpoint', async () => {
  for (const state of ['incoming', 'both', 'outgoing'] as const) {
    const run = await swapState(`swap-${state}`, state);
    const latest = latestCheckpoint(run);
    assert.ok(latest, state);
    assert.equal((await loadCheckpoint(latest)).trainerState!.step, 3, state);
    assert.deepEqual(
      listCheckpoints(run).map((c) => c.step),
      [2, 3],
      state,
    );
    // Readers that name the `latest` link (dangling mid-swap) still get step 3.
    const viaLink = resolveCheckpoint(join(run, 'checkpoints', 'latest'));
    assert.equal((await loadCheckpoint(viaLink)).trainerState!.step, 3, `${state}: latest`);
  }
});

test('the next save completes a half-done swap and removes what a killed prune left', async () => {
  const run = await swapState('swap-then-save', 'both');
  const ck = join(run, 'checkpoints');
  mkdirSync(join(ck, 'step-1')); // emptied by a prune that was killed
  await saveCheckpoint(run, contents(4, 3), { keepLast: 2 });
  assert.deepEqual(readdirSync(ck).sort(), ['latest', 'step-3', 'step-4']);
  assert.equal(await weightOf(join(ck, 'step-3')), 2, 'the swap was completed (new step-3)');
});
