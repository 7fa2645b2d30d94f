import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bar,
  budgetLeftSeconds,
  emaInit,
  emaUpdate,
  emaValue,
  etaSeconds,
  fit,
  formatBytes,
  formatCount,
  formatDuration,
  formatInt,
  formatLoss,
  formatLr,
  formatPercent,
  historyInit,
  historyPush,
  historyValues,
  pushSample,
  resample,
  sparkline,
  stepsPerSecond,
  stripAnsi,
  type ProgressSample,
} from '../../src/ui/format.js';

test('formatCount keeps three significant digits with SI suffixes', () => {
  assert.equal(formatCount(0), '0');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(12_345), '12.3k');
  assert.equal(formatCount(4_385_920), '4.39M');
  assert.equal(formatCount(999_999), '1.00M');
  assert.equal(formatCount(110_000_000), '110M');
  assert.equal(formatCount(2.5), '2.50');
});

test('formatInt groups thousands without depending on the locale', () => {
  assert.equal(formatInt(1_234_567), '1,234,567');
  assert.equal(formatInt(-1000), '-1,000');
  assert.equal(formatInt(12), '12');
});

test('formatBytes uses binary units', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(512 * 1024 * 1024), '512 MiB');
  assert.equal(formatBytes(3.25 * 1024 ** 3), '3.25 GiB');
});

test('formatDuration shows the two largest units and -- when unknown', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(45.4), '45s');
  assert.equal(formatDuration(187), '3m 07s');
  assert.equal(formatDuration(2 * 3600 + 5 * 60 + 9), '2h 05m');
  assert.equal(formatDuration(3 * 86400 + 4 * 3600), '3d 04h');
  assert.equal(formatDuration(null), '--');
  assert.equal(formatDuration(Number.NaN), '--');
  assert.equal(formatDuration(-1), '--');
});

test('formatLoss, formatLr and formatPercent keep NaN visible', () => {
  assert.equal(formatLoss(2.123456), '2.1235');
  assert.equal(formatLoss(10.5), '10.500');
  assert.equal(formatLoss(Number.NaN), 'nan');
  assert.equal(formatLoss(undefined), '--');
  assert.equal(formatLr(1e-4), '1.00e-4');
  assert.equal(formatLr(0), '0');
  assert.equal(formatPercent(0.1234), '12.3%');
});

test('EMA is bias-corrected: a constant input gives that constant from the first value', () => {
  let ema = emaInit(0.98);
  assert.equal(emaValue(ema), undefined);
  ema = emaUpdate(ema, 5);
  assert.ok(Math.abs((emaValue(ema) ?? 0) - 5) < 1e-12);
  for (let i = 0; i < 50; i += 1) ema = emaUpdate(ema, 5);
  assert.ok(Math.abs((emaValue(ema) ?? 0) - 5) < 1e-12);
});

test('EMA follows a step change gradually and skips NaN', () => {
  let ema = emaInit(0.9);
  for (let i = 0; i < 100; i += 1) ema = emaUpdate(ema, 10);
  ema = emaUpdate(ema, Number.NaN);
  assert.ok(Math.abs((emaValue(ema) ?? 0) - 10) < 1e-9);
  ema = emaUpdate(ema, 0);
  // One step of 0 moves a converged EMA by (1 - beta) of the gap.
  assert.ok(Math.abs((emaValue(ema) ?? 0) - 9) < 1e-3);
});

test('ETA is remaining steps over the recent rate, counted down from now', () => {
  let window: ProgressSample[] = [];
  // 10 steps/s: step n at n * 100 ms.
  for (let s = 1; s <= 500; s += 1) window = pushSample(window, { step: s, timeMs: s * 100 });
  assert.equal(window.length, 64);
  assert.ok(Math.abs((stepsPerSecond(window) ?? 0) - 10) < 1e-9);
  assert.ok(Math.abs((etaSeconds(window, 1000) ?? 0) - 50) < 1e-9);
  // Two seconds after the last step, two seconds less remain.
  assert.ok(Math.abs((etaSeconds(window, 1000, 500 * 100 + 2000) ?? 0) - 48) < 1e-9);
  assert.equal(etaSeconds(window, null), null);
  assert.equal(etaSeconds(window.slice(0, 1), 1000), null);
  assert.equal(etaSeconds([{ step: 1000, timeMs: 0 }], 1000), 0);
});

test('ETA follows a slowdown within one window', () => {
  let window: ProgressSample[] = [];
  let t = 0;
  for (let s = 1; s <= 100; s += 1) window = pushSample(window, { step: s, timeMs: (t += 100) });
  for (let s = 101; s <= 200; s += 1) window = pushSample(window, { step: s, timeMs: (t += 1000) });
  // Now 1 step/s: 800 steps left.
  assert.ok(Math.abs((etaSeconds(window, 1000) ?? 0) - 800) < 1e-6);
});

test('sparkline spans the blocks from min to max and marks NaN as a gap', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([3, 3, 3], 10), '▄▄▄');
  assert.equal(sparkline([1, Number.NaN, 2], 3), '▁ █');
  assert.equal(sparkline([9, 0, 1, 2], 3), '▁▅█');
  assert.equal(sparkline([], 5), '');
});

test('history keeps the whole curve in bounded memory', () => {
  let h = historyInit(16);
  for (let i = 0; i < 1000; i += 1) h = historyPush(h, i);
  const values = historyValues(h);
  assert.ok(values.length <= 17);
  assert.ok(h.bucket >= 64);
  // Bucket means of a ramp stay increasing and cover the start and end.
  for (let i = 1; i < values.length; i += 1) assert.ok(values[i] > values[i - 1]);
  assert.ok(values[0] < 100);
  assert.ok(values[values.length - 1] > 900);
});

test('resample averages buckets to exactly the width', () => {
  assert.deepEqual(resample([1, 2, 3, 4], 2), [1.5, 3.5]);
  assert.deepEqual(resample([1, 2], 5), [1, 2]);
  assert.equal(
    resample(
      Array.from({ length: 1000 }, (_, i) => i),
      70,
    ).length,
    70,
  );
});

test('bar fills proportionally and clamps', () => {
  assert.equal(bar(0.5, 10), '█████░░░░░');
  assert.equal(bar(2, 4), '████');
  assert.equal(bar(Number.NaN, 3), '░░░');
});

test('fit pads or cuts to an exact width', () => {
  assert.equal(fit('abc', 5), 'abc  ');
  assert.equal(fit('abcdef', 4), 'abc…');
});

test('stripAnsi removes colour, cursor and OSC sequences', () => {
  const s = '\u001b[31mred\u001b[0m \u001b[2K\u001b[1Gline \u001b]0;title\u0007done';
  assert.equal(stripAnsi(s), 'red line done');
});

test('budgetLeftSeconds: the budget less the training time, never below 0; null without a budget', () => {
  assert.equal(budgetLeftSeconds({ budget_s: 1800, elapsed_train_s: 720 }), 1080);
  assert.equal(budgetLeftSeconds({ budget_s: 60, elapsed_train_s: 61.5 }), 0);
  assert.equal(budgetLeftSeconds({ elapsed_train_s: 720 }), null);
});
