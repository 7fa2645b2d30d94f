import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/data/rng.js';

test('a derived generator is a pure function of (seed, keys)', () => {
  const a = Rng.derive(7, 1, 2, 3);
  const b = Rng.derive(7, 1, 2, 3);
  const xs = Array.from({ length: 100 }, () => a.nextUint32());
  assert.deepEqual(
    Array.from({ length: 100 }, () => b.nextUint32()),
    xs,
  );
  for (const other of [Rng.derive(8, 1, 2, 3), Rng.derive(7, 1, 2, 4), Rng.derive(7, 1, 3, 2)]) {
    assert.notDeepEqual(
      Array.from({ length: 100 }, () => other.nextUint32()),
      xs,
    );
  }
});

test('state() round-trips: a restored generator continues the same sequence', () => {
  const a = Rng.derive(123, 4);
  for (let i = 0; i < 17; i++) a.random();
  const b = Rng.fromState(JSON.parse(JSON.stringify(a.state())) as [number, number, number, number]);
  for (let i = 0; i < 50; i++) assert.equal(b.nextUint32(), a.nextUint32());
});

test('keys beyond 32 bits still separate streams', () => {
  const a = Rng.derive(1, 2 ** 40).nextUint32();
  const b = Rng.derive(1, 2 ** 40 + 1).nextUint32();
  const c = Rng.derive(1, 0).nextUint32();
  assert.notEqual(a, b);
  assert.notEqual(a, c);
});

test('below(n) is uniform (chi-square, 10 bins, 100,000 draws)', () => {
  const rng = Rng.derive(99);
  const counts = new Array<number>(10).fill(0);
  const n = 100_000;
  for (let i = 0; i < n; i++) counts[rng.below(10)]++;
  const expected = n / 10;
  const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  // 9 degrees of freedom: P(chi2 > 33.7) ≈ 1e-4.
  assert.ok(chi2 < 33.7, `chi2 = ${chi2}`);
});

test('random() lies in [0, 1) with mean 1/2 and randint covers both ends', () => {
  const rng = Rng.derive(5);
  let sum = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const u = rng.random();
    assert.ok(u >= 0 && u < 1);
    sum += u;
  }
  // sd of the mean of U(0,1) is sqrt(1/12/n).
  assert.ok(Math.abs(sum / n - 0.5) < 4.5 * Math.sqrt(1 / 12 / n));
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) seen.add(rng.randint(2, 5));
  assert.deepEqual([...seen].sort(), [2, 3, 4, 5]);
});
