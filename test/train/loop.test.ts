/**
 * The training engine on its own: a real (tiny) model and optimizer, a
 * scripted stepper, data and evaluation, so the timing of evaluations and
 * checkpoints, `best`, stopping and the non-finite rule are visible step by step.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
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
  /** A fake clock (ms): each forward/backward advances it by stepMs, each evaluation by evalMs. */
  stepMs?: number;
  evalMs?: number;
  /** Steps of the run (max_steps and totalSteps/endStep); 6 unless given. */
  steps?: number;
  resume?: { step: number; best: number | null; trainMs: number };
}

async function run(
  name: string,
  s: Script,
): Promise<{ result: TrainingResult<StepMetrics>; events: BertEvent[]; lrs: number[] }> {
  const config = smallConfig();
  const model = createBertModel(config, { heads: 'classification', seed: 1 });
  const optimizer = createOptimizer({ type: 'adamw', weightDecay: 0 });
  let stepsDone = s.resume?.step ?? 0;
  let clockMs = 1_000_000;
  const lrs: number[] = [];
  const stepper = {
    accumulate: () => {
      clockMs += s.stepMs ?? 0;
    },
    apply: async (lr: number): Promise<StepMetrics> => {
      lrs.push(lr);
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
    sets: [`train.max_steps=${s.steps ?? 6}`, 'train.batch_size=2', ...(s.train ?? [])],
  }).config.train;
  const result = await train({
    command: 'test',
    runDir: join(root, name),
    train: trainSection,
    totalSteps: s.steps ?? 6,
    endStep: s.steps ?? 6,
    model,
    optimizer,
    stepper,
    data,
    evaluator: {
      evaluate: async () => {
        clockMs += s.evalMs ?? 0;
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
    resume: s.resume,
    control: {
      clock: () => clockMs,
      stopRequested: () => s.stopBefore !== undefined && stepsDone + 1 >= s.stopBefore,
    },
    reporter: { emit: (e) => void events.push(e), close: async () => undefined },
  });
  return { result, events, lrs };
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

// A 1-minute budget, steps of 10 s of training time, 10% warm-up (6 s), linear decay: update k
// (1-based) starts at (k-1)*10 s, so its rate is 0, then peak × (54 - (t - 6)) / 54 at t = 10..50 s.
const PEAK = 1e-3;
const budgetRun = [
  'train.budget_minutes=1',
  `train.lr=${PEAK}`,
  'train.warmup_ratio=0.1',
  'train.log_every=1',
];
const budgetRates = (fromSecond: number, toSecond: number): number[] => {
  const rates = [];
  for (let t = fromSecond; t <= toSecond; t += 10)
    rates.push(t < 6 ? (PEAK * t) / 6 : PEAK * (1 - (t - 6) / 54));
  return rates;
};
const near = (actual: number[], expected: number[]): void => {
  assert.equal(actual.length, expected.length, `${actual} vs ${expected}`);
  actual.forEach((a, i) =>
    assert.ok(Math.abs(a - expected[i]) < 1e-12, `${actual} vs ${expected}`),
  );
};
const stepField = (
  events: BertEvent[],
  field: 'elapsed_train_s' | 'budget_s',
): Array<number | undefined> => events.flatMap((e) => (e.type === 'step' ? [e[field]] : []));

test('a wall-clock budget: the LR follows training time, the run ends when it is spent, evaluated and saved', async () => {
  const { result, events, lrs } = await run('budget', {
    steps: 100,
    stepMs: 10_000,
    train: budgetRun,
    evaluator: { perEpoch: false, saveEach: false, onStop: false },
    atEnd: true,
  });
  near(lrs, budgetRates(0, 50));
  assert.equal(result.status, 'completed');
  assert.equal(result.step, 6);
  assert.deepEqual(evalSteps(events), [6]);
  assert.deepEqual(savedSteps(events), [6]);
  assert.deepEqual(stepField(events, 'elapsed_train_s'), [10, 20, 30, 40, 50, 60]);
  assert.ok(stepField(events, 'budget_s').every((b) => b === 60));
  const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
  assert.ok(
    logs.some((m) => /time budget of 1 min of training reached/.test(m)),
    logs.join('; '),
  );
});

test('evaluation time does not count against the budget', async () => {
  const { result, events, lrs } = await run('budget-eval', {
    steps: 100,
    stepMs: 10_000,
    evalMs: 25_000,
    train: [...budgetRun, 'train.eval_every=2'],
    evaluator: { perEpoch: false },
  });
  near(lrs, budgetRates(0, 50));
  assert.equal(result.step, 6);
  assert.deepEqual(evalSteps(events), [2, 4, 6]);
  assert.deepEqual(stepField(events, 'elapsed_train_s'), [10, 20, 30, 40, 50, 60]);
});

test('max_steps still caps a budgeted run; the schedule stays on the clock', async () => {
  const { result, lrs } = await run('budget-cap', { steps: 3, stepMs: 10_000, train: budgetRun });
  assert.equal(result.status, 'completed');
  near(lrs, budgetRates(0, 20));
});

test('trainer_state.json records the training time, and a resumed run continues the clock', async () => {
  const first = await run('budget-resume', {
    steps: 100,
    stepMs: 10_000,
    stopBefore: 4,
    train: budgetRun,
  });
  assert.equal(first.result.status, 'stopped');
  const state = JSON.parse(
    readFileSync(
      join(root, 'budget-resume', 'checkpoints', 'step-3', 'trainer_state.json'),
      'utf8',
    ),
  ) as { elapsed_train_ms: number };
  assert.equal(state.elapsed_train_ms, 30_000);
  const resumed = await run('budget-resumed', {
    steps: 100,
    stepMs: 10_000,
    train: budgetRun,
    resume: { step: 3, best: null, trainMs: state.elapsed_train_ms },
  });
  near(resumed.lrs, budgetRates(30, 50));
  assert.equal(resumed.result.step, 6, '30 s left of the minute: three more steps');
  assert.equal(resumed.result.status, 'completed');
});

const linkedStep = (name: string, link: string): string =>
  basename(readlinkSync(join(root, name, 'checkpoints', link)));

test('save_at_minutes: evaluate and keep a checkpoint at each minute of training time', async () => {
  const { result, events } = await run('snapshots', {
    steps: 100,
    stepMs: 10_000,
    evalMs: 25_000,
    train: [
      ...budgetRun,
      'train.save_at_minutes=[0.5, 0.25, 0.3]',
      'train.keep_last=1',
      'train.save_every=1',
    ],
    evaluator: { perEpoch: false, saveEach: false, onStop: false },
    atEnd: true,
  });
  assert.equal(result.status, 'completed');
  // 15 s and 18 s are passed by step 2 (20 s), 30 s by step 3; evaluation time is not training time.
  assert.deepEqual(evalSteps(events), [2, 3, 6]);
  assert.equal(linkedStep('snapshots', 'minute-0.25'), 'step-2');
  assert.equal(linkedStep('snapshots', 'minute-0.3'), 'step-2');
  assert.equal(linkedStep('snapshots', 'minute-0.5'), 'step-3');
  const left = readdirSync(join(root, 'snapshots', 'checkpoints')).filter((n) => /^step-/.test(n));
  assert.deepEqual(left.sort(), ['step-2', 'step-3', 'step-6'], 'keep_last 1 spares the snapshots');
});

test('a snapshot at a step already evaluated and saved links it instead of writing it again', async () => {
  const { events } = await run('snapshots-linked', {
    steps: 3,
    stepMs: 10_000,
    train: [...budgetRun, 'train.save_at_minutes=[0.25]', 'train.eval_every=2'],
    evaluator: { perEpoch: false },
  });
  assert.deepEqual(evalSteps(events), [2, 3]);
  assert.deepEqual(savedSteps(events), [2, 3], 'step 2 is written once');
  assert.equal(linkedStep('snapshots-linked', 'minute-0.25'), 'step-2');
});

test('a resumed run takes only the snapshots still ahead of its clock', async () => {
  const { events } = await run('snapshots-resumed', {
    steps: 100,
    stepMs: 10_000,
    train: [...budgetRun, 'train.save_at_minutes=[0.25, 0.75]'],
    evaluator: { perEpoch: false, saveEach: false, onStop: false },
    resume: { step: 3, best: null, trainMs: 30_000 },
  });
  assert.deepEqual(evalSteps(events), [5, 6], 'minute 0.75 (45 s) at step 5 (50 s), then the end');
  assert.equal(linkedStep('snapshots-resumed', 'minute-0.75'), 'step-5');
  assert.equal(existsSync(join(root, 'snapshots-resumed', 'checkpoints', 'minute-0.25')), false);
});

test('uncorrected Adam with a short warm-up at a high rate warns at run start', async () => {
  const warnings = async (name: string, sets: string[]): Promise<string[]> =>
    (await run(name, { train: sets })).events.flatMap((e) =>
      e.type === 'warning' ? [e.message] : [],
    );
  const risky = ['train.lr=1e-3', 'train.warmup_steps=2'];
  const [warning, ...more] = await warnings('overshoot', [...risky, 'train.bias_correction=false']);
  assert.match(warning, /^train\.bias_correction is false: .*2 warm-up steps/);
  assert.equal(more.length, 0);
  assert.deepEqual(await warnings('corrected', risky), []);
});
