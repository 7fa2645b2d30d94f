import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRETRAIN_DATA_DEFAULTS } from '../../src/data/config.js';
import { cachedDocuments } from '../../src/data/document-cache.js';
import { createPipeline } from '../../src/data/pipeline.js';
import type { LoaderCursor } from '../../src/data/stream.js';
import { buildMaskingVocab } from '../../src/data/vocab.js';
import { loadVocabTokens, memorySource } from './helpers/corpus.js';

const vocab = buildMaskingVocab(loadVocabTokens());
const docs = Array.from({ length: 6 }, (_, d) =>
  Array.from({ length: 80 }, (_, s) =>
    Int32Array.from({ length: 4 + ((d + s) % 9) }, (_, k) => 2000 + ((d * 131 + s * 17 + k) % 5000)),
  ),
);
const source = memorySource(docs);
const config = { ...PRETRAIN_DATA_DEFAULTS, max_seq_length: 64, heldout_fraction: 0 };

test('the cursor walks an epoch to its end, then the next epoch from 0', () => {
  const { stream } = createPipeline(source, vocab, config, 3);
  const count = stream.epochPlan(0).count;
  let c: LoaderCursor | null = { epoch: 0, index: 0 };
  let n = 0;
  while (c && c.epoch === 0) {
    c = stream.advance(c);
    n++;
  }
  assert.equal(n, count);
  assert.deepEqual(c, { epoch: 1, index: 0 });
  assert.throws(() => stream.instanceAt({ epoch: 0, index: count }), RangeError);
});

test('planning the next epoch ahead gives the same plan as planning it when reached', () => {
  const a = createPipeline(source, vocab, config, 3).stream;
  const b = createPipeline(source, vocab, config, 3).stream;
  a.epochPlan(0);
  a.preparePlanAfter(0);
  const ahead = a.epochPlan(1);
  assert.deepEqual(ahead.recipes, b.epochPlan(1).recipes);
  assert.deepEqual(a.instanceAt({ epoch: 1, index: 5 }), b.instanceAt({ epoch: 1, index: 5 }));
});

test('every training document is used each epoch, held-out ones never', () => {
  const { stream, split } = createPipeline(source, vocab, { ...config, heldout_fraction: 0.2 }, 8);
  assert.equal(split.heldout.length, 1);
  const seen = new Set<number>();
  const plan = stream.epochPlan(0);
  for (let i = 0; i < plan.count; i++) {
    const inst = stream.instanceAt({ epoch: 0, index: i });
    seen.add(inst.docA);
    assert.ok(!split.heldout.includes(inst.docA) && !split.heldout.includes(inst.docB));
  }
  assert.deepEqual([...seen].sort(), [...split.train]);
});

test('the document cache returns the source’s sentences and evicts the least recently used', () => {
  let calls = 0;
  const counting = {
    numDocuments: docs.length,
    document: (i: number) => {
      calls++;
      return docs[i];
    },
  };
  const cached = cachedDocuments(counting, 2);
  assert.equal(cached.document(0), docs[0]);
  cached.document(1);
  cached.document(0); // hit; 1 is now the oldest
  cached.document(2); // evicts 1
  assert.equal(calls, 3);
  cached.document(0);
  assert.equal(calls, 3);
  cached.document(1);
  assert.equal(calls, 4);
  assert.equal(cached.numDocuments, 6);
});
