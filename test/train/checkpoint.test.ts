/**
 * Checkpoint directories on disk: same-step re-saves, half-done swaps and
 * prunes, and which checkpoint a resume or a reader resolves to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  saveCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  resolveCheckpoint,
  type CheckpointContents,
} from '../../src/train/checkpoint.js';
import { encodeSafetensors, type TensorData } from '../../src/io/safetensors.js';
import { checkpointProblem, latestWholeCheckpoint } from '../../src/train/checkpoint-verify.js';

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

test('a checkpoint is whole only with every file, exact safetensors sizes and finite values', async () => {
  const run = join(root, 'verify');
  for (let step = 1; step <= 5; step++)
    await saveCheckpoint(run, contents(step, step), { keepLast: 5 });
  const ck = (step: number, file: string): string => join(run, 'checkpoints', `step-${step}`, file);
  assert.equal(await checkpointProblem(join(run, 'checkpoints', 'step-1')), null);
  // step-5: weights cut short; step-4: header garbage; step-3: a NaN; step-2: no vocab.
  const weights = readFileSync(ck(5, 'model.safetensors'));
  writeFileSync(ck(5, 'model.safetensors'), weights.subarray(0, weights.length - 4));
  writeFileSync(ck(4, 'optimizer.safetensors'), Buffer.from('\x10\0\0\0\0\0\0\0{not json at all'));
  const nan = new Map<string, TensorData>([
    ['w', { dtype: 'float32', shape: [2], data: new Float32Array([1, NaN]) }],
  ]);
  writeFileSync(ck(3, 'model.safetensors'), encodeSafetensors(nan));
  rmSync(ck(2, 'vocab.txt'));
  const skipped: string[] = [];
  const whole = await latestWholeCheckpoint(run, (dir, problem) =>
    skipped.push(`${basename(dir)}: ${problem}`),
  );
  assert.equal(whole, join(run, 'checkpoints', 'step-1'));
  assert.equal(skipped.length, 4);
  assert.match(
    skipped[0],
    /^step-5: .*step-5\/model\.safetensors: \d+ bytes where its header describes \d+/,
  );
  assert.match(skipped[1], /^step-4: .*step-4\/optimizer\.safetensors: .*header/);
  assert.match(skipped[2], /^step-3: .*step-3\/model\.safetensors: w holds NaN/);
  assert.match(skipped[3], /^step-2: .*step-2\/vocab\.txt: missing/);
});
