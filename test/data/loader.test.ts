import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildBatches, type PretrainingBatch } from '../../src/data/batch.js';
import { PRETRAIN_DATA_DEFAULTS } from '../../src/data/config.js';
import { PretrainingLoader, type LoaderCursor } from '../../src/data/loader.js';
import { createPipeline } from '../../src/data/pipeline.js';
import { buildMaskingVocab } from '../../src/data/vocab.js';
import { UserError } from '../../src/errors.js';
import { loadVocabTokens, memorySource, SAMPLE_CORPUS, tokenizeCorpus } from './helpers/corpus.js';

const vocabTokens = loadVocabTokens();
const vocab = buildMaskingVocab(vocabTokens);
const docs = tokenizeCorpus(SAMPLE_CORPUS, vocabTokens);
const documents = docs.map((d) => d.map((s) => Array.from(s)));
const config = { ...PRETRAIN_DATA_DEFAULTS, prefetch: 3, heldout_fraction: 0 };
const SEED = 5;
const BATCH = 8;

function inThread(cursor: LoaderCursor, count: number, split: 'train' | 'heldout' = 'train') {
  const p = createPipeline(memorySource(docs), vocab, config, SEED, split);
  const out: { batch: PretrainingBatch; cursor: LoaderCursor | null }[] = [];
  for (const item of buildBatches(p.stream, cursor, BATCH, p.shape)) {
    out.push(item);
    if (out.length === count) break;
  }
  return out;
}

/** The loader over the in-memory documents, as the tests start it unless they say otherwise. */
const memoryLoader = {
  source: { kind: 'memory' as const, documents },
  vocabTokens,
  config,
  seed: SEED,
  batchSize: BATCH,
};

test('the worker loader yields exactly the batches of the in-thread builder, across an epoch', async () => {
  const planCount = createPipeline(memorySource(docs), vocab, config, SEED).stream.epochPlan(0).count;
  // Enough batches to cross into epoch 1.
  const count = Math.ceil(planCount / BATCH) + 2;
  const expected = inThread({ epoch: 0, index: 0 }, count);
  const loader = PretrainingLoader.start(memoryLoader);
  let i = 0;
  for await (const item of loader) {
    assert.deepEqual(item.batch, expected[i].batch, `batch ${i}`);
    assert.deepEqual(item.cursor, expected[i].cursor);
    if (++i === count) break; // breaking out of for-await stops the worker
  }
  assert.equal(expected[count - 1].cursor?.epoch, 1);
  const stats = loader.stats();
  assert.equal(stats.batches, count);
  assert.equal(stats.instances, count * BATCH);
  assert.ok(stats.instancesPerSec > 0 && stats.tokensPerSec > stats.instancesPerSec);
  assert.equal(await loader.next(), null, 'a stopped loader yields nothing');
});

test('a loader started from a cursor continues the same stream', async () => {
  const expected = inThread({ epoch: 0, index: 0 }, 6);
  const resumeAt = expected[2].cursor;
  assert.ok(resumeAt);
  const loader = PretrainingLoader.start({ ...memoryLoader, cursor: resumeAt });
  for (let i = 3; i < 6; i++) {
    const item = await loader.next();
    assert.ok(item);
    assert.deepEqual(item.batch, expected[i].batch);
  }
  await loader.stop();
});

test('the held-out split is one finite pass, then next() returns null', async () => {
  const cfg = { ...config, heldout_fraction: 0.34 };
  const p = createPipeline(memorySource(docs), vocab, cfg, SEED, 'heldout');
  const total = p.stream.epochPlan(0).count;
  const loader = PretrainingLoader.start({
    ...memoryLoader,
    config: cfg,
    split: 'heldout',
  });
  let instances = 0;
  let last: LoaderCursor | null | undefined;
  for await (const item of loader) {
    instances += item.batch.batch_size;
    for (const d of [...item.batch.next_sentence_labels]) assert.ok(d === 0 || d === 1);
    last = item.cursor;
  }
  assert.equal(instances, total);
  assert.equal(last, null);
});

test('a user mistake in the worker surfaces as a UserError from next()', async () => {
  const loader = PretrainingLoader.start({
    source: { kind: 'memory', documents: [documents[0]] },
    vocabTokens,
    config,
    seed: SEED,
    batchSize: BATCH,
  });
  await assert.rejects(loader.next(), (e: unknown) => e instanceof UserError && /at least 2/.test(e.message));
  await loader.stop();
});

test('the loader never keeps the process alive: stopped or forgotten, it exits', () => {
  const child = fileURLToPath(new URL('./fixtures/loader-child.js', import.meta.url));
  for (const mode of ['stop', 'forget']) {
    const r = spawnSync(process.execPath, [child, mode], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.signal, null, `${mode}: killed after 30 s (hanging)`);
    assert.equal(r.status, 0, `${mode}: ${r.stderr}`);
    assert.equal(r.stdout.trim(), 'loader-child: 3 batches');
  }
});
