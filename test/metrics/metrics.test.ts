import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, f1Score, matthewsCorrcoef } from '../../src/metrics/classification.js';
import { pearson, rankAverage, spearman } from '../../src/metrics/correlation.js';
import { rng } from '../helpers/rng.js';
import { sklearnReference, type ClassificationCase, type CorrelationCase } from './reference.js';

function noisyLabels(n: number, k: number, agree: number, seed: number): ClassificationCase {
  const r = rng(seed);
  const gold = Array.from({ length: n }, () => Math.floor(r() * k));
  const pred = gold.map((g) => (r() < agree ? g : Math.floor(r() * k)));
  return { pred, gold };
}

const CLS: ClassificationCase[] = [
  { pred: [1, 0, 1, 1, 0, 1, 0, 0], gold: [1, 0, 0, 1, 0, 1, 1, 0] },
  // all labels one class, predictions mixed: MCC undefined → 0
  { pred: [1, 0, 1, 1], gold: [1, 1, 1, 1] },
  // all predictions one class
  { pred: [0, 0, 0, 0, 0], gold: [1, 0, 1, 0, 0] },
  // everything one class (no positives anywhere): F1 undefined → 0
  { pred: [0, 0, 0], gold: [0, 0, 0] },
  // perfect and perfectly wrong
  { pred: [1, 0, 1, 0], gold: [1, 0, 1, 0] },
  { pred: [0, 1, 0, 1], gold: [1, 0, 1, 0] },
  noisyLabels(1043, 2, 0.7, 1),
  noisyLabels(408, 2, 0.5, 2),
  // three classes (MNLI-like / the AX R3 coefficient)
  noisyLabels(500, 3, 0.6, 3),
  { pred: [0, 1, 2, 2, 1, 0, 2], gold: [0, 2, 2, 1, 1, 0, 0] },
];

function noisyScores(n: number, seed: number, round: boolean): CorrelationCase {
  const r = rng(seed);
  const x = Array.from({ length: n }, () => (round ? Math.round(r() * 20) / 4 : r() * 5));
  const y = x.map((v) => v + (r() - 0.5) * 3);
  return { x, y: round ? y.map((v) => Math.round(v * 2) / 2) : y };
}

const CORR: CorrelationCase[] = [
  { x: [1, 2, 3, 4, 5], y: [2, 4, 5, 4, 5] },
  // ties on both sides (Spearman must average ranks)
  { x: [1, 2, 2, 3, 3, 3, 4], y: [1, 1, 2, 2, 3, 5, 5] },
  { x: [5, 5, 5, 1, 1, 2], y: [0.5, 0.5, 1.5, 4, 4, 3] },
  // constant vector: undefined → NaN (scipy)
  { x: [2, 2, 2, 2], y: [1, 2, 3, 4] },
  { x: [1, 2, 3, 4], y: [3, 3, 3, 3] },
  // perfectly anti-correlated, large offset (numerical care)
  { x: [1e6 + 1, 1e6 + 2, 1e6 + 3], y: [3, 2, 1] },
  noisyScores(1500, 4, false),
  noisyScores(1500, 5, true),
];

const ref = sklearnReference(CLS, CORR);

function close(actual: number, expected: number | null, what: string): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: ${actual} vs reference ${expected}`);
}

test('accuracy, binary F1 and MCC equal scikit-learn on fixed vectors incl. one-class edge cases', (t) => {
  if (typeof ref === 'string') return t.skip(ref);
  CLS.forEach((c, i) => {
    close(accuracy(c.pred, c.gold), ref.accuracy[i]!, `accuracy case ${i}`);
    close(matthewsCorrcoef(c.pred, c.gold), ref.mcc[i]!, `mcc case ${i}`);
    if (ref.f1[i] !== null) close(f1Score(c.pred, c.gold), ref.f1[i]!, `f1 case ${i}`);
  });
});

test('Pearson and Spearman equal scipy on fixed vectors incl. ties and constant input', (t) => {
  if (typeof ref === 'string') return t.skip(ref);
  CORR.forEach((c, i) => {
    close(pearson(c.x, c.y), ref.pearson[i]!, `pearson case ${i}`);
    close(spearman(c.x, c.y), ref.spearman[i]!, `spearman case ${i}`);
  });
});

test('MCC is 0 when all labels (or all predictions) are one class, as in sklearn', () => {
  assert.equal(matthewsCorrcoef([1, 1, 1], [1, 1, 1]), 0);
  assert.equal(matthewsCorrcoef([0, 1, 0], [1, 1, 1]), 0);
  assert.equal(matthewsCorrcoef([0, 0, 0], [0, 1, 1]), 0);
});

test('binary MCC equals the textbook TP/TN/FP/FN formula', () => {
  const pred = [1, 1, 0, 0, 1, 0, 1, 0, 0, 1];
  const gold = [1, 0, 0, 1, 1, 0, 1, 0, 1, 1];
  const [tp, tn, fp, fn] = [4, 3, 1, 2];
  const expected = (tp * tn - fp * fn) / Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  assert.ok(Math.abs(matthewsCorrcoef(pred, gold) - expected) < 1e-15);
});

test('F1 is 0 when there are no positive labels and no positive predictions', () => {
  assert.equal(f1Score([0, 0], [0, 0]), 0);
  assert.equal(f1Score([1, 1], [1, 1]), 1);
});

test('correlations of a constant vector are NaN, as scipy returns', () => {
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(spearman([1, 2, 3], [4, 4, 4])));
  assert.ok(Number.isNaN(pearson([1], [1])));
});

test('rankAverage gives tied values the mean of their ranks', () => {
  assert.deepEqual([...rankAverage([10, 20, 20, 5, 20])], [2, 4, 4, 1, 4]);
  assert.deepEqual([...rankAverage([3, 3])], [1.5, 1.5]);
});

test('length mismatches throw instead of scoring a truncated set', () => {
  assert.throws(() => accuracy([1, 0], [1]), RangeError);
  assert.throws(() => pearson([1, 2], [1, 2, 3]), RangeError);
});

test('accuracy of an empty set is NaN, not 0 or 1', () => {
  assert.ok(Number.isNaN(accuracy([], [])));
});
