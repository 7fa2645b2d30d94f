import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepMask } from '../../src/model/dropout-mask.js';

test('dropout keep-mask: rate within binomial tolerance, values 0 or 1/keep, mean ≈ 1', () => {
  for (const rate of [0.1, 0.5]) {
    const keep = 1 - rate;
    const n = 1_000_000;
    const m = keepMask(`rate/${rate}`, n, keep, null);
    let kept = 0;
    let sum = 0;
    for (const v of m) {
      if (v !== 0) {
        assert.equal(v, Math.fround(1 / keep));
        kept++;
      }
      sum += v;
    }
    const sigma = Math.sqrt(n * keep * (1 - keep));
    assert.ok(Math.abs(kept - n * keep) < 5 * sigma, `rate ${rate}: kept ${kept} of ${n}`);
    assert.ok(Math.abs(sum / n - 1) < (5 * sigma) / (n * keep));
  }
});

test('dropout keep-mask: a function of the seed alone; other seeds and neighbours are uncorrelated', () => {
  const a = keepMask('7/3', 100_000, 0.9, null);
  assert.deepEqual(keepMask('7/3', 100_000, 0.9, null), a);
  for (const other of ['7/4', '8/3', '7/3 ']) {
    const b = keepMask(other, 100_000, 0.9, null);
    // Independent masks agree where both keep or both drop: 0.9² + 0.1² = 0.82.
    let same = 0;
    for (let i = 0; i < a.length; i++) if ((a[i] === 0) === (b[i] === 0)) same++;
    assert.ok(Math.abs(same / a.length - 0.82) < 0.01, `${other}: agreement ${same / a.length}`);
  }
  // Consecutive positions are independent too (lag-1 agreement).
  let lag = 0;
  for (let i = 1; i < a.length; i++) if ((a[i] === 0) === (a[i - 1] === 0)) lag++;
  assert.ok(Math.abs(lag / (a.length - 1) - 0.82) < 0.01);
});
