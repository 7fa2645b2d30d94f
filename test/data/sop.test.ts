/**
 * Sentence-order pairs (`train.objective: mlm+sop`, src/data/instances.ts with
 * pairing 'sop'): both segments are consecutive stretches of one document,
 * swapped for half of the instances, and one document is enough.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collateBatch } from '../../src/data/batch.js';
import { PRETRAIN_DATA_DEFAULTS } from '../../src/data/config.js';
import { inspectInstances } from '../../src/data/inspect.js';
import {
  createInstancesFromDocument,
  lengthTable,
  materializeInstance,
  planEpoch,
  type InstanceRecipe,
} from '../../src/data/instances.js';
import { createPipeline } from '../../src/data/pipeline.js';
import { Rng } from '../../src/data/rng.js';
import { buildMaskingVocab } from '../../src/data/vocab.js';
import { UserError } from '../../src/errors.js';
import { loadVocabTokens, memorySource, SAMPLE_CORPUS, syntheticDocs, tokenizeCorpus } from './helpers/corpus.js';
import { assertBinomial } from './helpers/masking-statistics.js';

const CLS = 101;
const SEP = 102;

test('SOP pairs: two adjacent stretches of one document, in order or swapped, chunks covering it', () => {
  const docs = syntheticDocs([Array.from({ length: 60 }, (_, s) => 3 + (s % 4)), [5, 5]]);
  const source = memorySource(docs);
  const lengths = lengthTable(source);
  let swapped = 0;
  let inOrder = 0;
  for (let seed = 0; seed < 30; seed++) {
    const recipes: InstanceRecipe[] = [];
    const shape = { max_seq_length: 30, short_seq_prob: 0.1 };
    createInstancesFromDocument(lengths, 0, Int32Array.from([0, 1]), shape, Rng.derive(seed), (r) => recipes.push(r), 'sop');
    let expectedStart = 0;
    for (const r of recipes) {
      assert.equal(r.docA, 0);
      assert.equal(r.docB, 0, 'B never comes from another document');
      const first = Math.min(r.aStart, r.bStart);
      assert.equal(first, expectedStart, 'each chunk starts where the previous one ended');
      if (r.isRandomNext) {
        swapped++;
        assert.equal(r.aStart, r.bEnd, 'swapped: A is the stretch right after B');
        expectedStart = r.aEnd;
      } else {
        inOrder++;
        assert.equal(r.bStart, r.aEnd, 'in order: B continues A');
        expectedStart = r.bEnd;
      }
      const inst = materializeInstance(source, r, { clsId: CLS, sepId: SEP });
      assert.ok(inst.tokens.length <= 30);
      const sep = inst.tokens.indexOf(SEP);
      const a = inst.tokens.subarray(1, sep);
      const b = inst.tokens.subarray(sep + 1, inst.tokens.length - 1);
      assert.ok(a.length >= 1 && b.length >= 1);
      // Token ids grow along the document: B's come after A's unless swapped.
      if (r.isRandomNext) assert.ok(b[b.length - 1] < a[0], `swapped ${b[b.length - 1]} < ${a[0]}`);
      else assert.ok(b[0] > a[a.length - 1], `in order ${b[0]} > ${a[a.length - 1]}`);
      assert.equal(inst.isRandomNext, r.isRandomNext);
    }
    // Every sentence is in some pair, except possibly a lone last one.
    assert.ok(expectedStart >= 59, `chunks end at sentence ${expectedStart} of 60`);
  }
  assert.ok(swapped > 50 && inOrder > 50, `${swapped} swapped, ${inOrder} in order`);
});

test('the NSP plan is unchanged by the SOP option (same recipes with the default pairing)', () => {
  const docs = syntheticDocs([Array.from({ length: 30 }, () => 4), Array.from({ length: 30 }, () => 4)]);
  const lengths = lengthTable(memorySource(docs));
  const ids = Int32Array.from([0, 1]);
  const options = { max_seq_length: 24, short_seq_prob: 0.1, dupe_factor: 2 };
  const byDefault = planEpoch(lengths, ids, ids, options, 7, 0);
  const nsp = planEpoch(lengths, ids, ids, options, 7, 0, 'nsp');
  const sop = planEpoch(lengths, ids, ids, options, 7, 0, 'sop');
  const mixed = planEpoch(lengths, ids, ids, options, 7, 0, 'nsp+sop');
  assert.deepEqual(nsp.recipes, byDefault.recipes);
  assert.notDeepEqual(sop.recipes, nsp.recipes);
  assert.notDeepEqual(mixed.recipes, nsp.recipes);
  assert.notDeepEqual(mixed.recipes, sop.recipes);
});

test('NSP+SOP pairs: half in order, a quarter from another document, a quarter swapped, each shaped as its kind', () => {
  const docs = syntheticDocs([Array.from({ length: 60 }, (_, s) => 3 + (s % 4)), Array.from({ length: 40 }, () => 5)]);
  const source = memorySource(docs);
  const lengths = lengthTable(source);
  const counts = { inOrder: 0, otherDocument: 0, swapped: 0 };
  for (let seed = 0; seed < 400; seed++) {
    const shape = { max_seq_length: 30, short_seq_prob: 0.1 };
    createInstancesFromDocument(lengths, 0, Int32Array.from([0, 1]), shape, Rng.derive(seed), (r) => {
      assert.equal(r.docA, 0);
      if (!r.isRandomNext) {
        counts.inOrder++;
        assert.ok(r.docB === 0 && r.bStart === r.aEnd, 'in order: B continues A');
      } else if (r.docB === 1) {
        counts.otherDocument++;
      } else {
        counts.swapped++;
        assert.ok(r.docB === 0 && r.aStart === r.bEnd, 'swapped: A is the stretch right after B');
      }
      const inst = materializeInstance(source, r, { clsId: CLS, sepId: SEP });
      assert.equal(inst.isRandomNext, r.isRandomNext);
    }, 'nsp+sop');
  }
  const n = counts.inOrder + counts.otherDocument + counts.swapped;
  assert.ok(n > 4000, `${n} pairs`);
  assertBinomial('NotNext', counts.otherDocument + counts.swapped, n, 0.5);
  // Only a document's lone last sentence cannot be swapped: nearly an even split of the NotNext pairs.
  const notNext = counts.otherDocument + counts.swapped;
  assert.ok(Math.abs(counts.swapped / notNext - 0.5) < 0.03, `${counts.swapped} swapped of ${notNext} NotNext`);
});

test('SOP on the sample corpus: half the pairs swapped, labels in the batch, one document is enough', () => {
  const vocabTokens = loadVocabTokens();
  const vocab = buildMaskingVocab(vocabTokens);
  const docs = tokenizeCorpus(SAMPLE_CORPUS, vocabTokens);
  const config = { ...PRETRAIN_DATA_DEFAULTS, heldout_fraction: 0, dupe_factor: 10, objective: 'mlm+sop' as const };
  const { stream, shape } = createPipeline(memorySource(docs), vocab, config, 11);
  const plan = stream.epochPlan(0);
  assert.ok(plan.count >= 5000, `${plan.count} instances`);
  let swapped = 0;
  const group = [];
  for (let i = 0; i < plan.count; i++) {
    const inst = stream.instanceAt({ epoch: 0, index: i });
    assert.equal(inst.docA, inst.docB);
    if (inst.isRandomNext) swapped++;
    if (i < 8) group.push(inst);
  }
  assertBinomial('swapped', swapped, plan.count, 0.5);
  const batch = collateBatch(group, shape);
  assert.deepEqual(
    Array.from(batch.next_sentence_labels),
    group.map((g) => (g.isRandomNext ? 1 : 0)),
  );
  // One document: NSP refuses (NotNext needs another), SOP and MLM take it.
  const one = memorySource([docs[0]]);
  const base = { ...PRETRAIN_DATA_DEFAULTS, heldout_fraction: 0 };
  assert.throws(() => createPipeline(one, vocab, { ...base, objective: 'mlm+nsp' }, 1), UserError);
  assert.throws(() => createPipeline(one, vocab, { ...base, objective: 'mlm+nsp+sop' }, 1), UserError);
  assert.ok(createPipeline(one, vocab, { ...base, objective: 'mlm+sop' }, 1).stream.epochPlan(0).count > 100);
  // data inspect labels the pairs by order.
  const records = [...inspectInstances(one, vocabTokens, { ...base, objective: 'mlm+sop' }, 1, 20)];
  assert.equal(records.length, 20);
  assert.ok(records.every((r) => typeof r.is_swapped === 'boolean' && r.is_random_next === undefined));
  assert.ok(records.some((r) => r.is_swapped) && records.some((r) => !r.is_swapped));
});
