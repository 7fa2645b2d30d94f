/**
 * MLM-only packing (`train.objective: mlm`, src/data/packing.ts): sequences of
 * exactly max_seq_length tokens cut from the epoch's document stream, checked
 * on hand-made documents with awkward shapes and on the shipped sample
 * corpus; and the loader worker resuming the packed stream from a cursor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBatches, type PretrainingBatch } from '../../src/data/batch.js';
import { PRETRAIN_DATA_DEFAULTS } from '../../src/data/config.js';
import { lengthTable } from '../../src/data/instances.js';
import { PretrainingLoader, type LoaderCursor } from '../../src/data/loader.js';
import {
  materializePacked,
  packedRecipeAt,
  planPackedEpoch,
  type PackedEpochPlan,
} from '../../src/data/packing.js';
import { createPipeline } from '../../src/data/pipeline.js';
import type { DocumentSource, Sentence } from '../../src/data/types.js';
import { buildMaskingVocab } from '../../src/data/vocab.js';
import { UserError } from '../../src/errors.js';
import { loadVocabTokens, memorySource, SAMPLE_CORPUS, tokenizeCorpus } from './helpers/corpus.js';

const vocabTokens = loadVocabTokens();
const vocab = buildMaskingVocab(vocabTokens);

/** Token ids that are never special, distinct per (document, sentence, position) where possible. */
function sentence(doc: number, s: number, length: number): Int32Array {
  return Int32Array.from({ length }, (_, k) => 2000 + ((doc * 997 + s * 31 + k) % 20000));
}

/**
 * Documents with the shapes packing must survive: an empty document, an empty
 * sentence, a sentence longer than a whole sequence, one-token sentences, a
 * document that is a single short sentence.
 */
const HANDMADE: Sentence[][] = [
  [sentence(0, 0, 5), sentence(0, 1, 3), sentence(0, 2, 7)],
  [],
  [sentence(2, 0, 25), sentence(2, 1, 0), sentence(2, 2, 4)],
  [sentence(3, 0, 1), sentence(3, 1, 1), sentence(3, 2, 1)],
  [sentence(4, 0, 2)],
  [sentence(5, 0, 9), sentence(5, 1, 9), sentence(5, 2, 9), sentence(5, 3, 9)],
];

/** Every sequence of an epoch in packing order (by rank), with the plan. */
function packedEpoch(
  source: DocumentSource,
  docs: Int32Array,
  maxSeq: number,
  seed: number,
  epoch: number,
  dupe = 1,
): { plan: PackedEpochPlan; sequences: Int32Array[]; lastIndexRank: number } {
  const plan = planPackedEpoch(
    lengthTable(source),
    docs,
    { max_seq_length: maxSeq, dupe_factor: dupe },
    seed,
    epoch,
  );
  const byRank: Int32Array[] = new Array<Int32Array>(plan.count);
  for (let k = 0; k < plan.count; k++) {
    const r = packedRecipeAt(plan, k);
    byRank[r.rank] = materializePacked(source, plan, r, vocab).tokens;
  }
  return { plan, sequences: byRank, lastIndexRank: packedRecipeAt(plan, plan.count - 1).rank };
}

/** The epoch's stream as packing defines it: the documents in order, a [SEP] between two. */
function expectedStream(source: DocumentSource, order: Int32Array): number[] {
  const out: number[] = [];
  order.forEach((d, i) => {
    if (i > 0) out.push(vocab.sepId);
    for (const s of source.document(d)) out.push(...s);
  });
  return out;
}

function checkEpoch(source: DocumentSource, docs: Int32Array, maxSeq: number, seed: number, epoch: number): number {
  const { plan, sequences, lastIndexRank } = packedEpoch(source, docs, maxSeq, seed, epoch);
  const nonEmpty = [...docs].filter((d) => source.document(d).some((s) => s.length > 0));
  assert.deepEqual(
    [...plan.documentOrder].sort((a, b) => a - b),
    nonEmpty.sort((a, b) => a - b),
    'every non-empty document exactly once',
  );
  const stream: number[] = [];
  sequences.forEach((t, rank) => {
    assert.equal(t[0], vocab.clsId, `sequence ${rank} opens with [CLS]`);
    assert.equal(t[t.length - 1], vocab.sepId, `sequence ${rank} closes with [SEP]`);
    if (rank < sequences.length - 1) assert.equal(t.length, maxSeq, `sequence ${rank} is full`);
    else assert.ok(t.length <= maxSeq && t.length >= 3, 'the last sequence holds at least one token');
    stream.push(...t.subarray(1, t.length - 1));
  });
  // Only the final sequence may be short, and it is also the last one the epoch delivers.
  assert.equal(lastIndexRank, sequences.length - 1);
  // Concatenated in packing order, the sequences are exactly the stream: every
  // sentence in order, documents separated by one [SEP], nothing lost or repeated.
  assert.deepEqual(stream, expectedStream(source, plan.documentOrder));
  return plan.count;
}

test('hand-made documents pack into full sequences that rebuild the stream exactly', () => {
  const source = memorySource(HANDMADE);
  const docs = Int32Array.from(HANDMADE.keys());
  for (const maxSeq of [5, 8, 12, 27, 200]) {
    for (let epoch = 0; epoch < 6; epoch++) checkEpoch(source, docs, maxSeq, 11, epoch);
  }
});

test('the sample corpus packs into full 128-token sequences over an epoch, losing nothing', () => {
  const docs = tokenizeCorpus(SAMPLE_CORPUS, vocabTokens);
  const source = memorySource(docs);
  const total = docs.reduce((n, d) => n + d.reduce((m, s) => m + s.length, 0), 0);
  const count = checkEpoch(source, Int32Array.from(docs.keys()), 128, 3, 0);
  // 126 stream tokens per sequence; the separators add one per document boundary.
  assert.equal(count, Math.ceil((total + docs.length - 1) / 126));
});

test('the document order and the sequence order change with the epoch and the seed', () => {
  const source = memorySource(HANDMADE);
  const docs = Int32Array.from(HANDMADE.keys());
  const orders = new Set<string>();
  const recipes = new Set<string>();
  for (let epoch = 0; epoch < 8; epoch++) {
    const a = packedEpoch(source, docs, 8, 1, epoch).plan;
    const again = packedEpoch(source, docs, 8, 1, epoch).plan;
    assert.deepEqual(again.recipes, a.recipes, 'a pure function of (seed, epoch)');
    orders.add(a.documentOrder.join());
    recipes.add(a.recipes.join());
  }
  assert.ok(orders.size >= 4, `only ${orders.size} document orders in 8 epochs`);
  assert.ok(recipes.size >= 4);
  const otherSeed = packedEpoch(source, docs, 8, 2, 0).plan;
  assert.notDeepEqual(otherSeed.recipes, packedEpoch(source, docs, 8, 1, 0).plan.recipes);
});

test('dupe_factor passes over every document that many times an epoch', () => {
  const source = memorySource(HANDMADE);
  const docs = Int32Array.from(HANDMADE.keys());
  const { plan, sequences } = packedEpoch(source, docs, 10, 4, 0, 3);
  const counts = new Map<number, number>();
  for (const d of plan.documentOrder) counts.set(d, (counts.get(d) ?? 0) + 1);
  assert.deepEqual([...counts.values()], [3, 3, 3, 3, 3]);
  const stream = sequences.flatMap((t) => [...t.subarray(1, t.length - 1)]);
  assert.deepEqual(stream, expectedStream(source, plan.documentOrder));
});

test('the mlm pipeline: one segment, no NotNext, batches of full length but the last', () => {
  const source = memorySource(HANDMADE);
  const config = {
    ...PRETRAIN_DATA_DEFAULTS,
    max_seq_length: 10,
    heldout_fraction: 0,
    objective: 'mlm' as const,
  };
  const { stream, shape } = createPipeline(source, vocab, config, 9);
  const count = stream.epochPlan(0).count;
  // The training stream cycles forever: take the batches of 3 before the short last sequence.
  const batches: PretrainingBatch[] = [];
  for (const { batch } of buildBatches(stream, { epoch: 0, index: 0 }, 3, shape)) {
    batches.push(batch);
    if (batches.length === Math.floor((count - 1) / 3)) break;
  }
  assert.ok(batches.length >= 3);
  for (const batch of batches) {
    assert.ok(
      batch.token_type_ids.every((t) => t === 0),
      'one segment',
    );
    assert.ok(batch.next_sentence_labels.every((l) => l === 0));
    assert.equal(batch.seq_length, 10, 'every batch of the epoch before its end is full length');
    assert.ok(batch.attention_mask.every((m) => m === 1));
  }
});

test('mlm needs one training document; mlm+nsp two', () => {
  const one = memorySource([[sentence(0, 0, 40)]]);
  const base = { ...PRETRAIN_DATA_DEFAULTS, max_seq_length: 16, heldout_fraction: 0 };
  const { stream } = createPipeline(one, vocab, { ...base, objective: 'mlm' }, 1);
  assert.equal(stream.epochPlan(0).count, 3); // 40 tokens in sequences of 14
  assert.throws(() => createPipeline(one, vocab, base, 1), UserError);
  assert.throws(
    () => createPipeline(one, vocab, { ...base, objective: 'nsp' as never }, 1),
    /train\.objective: expected "mlm\+nsp", "mlm\+sop", "mlm\+nsp\+sop" or "mlm"/,
  );
});

test('heldout_corpus split: every document of the source, one pass, in both objectives', () => {
  const source = memorySource(HANDMADE);
  const base = { ...PRETRAIN_DATA_DEFAULTS, max_seq_length: 12, heldout_fraction: 0.3 };
  for (const objective of ['mlm', 'mlm+nsp'] as const) {
    const { stream, split } = createPipeline(source, vocab, { ...base, objective }, 5, 'heldout_corpus');
    assert.deepEqual([...split.heldout], [0, 2, 3, 4, 5], 'all non-empty documents, none held back');
    const seen = new Set<number>();
    let n = 0;
    for (const { instance, next } of stream.from({ epoch: 0, index: 0 })) {
      seen.add(instance.docA);
      n++;
      if (next === null) break;
    }
    assert.equal(n, stream.epochPlan(0).count, 'one pass, then the stream ends');
    assert.ok(seen.size >= 3);
  }
  const single = memorySource([[sentence(0, 0, 30)]]);
  assert.throws(
    () => createPipeline(single, vocab, base, 5, 'heldout_corpus'),
    /heldout_corpus: found 1 non-empty document/,
  );
});

test('the loader worker resumes the packed stream from a cursor, across an epoch boundary', async () => {
  const docs = tokenizeCorpus(SAMPLE_CORPUS, vocabTokens, 200_000);
  const documents = docs.map((d) => d.map((s) => Array.from(s)));
  const config = { ...PRETRAIN_DATA_DEFAULTS, prefetch: 2, heldout_fraction: 0, objective: 'mlm' as const };
  const p = createPipeline(memorySource(docs), vocab, config, 7);
  const perEpoch = p.stream.epochPlan(0).count;
  const straight: { batch: PretrainingBatch; cursor: LoaderCursor | null }[] = [];
  for (const item of buildBatches(p.stream, { epoch: 0, index: 0 }, 8, p.shape)) {
    straight.push(item);
    if (straight.length === Math.ceil(perEpoch / 8) + 3) break;
  }
  assert.equal(straight[straight.length - 1].cursor?.epoch, 1, 'the run crosses into epoch 1');
  const at = Math.floor(straight.length / 2);
  const loader = PretrainingLoader.start({
    source: { kind: 'memory', documents },
    vocabTokens,
    config,
    seed: 7,
    batchSize: 8,
    cursor: straight[at - 1].cursor!,
  });
  let i = at;
  for await (const item of loader) {
    assert.deepEqual(item.batch, straight[i].batch, `batch ${i}`);
    assert.deepEqual(item.cursor, straight[i].cursor);
    if (++i === straight.length) break;
  }
  assert.equal(i, straight.length);
});
