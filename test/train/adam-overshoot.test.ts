import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import type { PretrainConfig } from '../../src/config/types.js';
import {
  adamOvershootWarning,
  uncorrectedOvershoot,
  uncorrectedRatio,
} from '../../src/train/adam-overshoot.js';

const train = (sets: string[]) =>
  loadConfig<PretrainConfig>('pretrain', null, { sets: sets.map((s) => `train.${s}`) }).config
    .train;

test('the closed form is the ratio of the two optimizers on a constant gradient', () => {
  // Adam's moments by their recurrence: m_t = β1 m + (1-β1) g, v_t = β2 v + (1-β2) g².
  const [b1, b2, g] = [0.9, 0.999, 0.3];
  let m = 0;
  let v = 0;
  for (let t = 1; t <= 2000; t++) {
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const uncorrected = m / Math.sqrt(v);
    const corrected = m / (1 - b1 ** t) / Math.sqrt(v / (1 - b2 ** t));
    const r = uncorrected / corrected;
    assert.ok(Math.abs(uncorrectedRatio(t, b1, b2) - r) < 1e-9, `t=${t}: ${r}`);
  }
  // Its largest value, 3-6x as the first updates of issue 19's collapsed run saw.
  const peak = uncorrectedOvershoot(1, 0, b1, b2);
  assert.ok(peak.effectivePeak > 6 && peak.effectivePeak < 7, String(peak.effectivePeak));
});

test('the warm-up factor: a warm-up of 1/(1-β2) steps and more keeps the first updates at the schedule', () => {
  const long = uncorrectedOvershoot(1e-4, 10_000, 0.9, 0.999);
  assert.ok(long.effectivePeak < 1.0001e-4, String(long.effectivePeak));
  const short = uncorrectedOvershoot(1e-3, 20, 0.9, 0.999);
  // Update 21 is the first at the full rate: (1-0.9^21)/sqrt(1-0.999^21).
  assert.equal(short.atUpdate, 21);
  assert.ok(Math.abs(short.effectivePeak - 1e-3 * uncorrectedRatio(21, 0.9, 0.999)) < 1e-15);
});

test('warns for lr 1e-3, 20 warm-up steps, no bias correction', () => {
  const message = adamOvershootWarning(
    train(['lr=1e-3', 'warmup_steps=20', 'bias_correction=false']),
    2000,
  );
  assert.match(message ?? '', /update 21 runs at ~0\.0062 \(6\.2x train\.lr\)/);
});

test('silent with bias correction (the default), and for LAMB', () => {
  assert.equal(adamOvershootWarning(train(['lr=1e-3', 'warmup_steps=20']), 2000), null);
  assert.equal(
    adamOvershootWarning(
      train(['lr=1e-3', 'warmup_steps=20', 'bias_correction=false', 'optimizer=lamb']),
      2000,
    ),
    null,
  );
});

test('silent where the effective peak stays below 1e-3 or within 1.5x of the schedule', () => {
  // lr 1e-4 with 1% of 10k steps: update 101 runs at ~3.2e-4, 3.2x the rate but below 1e-3.
  const bert = train(['lr=1e-4', 'warmup_ratio=0.01', 'bias_correction=false']);
  assert.equal(adamOvershootWarning(bert, 10_000), null);
  // lr 2e-3 with a 10k-step warm-up: the ratio has fallen to ~1 by the time the rate is high.
  const slow = train(['lr=2e-3', 'warmup_steps=10000', 'bias_correction=false']);
  assert.equal(adamOvershootWarning(slow, 100_000), null);
  // The same 1e-4 with a 20-step warm-up: 6.2x, still below 1e-3.
  const tiny = train(['lr=1e-4', 'warmup_steps=20', 'bias_correction=false']);
  assert.equal(adamOvershootWarning(tiny, 1000), null);
});

test('a warm-up in wall-clock time has no known length in steps: no warm-up is assumed', () => {
  const timed = ['warmup_ratio=0.1', 'budget_minutes=30', 'bias_correction=false'];
  assert.match(adamOvershootWarning(train(['lr=2e-4', ...timed]), 1000) ?? '', /warm-up in time/);
  assert.equal(adamOvershootWarning(train(['lr=1e-4', ...timed]), 1000), null);
});
