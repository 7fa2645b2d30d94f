/**
 * The pretraining stream on real text (~30,000 instances an epoch: the
 * 29-book gutenberg_00 shard where the full corpus is present, else the
 * shipped 3-book sample with dupe_factor 45), checked against
 * google-research/bert's recipe.
 * Tolerances are 4.5 standard deviations of the binomial distribution with the
 * test's own n and p, so a correct pipeline fails about once in 150,000 runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRETRAIN_DATA_DEFAULTS } from '../../src/data/config.js';
import { collateBatch } from '../../src/data/batch.js';
import { createMaskedLmPredictions, candidateIndexes } from '../../src/data/masking.js';
import { createPipeline } from '../../src/data/pipeline.js';
import { RNG_STREAM } from '../../src/data/instances.js';
import { Rng } from '../../src/data/rng.js';
import type { MaskedInstance } from '../../src/data/stream.js';
import { buildMaskingVocab } from '../../src/data/vocab.js';
import {
  loadVocabTokens,
  memorySource,
  STATISTICS_CORPUS,
  tokenizeCorpus,
} from './helpers/corpus.js';
import { assertBinomial, assertReplacementSplit } from './helpers/masking-statistics.js';

const SEED = 20261125;
const vocabTokens = loadVocabTokens();
const vocab = buildMaskingVocab(vocabTokens);
const docs = tokenizeCorpus(STATISTICS_CORPUS.path, vocabTokens);
const source = memorySource(docs);
const config = { ...PRETRAIN_DATA_DEFAULTS, dupe_factor: STATISTICS_CORPUS.dupeFactor };
const { stream, shape, split } = createPipeline(source, vocab, config, SEED);
const plan = stream.epochPlan(0);
const instances: MaskedInstance[] = [];
for (let i = 0; i < plan.count; i++) instances.push(stream.instanceAt({ epoch: 0, index: i }));

test(`an epoch of ${STATISTICS_CORPUS.name} gives at least 20,000 instances`, () => {
  assert.ok(plan.count >= 20000, `only ${plan.count} instances`);
});

test('every instance is [CLS] A [SEP] B [SEP] within max_seq_length, segment ids 0 then 1', () => {
  for (const inst of instances) {
    const t = inst.originalIds;
    assert.ok(t.length <= config.max_seq_length);
    assert.equal(t[0], vocab.clsId);
    assert.equal(t[t.length - 1], vocab.sepId);
    const seps = [...t.keys()].filter((i) => t[i] === vocab.sepId);
    assert.equal(seps.length, 2, 'exactly two [SEP]');
    const firstSep = seps[0];
    assert.ok(firstSep >= 2 && firstSep <= t.length - 3, 'A and B are both non-empty');
    for (let i = 0; i < t.length; i++) {
      assert.equal(inst.tokenTypeIds[i], i <= firstSep ? 0 : 1);
    }
  }
});

test('masked fraction of eligible tokens is masked_lm_prob (cap and floor not binding)', () => {
  const p = config.masked_lm_prob;
  let masked = 0;
  let eligible = 0;
  let maskedA = 0;
  let eligibleA = 0;
  for (const inst of instances) {
    const n = candidateIndexes(inst.originalIds, vocab, false).length;
    if (n * p < 1 || Math.ceil(n * p) > config.max_predictions_per_seq) continue;
    masked += inst.maskedLmPositions.length;
    eligible += n;
    for (let i = 0; i < inst.originalIds.length; i++) {
      if (inst.tokenTypeIds[i] === 0 && !vocab.isSpecial[inst.originalIds[i]]) eligibleA++;
    }
    for (const pos of inst.maskedLmPositions) if (inst.tokenTypeIds[pos] === 0) maskedA++;
  }
  assert.ok(eligible > 1_000_000);
  assertBinomial('masked / eligible', masked, eligible, p);
  // Positions are chosen uniformly: segment A and segment B get the same rate.
  assertBinomial('masked / eligible in A', maskedA, eligibleA, p);
  assertBinomial('masked / eligible in B', masked - maskedA, eligible - eligibleA, p);
});

test('replacements split 80% [MASK] / 10% random / 10% unchanged', () => {
  assertReplacementSplit(instances, vocab, 400_000);
});

test('special tokens are never masked and random replacements are never special', () => {
  for (const inst of instances) {
    let k = 0;
    for (let i = 0; i < inst.inputIds.length; i++) {
      const isPredicted = inst.maskedLmPositions[k] === i;
      if (isPredicted) {
        k++;
        assert.equal(vocab.isSpecial[inst.originalIds[i]], 0, 'a special token was chosen');
        assert.equal(inst.maskedLmIds[k - 1], inst.originalIds[i], 'label is the original id');
        const now = inst.inputIds[i];
        assert.ok(now === vocab.maskId || !vocab.isSpecial[now], 'random replacement is special');
      } else {
        assert.equal(inst.inputIds[i], inst.originalIds[i], 'an unpredicted token changed');
      }
    }
    assert.equal(k, inst.maskedLmPositions.length, 'positions ascending and in range');
    assert.ok(k >= 1 && k <= config.max_predictions_per_seq);
  }
});

test('NotNext is half of the instances and its B never comes from A’s document', () => {
  let notNext = 0;
  const heldout = new Set(split.heldout);
  for (const inst of instances) {
    if (inst.isRandomNext) {
      notNext++;
      assert.notEqual(inst.docB, inst.docA);
    } else {
      assert.equal(inst.docB, inst.docA);
    }
    assert.ok(!heldout.has(inst.docA) && !heldout.has(inst.docB), 'held-out text in training');
  }
  assertBinomial('NotNext', notNext, instances.length, 0.5);
});

test('batches: padding is never masked and masks, segment ids and weights agree', () => {
  for (const padTo of ['batch', 'max'] as const) {
    for (let start = 0; start < 4096; start += 32) {
      const group = instances.slice(start, start + 32);
      const b = collateBatch(group, { ...shape, pad_to: padTo });
      const T = b.seq_length;
      const P = b.num_predictions;
      assert.equal(T, padTo === 'max' ? 128 : Math.max(...group.map((g) => g.inputIds.length)));
      assert.equal(b.input_ids.length, 32 * T);
      for (let r = 0; r < 32; r++) {
        const n = group[r].inputIds.length;
        for (let t = 0; t < T; t++) {
          const real = t < n;
          assert.equal(b.attention_mask[r * T + t], real ? 1 : 0);
          if (!real) {
            assert.equal(b.input_ids[r * T + t], vocab.padId);
            assert.equal(b.token_type_ids[r * T + t], 0);
          }
        }
        for (let k = 0; k < P; k++) {
          const w = b.masked_lm_weights[r * P + k];
          const pos = b.masked_lm_positions[r * P + k];
          if (w === 1) {
            assert.equal(b.attention_mask[r * T + pos], 1, 'a padding position is masked');
            assert.notEqual(b.masked_lm_ids[r * P + k], vocab.padId);
          } else {
            assert.equal(w, 0);
            assert.equal(pos, 0);
            assert.equal(b.masked_lm_ids[r * P + k], 0);
          }
        }
        assert.equal(b.next_sentence_labels[r], group[r].isRandomNext ? 1 : 0);
      }
    }
  }
});

test('same seed gives an identical stream; another seed a different one', () => {
  const again = createPipeline(source, vocab, config, SEED).stream;
  const other = createPipeline(source, vocab, config, SEED + 1).stream;
  let differ = 0;
  for (let i = 0; i < 2000; i++) {
    const a = instances[i];
    const b = again.instanceAt({ epoch: 0, index: i });
    assert.deepEqual(b.inputIds, a.inputIds);
    assert.deepEqual(b.maskedLmPositions, a.maskedLmPositions);
    assert.equal(b.isRandomNext, a.isRandomNext);
    const c = other.instanceAt({ epoch: 0, index: i });
    if (c.inputIds.length !== a.inputIds.length || c.inputIds.some((v, k) => v !== a.inputIds[k])) {
      differ++;
    }
  }
  assert.ok(differ > 1990, `only ${differ} of 2000 instances differ under another seed`);
});

test('a different epoch masks the same tokens differently', () => {
  let samePositions = 0;
  const n = 5000;
  for (let i = 0; i < n; i++) {
    const inst = instances[i];
    const rng = Rng.derive(SEED, RNG_STREAM.masking, 1, i);
    const m = createMaskedLmPredictions(inst.originalIds, config, vocab, rng);
    const same =
      m.maskedLmPositions.length === inst.maskedLmPositions.length &&
      m.maskedLmPositions.every((v, k) => v === inst.maskedLmPositions[k]);
    if (same) samePositions++;
  }
  // Two independent 19-of-125 draws coincide with probability ~1e-22; only
  // very short sequences (1 of 2 tokens) may repeat.
  assert.ok(samePositions < n * 0.01, `${samePositions} of ${n} re-masked identically`);
  // And the epoch-1 stream itself is a different one (pairs are rebuilt too).
  const e1 = stream.instanceAt({ epoch: 1, index: 0 });
  const e0 = instances[0];
  assert.ok(
    e1.inputIds.length !== e0.inputIds.length || e1.inputIds.some((v, k) => v !== e0.inputIds[k]),
  );
});

test('whole-word masking masks every piece of a chosen word and nothing else of it', () => {
  const wwm = createPipeline(source, vocab, { ...config, whole_word_masking: true }, SEED).stream;
  let continuations = 0;
  for (let i = 0; i < 3000; i++) {
    const inst = wwm.instanceAt({ epoch: 0, index: i });
    const chosen = new Set(inst.maskedLmPositions);
    for (const word of candidateIndexes(inst.originalIds, vocab, true)) {
      const hits = word.filter((pos) => chosen.has(pos)).length;
      assert.ok(hits === 0 || hits === word.length, 'a word was partly masked');
      if (hits > 0 && word.length > 1) continuations++;
    }
    assert.ok(chosen.size <= config.max_predictions_per_seq);
  }
  assert.ok(continuations > 100, 'multi-piece words were masked');
});
