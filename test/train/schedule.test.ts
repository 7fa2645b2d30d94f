import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRate, type ScheduleConfig } from '../../src/train/schedule.js';
import type { PretrainConfig } from '../../src/config/types.js';
import { loadConfig } from '../../src/config/load.js';
import { scheduleFor } from '../../src/train/recipe.js';

const base: ScheduleConfig = { peakLr: 1e-4, warmup: 10, end: 110, decay: 'linear' };
const near = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('linear warm-up from 0 to the peak over `warmup`', () => {
  near(learningRate(0, base), 0);
  near(learningRate(5, base), 5e-5);
  near(learningRate(10, base), 1e-4);
});

test('linear decay reaches 0 at `end` and stays there', () => {
  near(learningRate(60, base), 5e-5);
  near(learningRate(110, base), 0);
  near(learningRate(500, base), 0);
});

test('cosine decay: half the peak mid-way, 0 at the end', () => {
  const c = { ...base, decay: 'cosine' as const };
  near(learningRate(10, c), 1e-4);
  near(learningRate(60, c), 5e-5);
  near(learningRate(35, c), 1e-4 * 0.5 * (1 + Math.cos(Math.PI / 4)));
  near(learningRate(110, c), 0);
});

test('constant after warm-up; no warm-up starts at the peak', () => {
  near(learningRate(1000, { ...base, decay: 'constant' }), 1e-4);
  near(learningRate(0, { ...base, warmup: 0 }), 1e-4);
});

test('scheduleFor: steps without a budget; training time with one, warm-up in steps when warmup_steps is given', () => {
  const section = (sets: string[]) =>
    loadConfig<PretrainConfig>('pretrain', null, { sets: sets.map((s) => `train.${s}`) }).config
      .train;
  const bySteps = scheduleFor(section(['lr=1e-4', 'warmup_ratio=0.1']), 110);
  // 11 warm-up steps; the clock is ignored.
  near(bySteps({ step: 60, trainMs: 1e9 }), learningRate(60, { ...base, warmup: 11 }));
  const byTime = scheduleFor(section(['lr=1e-4', 'warmup_ratio=0.1', 'budget_minutes=10']), 110);
  // 10 minutes: warm-up over the first minute, linear decay to 0 at 10; the step is ignored.
  near(byTime({ step: 5, trainMs: 30_000 }), 5e-5);
  near(byTime({ step: 5, trainMs: 330_000 }), 1e-4 * (1 - 270 / 540));
  near(byTime({ step: 5, trainMs: 600_000 }), 0);
  const stepWarmup = scheduleFor(section(['lr=1e-4', 'warmup_steps=10', 'budget_minutes=10']), 110);
  // Warm-up factor min(1, step/10) on a decay over the whole budget.
  near(stepWarmup({ step: 5, trainMs: 60_000 }), 0.5 * 1e-4 * 0.9);
  near(stepWarmup({ step: 50, trainMs: 300_000 }), 1e-4 * 0.5);
});
