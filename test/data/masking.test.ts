import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  candidateIndexes,
  createMaskedLmPredictions,
  numToPredict,
} from '../../src/data/masking.js';
import { Rng } from '../../src/data/rng.js';
import { buildMaskingVocab } from '../../src/data/vocab.js';
import { UserError } from '../../src/errors.js';

const TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '[unused0]', 'the', 'un', '##believ', '##able', 'cat', 'sat'];
const vocab = buildMaskingVocab(TOKENS);
const id = (t: string): number => TOKENS.indexOf(t);
const ids = (s: string): Int32Array => Int32Array.from(s.split(' ').map(id));

test('the vocabulary view finds special tokens, ## pieces and the replacement pool', () => {
  assert.equal(vocab.maskId, 4);
  assert.deepEqual([...vocab.randomCandidates], [6, 7, 8, 9, 10, 11]);
  assert.equal(vocab.isContinuation[id('##able')], 1);
  assert.equal(vocab.isContinuation[id('un')], 0);
  assert.throws(() => buildMaskingVocab(['[PAD]', '[CLS]', '[SEP]', 'a'], 'v.txt'), (e: unknown) => {
    return e instanceof UserError && e.message === 'v.txt: the vocabulary has no [MASK] token';
  });
});

test('candidates skip special tokens; whole words group ## pieces only when adjacent', () => {
  const t = ids('[CLS] the un ##believ ##able [UNK] cat [SEP] ##able sat [SEP]');
  assert.deepEqual(candidateIndexes(t, vocab, false), [[1], [2], [3], [4], [6], [8], [9]]);
  // ##able after [SEP] does not join the word before the separator.
  assert.deepEqual(candidateIndexes(t, vocab, true), [[1], [2, 3, 4], [6], [8], [9]]);
});

test('numToPredict rounds masked_lm_prob × n stochastically, floor 1, capped', () => {
  const params = { masked_lm_prob: 0.15, max_predictions_per_seq: 20, whole_word_masking: false };
  const rng = Rng.derive(1);
  assert.equal(numToPredict(0, params, rng), 0);
  assert.equal(numToPredict(2, params, rng), 1);
  assert.equal(numToPredict(1000, params, rng), 20);
  let sum = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const k = numToPredict(30, params, rng); // 4.5 → 4 or 5
    assert.ok(k === 4 || k === 5);
    sum += k;
  }
  // Mean 4.5, sd of a Bernoulli(0.5) mean = 0.5 / sqrt(n).
  assert.ok(Math.abs(sum / n - 4.5) < 4.5 * (0.5 / Math.sqrt(n)));
});

test('labels are the original ids at ascending positions; only those positions change', () => {
  const t = ids('[CLS] the cat sat the cat [SEP] sat the un ##believ ##able cat [SEP]');
  const params = { masked_lm_prob: 0.5, max_predictions_per_seq: 20, whole_word_masking: true };
  for (let seed = 0; seed < 200; seed++) {
    const m = createMaskedLmPredictions(t, params, vocab, Rng.derive(seed));
    const pos = [...m.maskedLmPositions];
    assert.deepEqual(pos, [...pos].sort((a, b) => a - b));
    assert.deepEqual([...m.maskedLmIds], pos.map((p) => t[p]));
    for (let i = 0; i < t.length; i++) {
      if (!pos.includes(i)) assert.equal(m.inputIds[i], t[i]);
      else assert.ok(!vocab.isSpecial[t[i]]);
    }
    // un ##believ ##able is masked whole or not at all.
    const word = [9, 10, 11].filter((p) => pos.includes(p)).length;
    assert.ok(word === 0 || word === 3);
    assert.ok(pos.length <= 6, 'budget round(12 × 0.5) = 6 is never exceeded');
  }
});
