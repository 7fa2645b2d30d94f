import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createInstancesFromDocument,
  lengthTable,
  materializeInstance,
  planEpoch,
  recipeAt,
  truncateSeqPair,
  type InstanceRecipe,
} from '../../src/data/instances.js';
import { Rng } from '../../src/data/rng.js';
import { splitDocuments } from '../../src/data/split.js';
import { UserError } from '../../src/errors.js';
import { memorySource, syntheticDocs } from './helpers/corpus.js';

const CLS = 101;
const SEP = 102;

test('truncateSeqPair trims the longer side until the pair fits, from both ends', () => {
  let front = 0;
  let back = 0;
  for (let seed = 0; seed < 200; seed++) {
    const t = truncateSeqPair(100, 30, 60, Rng.derive(seed));
    const a = 100 - t.aTrimFront - t.aTrimBack;
    const b = 30 - t.bTrimFront - t.bTrimBack;
    assert.equal(a + b, 60);
    // A is trimmed until it is no longer than B, then they alternate (B on ties).
    assert.ok(a === 30 && b === 30, `${a}/${b}`);
    front += t.aTrimFront;
    back += t.aTrimBack;
  }
  assert.ok(front > 0 && back > 0);
  assert.deepEqual(truncateSeqPair(10, 20, 60, Rng.derive(0)), {
    aTrimFront: 0,
    aTrimBack: 0,
    bTrimFront: 0,
    bTrimBack: 0,
  });
});

test('IsNext pairs are consecutive text; NotNext unused sentences start the next chunk', () => {
  const docs = syntheticDocs([
    Array.from({ length: 40 }, () => 5),
    Array.from({ length: 40 }, () => 5),
  ]);
  const source = memorySource(docs);
  const lengths = lengthTable(source);
  const shape = { max_seq_length: 35, short_seq_prob: 0 };
  let notNext = 0;
  for (let seed = 0; seed < 20; seed++) {
    const recipes: InstanceRecipe[] = [];
    createInstancesFromDocument(lengths, 0, Int32Array.from([0, 1]), shape, Rng.derive(seed), (r) =>
      recipes.push(r),
    );
    let expectedStart = 0;
    for (const r of recipes) {
      assert.equal(r.docA, 0);
      // Each chunk starts where the last *used* sentence ended.
      assert.equal(r.aStart, expectedStart);
      assert.ok(r.aEnd > r.aStart);
      if (r.isRandomNext) {
        notNext++;
        assert.equal(r.docB, 1);
        expectedStart = r.aEnd; // B's sentences of this chunk were put back
      } else {
        assert.equal(r.docB, 0);
        assert.equal(r.bStart, r.aEnd);
        expectedStart = r.bEnd;
      }
      const inst = materializeInstance(source, r, { clsId: CLS, sepId: SEP });
      assert.ok(inst.tokens.length <= 35);
      const sep = inst.tokens.indexOf(SEP);
      const a = inst.tokens.subarray(1, sep);
      const b = inst.tokens.subarray(sep + 1, inst.tokens.length - 1);
      // Tokens inside a segment are consecutive text of one document.
      for (const seg of [a, b]) {
        for (let k = 1; k < seg.length; k++) {
          const prev = seg[k - 1];
          const cur = seg[k];
          const consecutive = cur === prev + 1 || (prev % 10 === 4 && cur === prev + 6);
          assert.ok(consecutive, `${prev} → ${cur}`);
        }
      }
      if (!r.isRandomNext) {
        const lastA = a[a.length - 1];
        const firstB = b[0];
        assert.ok(firstB > lastA, 'B continues after A');
      }
      assert.equal(Math.floor(a[0] / 1000), 1);
      assert.equal(Math.floor(b[0] / 1000), r.isRandomNext ? 2 : 1);
    }
    // Every sentence of the document ends up in some A or IsNext B.
    assert.equal(expectedStart, 40);
  }
  assert.ok(notNext > 0);
});

test('a one-sentence chunk takes the next sentence as its IsNext B', () => {
  // Sentences longer than the target make one-sentence chunks.
  const docs = syntheticDocs([
    [50, 50, 50, 50, 50, 50],
    [50, 50, 50],
  ]);
  const source = memorySource(docs);
  let isNext = 0;
  for (let seed = 0; seed < 50; seed++) {
    createInstancesFromDocument(
      lengthTable(source),
      0,
      Int32Array.from([0, 1]),
      { max_seq_length: 40, short_seq_prob: 0 },
      Rng.derive(seed),
      (r) => {
        if (!r.isRandomNext) {
          isNext++;
          assert.equal(r.aEnd - r.aStart, 1);
          assert.equal(r.bEnd - r.bStart, 1);
          // Both 50-token sentences trimmed to fit 37 tokens.
          const kept =
            100 - r.aTrimFront - r.aTrimBack - r.bTrimFront - r.bTrimBack;
          assert.equal(kept, 37);
        }
      },
    );
  }
  assert.ok(isNext > 20, `${isNext} IsNext pairs`);
});

test('short_seq_prob draws a shorter target for that fraction of instances', () => {
  // One-token sentences: a chunk stops exactly at its target, so an IsNext
  // pair has target + 3 tokens (only a document's last chunk can fall short).
  const docs = syntheticDocs([
    Array.from({ length: 20000 }, () => 1),
    Array.from({ length: 20000 }, () => 1),
  ]);
  const source = memorySource(docs);
  const plan = planEpoch(
    lengthTable(source),
    Int32Array.from([0, 1]),
    Int32Array.from([0, 1]),
    { max_seq_length: 128, short_seq_prob: 0.1, dupe_factor: 10 },
    3,
    0,
  );
  let n = 0;
  let short = 0;
  for (let k = 0; k < plan.count; k++) {
    const r = recipeAt(plan, k);
    if (r.isRandomNext) continue;
    n++;
    const len = materializeInstance(source, r, { clsId: CLS, sepId: SEP }).tokens.length;
    if (len < 120) short++;
  }
  // Short targets are uniform on [2, 125]; those below 117 give < 120 tokens.
  const p = 0.1 * (115 / 124);
  const lastChunks = 2 * 10;
  const tol = 4.5 * Math.sqrt((p * (1 - p)) / n) + lastChunks / n;
  assert.ok(n > 2000);
  assert.ok(Math.abs(short / n - p) <= tol, `${short}/${n} vs ${p} ± ${tol}`);
});

test('planEpoch is deterministic, differs across epochs, and dupe_factor multiplies instances', () => {
  const docs = syntheticDocs(
    Array.from({ length: 5 }, () => Array.from({ length: 60 }, (_, i) => 3 + (i % 7))),
  );
  const lengths = lengthTable(memorySource(docs));
  const ids = Int32Array.from([0, 1, 2, 3, 4]);
  const opts = { max_seq_length: 64, short_seq_prob: 0.1, dupe_factor: 1 };
  const a = planEpoch(lengths, ids, ids, opts, 11, 0);
  assert.deepEqual(planEpoch(lengths, ids, ids, opts, 11, 0).recipes, a.recipes);
  assert.notDeepEqual(planEpoch(lengths, ids, ids, opts, 11, 1).recipes, a.recipes);
  const twice = planEpoch(lengths, ids, ids, { ...opts, dupe_factor: 2 }, 11, 0);
  assert.ok(twice.count > 1.6 * a.count && twice.count < 2.4 * a.count);
});

test('splitDocuments holds out a seeded fraction and keeps two documents for training', () => {
  const docs = syntheticDocs(Array.from({ length: 200 }, () => [3]));
  const s = splitDocuments(memorySource(docs), 0.1, 1);
  assert.equal(s.heldout.length, 20);
  assert.equal(s.train.length, 180);
  assert.deepEqual(splitDocuments(memorySource(docs), 0.1, 1), s);
  assert.notDeepEqual(splitDocuments(memorySource(docs), 0.1, 2).heldout, s.heldout);
  const all = new Set([...s.train, ...s.heldout]);
  assert.equal(all.size, 200);
  const three = splitDocuments(memorySource(syntheticDocs([[3], [3], [3]])), 0.01, 1);
  assert.equal(three.heldout.length, 1);
  assert.equal(three.train.length, 2);
  assert.equal(splitDocuments(memorySource(syntheticDocs([[3], [3]])), 0.5, 1).heldout.length, 0);
  assert.throws(() => splitDocuments(memorySource(syntheticDocs([[3], []])), 0, 1), UserError);
  assert.throws(() => splitDocuments(memorySource(docs), 1.5, 1), /heldout_fraction/);
});
