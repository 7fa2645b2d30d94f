import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRate, type ScheduleConfig } from '../../src/train/schedule.js';

const base: ScheduleConfig = { peakLr: 1e-4, warmup: 10, end: 110, decay: 'linear' };
const near = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('linear warm-up from 0 to the peak over warmupSteps', () => {
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
