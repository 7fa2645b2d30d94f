/**
 * Statistical assertions shared by the masking tests of both objectives
 * (test/data/statistics.test.ts, test/data/statistics-mlm.test.ts).
 */
import assert from 'node:assert/strict';
import type { MaskedInstance } from '../../../src/data/stream.js';
import type { MaskingVocab } from '../../../src/data/vocab.js';

/** Tolerance in binomial standard deviations. */
export const Z = 4.5;

/** Assert |observed/n − p| ≤ Z·sqrt(p(1−p)/n). */
export function assertBinomial(what: string, hits: number, n: number, p: number): void {
  const tol = Z * Math.sqrt((p * (1 - p)) / n);
  const observed = hits / n;
  assert.ok(
    Math.abs(observed - p) <= tol,
    `${what}: ${observed.toFixed(5)} vs ${p} ± ${tol.toFixed(5)} (n = ${n})`,
  );
}

/** Masked positions split 80% [MASK] / 10% random / 10% unchanged, over more than `minTotal` predictions. */
export function assertReplacementSplit(
  instances: readonly MaskedInstance[],
  vocab: MaskingVocab,
  minTotal: number,
): void {
  let total = 0;
  let mask = 0;
  let kept = 0;
  let random = 0;
  for (const inst of instances) {
    for (const pos of inst.maskedLmPositions) {
      total++;
      const now = inst.inputIds[pos];
      if (now === vocab.maskId) mask++;
      else if (now === inst.originalIds[pos]) kept++;
      else random++;
    }
  }
  assert.ok(total > minTotal);
  // A random draw equal to the original counts as unchanged.
  const pSame = 0.1 / vocab.randomCandidates.length;
  assertBinomial('[MASK]', mask, total, 0.8);
  assertBinomial('unchanged', kept, total, 0.1 + pSame);
  assertBinomial('random', random, total, 0.1 - pSame);
}
