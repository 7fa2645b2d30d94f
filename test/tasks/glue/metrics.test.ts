import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GLUE_TASKS } from '../../../src/tasks/glue/tasks.js';
import { argmaxRows, computeGlueMetrics, scoreGlueSplit } from '../../../src/tasks/glue/metrics.js';
import { UserError } from '../../../src/errors.js';
import { aggregateSeeds, meanStd } from '../../../src/metrics/aggregate.js';

test('computeGlueMetrics reports each task’s own metrics', () => {
  assert.deepEqual(Object.keys(computeGlueMetrics(GLUE_TASKS.mrpc, [1, 0], [1, 1])), [
    'f1',
    'accuracy',
  ]);
  assert.deepEqual(Object.keys(computeGlueMetrics(GLUE_TASKS.cola, [1, 0], [1, 1])), ['mcc']);
  assert.deepEqual(Object.keys(computeGlueMetrics(GLUE_TASKS.stsb, [1, 2, 3], [1, 2, 4])), [
    'pearson',
    'spearman',
  ]);
  assert.deepEqual(Object.keys(computeGlueMetrics(GLUE_TASKS.qnli, [1], [1])), ['accuracy']);
});

test('computeGlueMetrics values: MRPC F1/acc and STS-B correlations', () => {
  const m = computeGlueMetrics(GLUE_TASKS.mrpc, [1, 1, 0, 0], [1, 0, 0, 1]);
  assert.equal(m.accuracy, 0.5);
  assert.equal(m.f1, 0.5);
  const s = computeGlueMetrics(GLUE_TASKS.stsb, [0.1, 0.2, 0.3], [1, 2, 3]);
  assert.ok(Math.abs(s.pearson! - 1) < 1e-12);
  assert.equal(s.spearman, 1);
  assert.throws(() => computeGlueMetrics(GLUE_TASKS.sst2, [1], [1, 0]), RangeError);
});

test('argmaxRows picks the largest logit per row, first on ties', () => {
  assert.deepEqual([...argmaxRows([0.1, 0.9, 2, -1, 0.5, 0.5], 2)], [1, 0, 0]);
  assert.deepEqual([...argmaxRows([1, 3, 2], 3)], [1]);
});

test('meanStd uses the sample standard deviation; one run has std 0', () => {
  const r = meanStd([0.8, 0.9, 1.0]);
  assert.ok(Math.abs(r.mean - 0.9) < 1e-12);
  assert.ok(Math.abs(r.std - 0.1) < 1e-12);
  assert.equal(r.n, 3);
  assert.deepEqual(meanStd([0.7]), { mean: 0.7, std: 0, n: 1, values: [0.7] });
  assert.ok(Number.isNaN(meanStd([]).mean));
});

test('aggregateSeeds combines per-seed metric objects metric by metric', () => {
  const agg = aggregateSeeds([
    { f1: 0.8, accuracy: 0.7 },
    { f1: 0.9, accuracy: 0.75 },
  ]);
  assert.ok(Math.abs(agg.f1!.mean - 0.85) < 1e-12);
  assert.ok(Math.abs(agg.accuracy!.std - Math.sqrt(0.00125)) < 1e-12);
  assert.deepEqual(agg.f1!.values, [0.8, 0.9]);
});

test('scoreGlueSplit scores labelled examples and refuses an unlabelled test split', () => {
  const m = scoreGlueSplit(GLUE_TASKS.sst2, 'dev', [{ label: 1 }, { label: 0 }], [1, 1]);
  assert.equal(m.accuracy, 0.5);
  assert.throws(
    () => scoreGlueSplit(GLUE_TASKS.sst2, 'test', [{ label: undefined }], [1]),
    (err: Error) => err instanceof UserError && /glue\/sst2 test has no labels/.test(err.message),
  );
});
