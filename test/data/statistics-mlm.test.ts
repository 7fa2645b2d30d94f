/**
 * Masking of the MLM-only stream (`train.objective: mlm`: packed 128-token
 * sequences) on real text, the same corpus as test/data/statistics.test.ts
 * (~25,000 sequences an epoch). Tolerances are 4.5 binomial standard
 * deviations with the test's own n and p.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRETRAIN_DATA_DEFAULTS } from '../../src/data/config.js';
import { candidateIndexes } from '../../src/data/masking.js';
import { createPipeline } from '../../src/data/pipeline.js';
import type { MaskedInstance } from '../../src/data/stream.js';
import type { PackedEpochPlan } from '../../src/data/packing.js';
import { buildMaskingVocab } from '../../src/data/vocab.js';
import {
  loadVocabTokens,
  memorySource,
  STATISTICS_CORPUS,
  tokenizeCorpus,
} from './helpers/corpus.js';
import { assertBinomial, assertReplacementSplit } from './helpers/masking-statistics.js';

const SEED = 20261206;
const vocabTokens = loadVocabTokens();
const vocab = buildMaskingVocab(vocabTokens);
const source = memorySource(tokenizeCorpus(STATISTICS_CORPUS.path, vocabTokens));
const config = {
  ...PRETRAIN_DATA_DEFAULTS,
  dupe_factor: STATISTICS_CORPUS.dupeFactor,
  objective: 'mlm' as const,
};
const { stream } = createPipeline(source, vocab, config, SEED);
const plan = stream.epochPlan(0);
const instances: MaskedInstance[] = [];
for (let i = 0; i < plan.count; i++) instances.push(stream.instanceAt({ epoch: 0, index: i }));

test(`an epoch of ${STATISTICS_CORPUS.name} packs into at least 20,000 full sequences`, () => {
  assert.ok(plan.count >= 20000, `only ${plan.count} sequences`);
  const short = instances.filter((inst) => inst.inputIds.length < config.max_seq_length);
  assert.ok(short.length <= 1, `${short.length} short sequences`);
  if (short.length === 1) assert.equal(short[0], instances[instances.length - 1]);
});

test('masked fraction of eligible tokens is masked_lm_prob, uniform over the sequence', () => {
  const p = config.masked_lm_prob;
  let masked = 0;
  let eligible = 0;
  let capped = 0;
  // First and second half of the positions: masking does not favour either.
  let maskedFront = 0;
  let eligibleFront = 0;
  const half = config.max_seq_length / 2;
  for (const inst of instances) {
    const n = candidateIndexes(inst.originalIds, vocab, false).length;
    if (Math.ceil(n * p) > config.max_predictions_per_seq) capped++;
    masked += inst.maskedLmPositions.length;
    eligible += n;
    for (let i = 0; i < half; i++) if (!vocab.isSpecial[inst.originalIds[i]]) eligibleFront++;
    for (const pos of inst.maskedLmPositions) if (pos < half) maskedFront++;
  }
  // With 126 tokens, 15% is ~19 predictions: max_predictions_per_seq 20 never binds.
  assert.equal(capped, 0, `${capped} sequences would need more than max_predictions_per_seq`);
  assert.ok(eligible > 2_000_000, `only ${eligible} eligible tokens`);
  assertBinomial('masked / eligible', masked, eligible, p);
  assertBinomial('masked / eligible in the first half', maskedFront, eligibleFront, p);
  assertBinomial('masked / eligible in the second half', masked - maskedFront, eligible - eligibleFront, p);
});

test('replacements split 80% [MASK] / 10% random / 10% unchanged', () => {
  assertReplacementSplit(instances, vocab, 400_000);
});

test('[CLS], [SEP] separators and other special tokens are never predicted; one segment', () => {
  let separators = 0;
  for (const inst of instances) {
    assert.equal(inst.originalIds[0], vocab.clsId);
    assert.equal(inst.originalIds[inst.originalIds.length - 1], vocab.sepId);
    assert.ok(inst.tokenTypeIds.every((t) => t === 0));
    assert.equal(inst.isRandomNext, false);
    for (let i = 1; i < inst.originalIds.length - 1; i++) {
      if (inst.originalIds[i] === vocab.sepId) separators++;
    }
    for (const pos of inst.maskedLmPositions) {
      assert.equal(vocab.isSpecial[inst.originalIds[pos]], 0, 'a special token was chosen');
      const now = inst.inputIds[pos];
      assert.ok(now === vocab.maskId || !vocab.isSpecial[now], 'random replacement is special');
    }
    assert.ok(inst.maskedLmPositions.length >= 1);
    assert.ok(inst.maskedLmPositions.length <= config.max_predictions_per_seq);
  }
  // One [SEP] between every two documents of the epoch's stream.
  assert.equal(separators, (plan as PackedEpochPlan).documentOrder.length - 1);
  assert.ok(separators >= 20);
});
