/** Fine-tuning epochs: seeded shuffles, a short last micro-batch, the epoch count the engine reads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/data/rng.js';
import { ShuffledEpochs, SHUFFLE_STREAM, fineTuningSteps } from '../../src/train/epochs.js';
import { loadConfig } from '../../src/config/load.js';
import type { FinetuneConfig } from '../../src/config/types.js';

/** The order the fine-tuning loops drew before the engine existed, written out by hand. */
function fisherYates(n: number, seed: number, stream: number, epoch: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = Rng.derive(seed, stream, epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

test('micro-batches follow the seeded shuffle; an epoch ends in the batch that uses it up', async () => {
  const data = new ShuffledEpochs({
    count: 10,
    micro: 4,
    seed: 42,
    stream: SHUFFLE_STREAM.spans,
    stepsPerEpoch: 3,
    collate: (indices) => ({ batch: [...indices], examples: indices.length, tokens: 0 }),
  });
  const seen: number[][] = [];
  const passes: number[] = [];
  for (let i = 0; i < 4; i++) {
    seen.push((await data.next()).batch);
    passes.push(data.passes);
  }
  const first = fisherYates(10, 42, SHUFFLE_STREAM.spans, 0);
  const second = fisherYates(10, 42, SHUFFLE_STREAM.spans, 1);
  assert.deepEqual(seen, [
    first.slice(0, 4),
    first.slice(4, 8),
    first.slice(8),
    second.slice(0, 4),
  ]);
  assert.deepEqual(passes, [0, 0, 1, 1]);
  assert.notDeepEqual(first, second);
  assert.deepEqual(data.cursor(5), { step: 5 });
  assert.equal(data.epochAt(6), 2);
});

test('steps of a run: max_steps, else epochs × ceil(examples / batch), cut by --max-steps', () => {
  const train = (sets: string[]) =>
    loadConfig<FinetuneConfig>('finetune', null, { sets }).config.train;
  assert.deepEqual(fineTuningSteps(train(['train.batch_size=4', 'train.epochs=2']), 10, null), {
    stepsPerEpoch: 3,
    totalSteps: 6,
    endStep: 6,
  });
  assert.deepEqual(fineTuningSteps(train(['train.max_steps=5']), 10, 2).endStep, 2);
  assert.deepEqual(fineTuningSteps(train(['train.max_steps=5']), 10, 9).endStep, 5);
  // A wall-clock budget: epochs (default 3) still cap it, unless set to null.
  const budget = 'train.budget_minutes=10';
  assert.equal(fineTuningSteps(train(['train.batch_size=4', budget]), 10, null).totalSteps, 9);
  const timeOnly = fineTuningSteps(train([budget, 'train.epochs=null']), 10, null);
  assert.equal(timeOnly.totalSteps, Number.POSITIVE_INFINITY);
  assert.equal(fineTuningSteps(train([budget, 'train.epochs=null']), 10, 4).endStep, 4);
});
