/**
 * The training engine on its own: a real (tiny) model and optimizer, a
 * scripted stepper, data and evaluation, so the timing of evaluations and
 * checkpoints, `best`, stopping and the non-finite rule are visible step by step.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { useTestBackend } from '../helpers/tf.js';
import { smallConfig } from '../model/helpers.js';
import { loadConfig } from '../../src/config/load.js';
import type { FinetuneConfig } from '../../src/config/types.js';
import { createBertModel } from '../../src/model/bert.js';
import { toHfConfigJson } from '../../src/model/config.js';
import { createOptimizer } from '../../src/train/optimizer.js';
import {
  train,
  type Evaluator,
  type StepMetrics,
  type MicroBatch,
  type TrainingData,
  type TrainingResult,
} from '../../src/train/loop.js';
import type { BertEvent } from '../../src/ui/events.js';
import { packageRoot } from '../../src/paths.js';

const root = mkdtempSync(join(tmpdir(), 'bert-engine-'));
const VOCAB = join(packageRoot, 'data/vocab/bert-base-uncased/vocab.txt');

before(async () => {
  await useTestBackend();
});

interface Script {
  /** Loss of each step (1-based index - 1); 1.0 when not given. */
  losses?: number[];
  /** Steps after which an epoch has ended (its last micro-batch was in that step). */
  epochEnds?: number[];
  /** Score of each evaluation, in order. */
  scores?: number[];
  /** The stop request is seen before this step. */
  stopBefore?: number;
  evaluator?: Partial<Evaluator>;
  train?: string[];
  atEnd?: boolean;
}

async function run(
  name: string,
  s: Script,
): Promise<{ result: TrainingResult<StepMetrics>; events: BertEvent[] }> {
  const config = smallConfig();
  const model = createBertModel(config, { heads: 'classification', seed: 1 });
  const optimizer = createOptimizer({ type: 'adamw', weightDecay: 0 });
  let stepsDone = 0;
  const stepper = {
    accumulate: () => undefined,
    apply: (): StepMetrics => {
      stepsDone += 1;
      return { loss: s.losses?.[stepsDone - 1] ?? 1, grad_norm: 0.5 };
    },
    dispose: () => undefined,
  };
  const data = {
    passes: 0,
    next: async (): Promise<MicroBatch<null>> => {
      if (s.epochEnds?.includes(stepsDone + 1)) data.passes += 1;
      return { batch: null, examples: 2, tokens: 10 };
    },
    epochAt: (step: number) => step / 2,
    cursor: (step: number) => ({ step }),
  } satisfies TrainingData<null>;
  let evaluations = 0;
  const events: BertEvent[] = [];
  const trainSection = loadConfig<FinetuneConfig>('finetune', null, {
    sets: ['train.max_steps=6', 'train.batch_size=2', ...(s.train ?? [])],
  }).config.train;
  const result = await train({
    command: 'test',
    runDir: join(root, name),
    train: trainSection,
    totalSteps: 6,
    endStep: 6,
    model,
    optimizer,
    stepper,
    data,
    evaluator: {
      evaluate: () => {
        const score = s.scores?.[evaluations++] ?? 0;
        return { splits: [['dev', { score }]], score, record: { score } };
      },
      better: 'higher',
      perEpoch: true,
      saveEach: true,
      onStop: true,
      ...s.evaluator,
    },
    checkpoint: {
      config: toHfConfigJson(config, 'BertForSequenceClassification'),
      vocabPath: VOCAB,
      stateFields: ({ record }) => ({ metrics: record }),
      atEnd: s.atEnd ?? false,
    },
    describe: { backend: 'test' },
    control: {
      stopRequested: () => s.stopBefore !== undefined && stepsDone + 1 >= s.stopBefore,
    },
    reporter: { emit: (e) => void events.push(e), close: async () => undefined },
  });
  return { result, events };
}

const evalSteps = (events: BertEvent[]): number[] =>
  events.flatMap((e) => (e.type === 'eval' ? [e.step] : []));
const savedSteps = (events: BertEvent[]): number[] =>
  events.flatMap((e) => (e.type === 'checkpoint' ? [e.step] : []));

test('fine-tuning: evaluate when an epoch ends and at the last step, save each, best by the score', async () => {
  const { result, events } = await run('epochs', {
    epochEnds: [2, 3, 5],
    scores: [0.5, 0.7, 0.6, 0.7],
  });
  assert.equal(result.status, 'completed');
  assert.deepEqual(evalSteps(events), [2, 3, 5, 6]);
  assert.deepEqual(savedSteps(events), [2, 3, 5, 6]);
  assert.equal(result.best?.step, 3, 'a tie (0.7 at step 6) does not replace the best');
  assert.equal(basename(result.bestCheckpoint ?? ''), 'step-3');
  assert.equal(basename(result.lastCheckpoint ?? ''), 'step-6');
});

test('eval_every replaces per-epoch evaluation; save_every saves between evaluations', async () => {
  const { events } = await run('every', {
    epochEnds: [3],
    train: ['train.eval_every=4', 'train.save_every=2'],
    evaluator: { perEpoch: false },
  });
  assert.deepEqual(evalSteps(events), [4, 6]);
  assert.deepEqual(savedSteps(events), [2, 4, 6]);
});

test('a stopped run evaluates and saves its last step once', async () => {
  const { result, events } = await run('stop', { epochEnds: [2], stopBefore: 4 });
  assert.equal(result.status, 'stopped');
  assert.equal(result.step, 3);
  assert.deepEqual(evalSteps(events), [2, 3]);
  assert.deepEqual(savedSteps(events), [2, 3]);
});

test('a NaN loss ends the run as failed, names the last good checkpoint, and saves nothing more', async () => {
  const { result, events } = await run('nan', {
    losses: [1, 1, Number.NaN],
    train: ['train.save_every=1'],
    evaluator: { perEpoch: false },
  });
  assert.equal(result.status, 'failed');
  assert.equal(result.step, 3);
  const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^loss is NaN at step 3: stopping; last good checkpoint: .*step-2$/);
  assert.deepEqual(savedSteps(events), [1, 2]);
  assert.equal(existsSync(join(root, 'nan', 'checkpoints', 'step-3')), false);
  assert.equal(
    events.some((e) => e.type === 'step' && e.step === 3),
    false,
    'no step event for the failed step',
  );
});

test('pretraining: lower is better, only a new best is saved, and the last step always is', async () => {
  const { result, events } = await run('lower', {
    scores: [3, 4, 2],
    train: ['train.eval_every=2'],
    evaluator: { better: 'lower', perEpoch: false, saveEach: false, onStop: false },
    atEnd: true,
  });
  assert.deepEqual(evalSteps(events), [2, 4, 6]);
  assert.deepEqual(savedSteps(events), [2, 6]);
  assert.equal(result.best?.step, 6);
});
