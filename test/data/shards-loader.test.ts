import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBatches } from '../../src/data/batch.js';
import { PRETRAIN_DATA_DEFAULTS } from '../../src/data/config.js';
import { inspectFromConfig, inspectInstances } from '../../src/data/inspect.js';
import { PretrainingLoader } from '../../src/data/loader.js';
import { createPipeline } from '../../src/data/pipeline.js';
import { openShards } from '../../src/data/shards.js';
import { buildMaskingVocab } from '../../src/data/vocab.js';
import { UserError } from '../../src/errors.js';
import { shardCorpus } from '../../src/tokenizer/shard-corpus.js';
import { Vocab } from '../../src/tokenizer/vocab.js';
import { loadVocabTokens, SAMPLE_CORPUS } from './helpers/corpus.js';

const vocabTokens = loadVocabTokens();
const dir = mkdtempSync(join(tmpdir(), 'bert-data-shards-'));
await shardCorpus({
  inputs: [SAMPLE_CORPUS],
  format: 'lines',
  vocab: new Vocab(vocabTokens),
  lowercase: true,
  outputDir: dir,
  workers: 1,
});
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const config = { ...PRETRAIN_DATA_DEFAULTS, shards: dir, prefetch: 2 };

test('the worker opens a shard directory itself and yields the in-thread batches', async () => {
  const p = createPipeline(openShards(dir), buildMaskingVocab(vocabTokens), config, 9);
  const gen = buildBatches(p.stream, { epoch: 0, index: 0 }, 16, p.shape);
  const loader = PretrainingLoader.start({
    source: { kind: 'shards', dir },
    vocabTokens,
    config,
    seed: 9,
    batchSize: 16,
  });
  for (let i = 0; i < 5; i++) {
    const item = await loader.next();
    assert.ok(item);
    assert.deepEqual(item.batch, gen.next().value?.batch);
  }
  await loader.stop();
});

test('inspect over the configured shards equals inspect over the opened source', async () => {
  const fromConfig = await inspectFromConfig(config, vocabTokens, 4, 3);
  assert.deepEqual(fromConfig, [...inspectInstances(openShards(dir), vocabTokens, config, 4, 3)]);
});

test('shards built with another vocabulary size are refused with a UserError', async () => {
  const loader = PretrainingLoader.start({
    source: { kind: 'shards', dir },
    vocabTokens: vocabTokens.slice(0, 30000),
    config,
    seed: 9,
    batchSize: 16,
  });
  await assert.rejects(loader.next(), (e: unknown) => e instanceof UserError && /30522/.test(e.message));
  await loader.stop();
});
