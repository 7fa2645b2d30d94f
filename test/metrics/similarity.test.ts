/** meanPairwiseCosine (src/metrics/similarity.ts) against known cases and the pair-by-pair sum. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanPairwiseCosine } from '../../src/metrics/similarity.js';

test('meanPairwiseCosine: identical, orthogonal and opposite directions; zero rows left out', () => {
  assert.equal(meanPairwiseCosine([1, 2, 2, 4, 3, 6], 3, 2), 1);
  assert.ok(Math.abs(meanPairwiseCosine([1, 0, 0, 5], 2, 2)) < 1e-15);
  assert.ok(Math.abs(meanPairwiseCosine([1, 1, -2, -2], 2, 2) + 1) < 1e-15);
  assert.equal(meanPairwiseCosine([0, 0, 1, 0, 3, 0], 3, 2), 1);
  assert.ok(Number.isNaN(meanPairwiseCosine([0, 0, 1, 0], 2, 2)));
  assert.throws(() => meanPairwiseCosine([1, 2, 3], 2, 2), /need 4 numbers/);
});

test('meanPairwiseCosine equals the mean over all pairs computed one by one', () => {
  let s = 12345;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31 - 0.3;
  };
  const n = 37;
  const d = 11;
  const rows = Array.from({ length: n * d }, rand);
  let sum = 0;
  let pairs = 0;
  const row = (i: number): number[] => rows.slice(i * d, (i + 1) * d);
  const norm = (v: number[]): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = row(i);
      const b = row(j);
      sum += a.reduce((acc, x, k) => acc + x * b[k], 0) / (norm(a) * norm(b));
      pairs++;
    }
  }
  const got = meanPairwiseCosine(rows, n, d);
  assert.ok(Math.abs(got - sum / pairs) < 1e-12, `${got} vs ${sum / pairs}`);
  assert.ok(got > 0.05, 'the offset draws share a direction');
});
