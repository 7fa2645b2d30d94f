/**
 * What each `train.objective` asks of the data and the model
 * (src/data/objective.ts), and the one-line error for an unknown one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedValues, loadSchema, schemaEnum } from '../../src/config/schemas.js';
import {
  PRETRAIN_OBJECTIVES,
  PRETRAIN_OBJECTIVE_DEFAULT,
  assertObjective,
  minDocuments,
  sentencePairTask,
  trainsPairHead,
} from '../../src/data/objective.js';
import { createPipeline } from '../../src/data/pipeline.js';
import { PRETRAIN_DATA_DEFAULTS } from '../../src/data/config.js';
import { buildMaskingVocab } from '../../src/data/vocab.js';
import { UserError } from '../../src/errors.js';
import { loadVocabTokens, memorySource, syntheticDocs } from './helpers/corpus.js';

test('objectives: the schema enum and default, each mapped to its pairs, head and document count', () => {
  const schemaObjective = loadSchema('pretrain').properties?.train?.properties?.objective;
  assert.deepEqual([...PRETRAIN_OBJECTIVES], schemaObjective?.enum);
  assert.equal(PRETRAIN_OBJECTIVE_DEFAULT, schemaObjective?.default);
  const table = PRETRAIN_OBJECTIVES.map((o) => [o, sentencePairTask(o), trainsPairHead(o), minDocuments(o)]);
  assert.deepEqual(table, [
    ['mlm+nsp', 'nsp', true, 2],
    ['mlm+sop', 'sop', true, 1],
    ['mlm+nsp+sop', 'nsp+sop', true, 2],
    ['mlm', undefined, false, 1],
  ]);
});

test('objectives: an unknown one is a one-line error naming train.objective and every allowed value', () => {
  for (const o of PRETRAIN_OBJECTIVES) assert.doesNotThrow(() => assertObjective(o));
  for (const bad of ['nsp', 'MLM', '', undefined, 3]) {
    assert.throws(
      () => assertObjective(bad),
      (e: unknown) =>
        e instanceof UserError &&
        e.message ===
          `train.objective: expected "mlm+nsp", "mlm+sop", "mlm+nsp+sop" or "mlm", got ${String(bad)}` &&
        !e.message.includes('\n'),
    );
  }
});

test('objectives: a pipeline with an unknown objective fails before it reads the corpus', () => {
  const vocab = buildMaskingVocab(loadVocabTokens());
  const source = memorySource(syntheticDocs([[5, 5, 5], [4, 4]]));
  const config = { ...PRETRAIN_DATA_DEFAULTS, objective: 'nsp+mlm' as never };
  assert.throws(
    () => createPipeline(source, vocab, config, 1),
    (e: unknown) => e instanceof UserError && /^train\.objective: expected .* got nsp\+mlm$/.test(e.message),
  );
});

test('schema enums: read at a path, listed in one line as an error expects them', () => {
  assert.deepEqual(schemaEnum('pretrain', ['data', 'pad_to']), ['batch', 'max']);
  assert.throws(() => schemaEnum('pretrain', ['data', 'max_seq_length']), /no enum at data\.max_seq_length/);
  assert.equal(expectedValues(['a']), '"a"');
  assert.equal(expectedValues(['a', 'b']), '"a" or "b"');
  assert.equal(expectedValues(['a', 'b', 'c']), '"a", "b" or "c"');
});

test('data.pad_to: a value outside the schema enum is a one-line error listing both', () => {
  const vocab = buildMaskingVocab(loadVocabTokens());
  const source = memorySource(syntheticDocs([[5, 5, 5], [4, 4]]));
  for (const padTo of ['batch', 'max'] as const) {
    assert.doesNotThrow(() => createPipeline(source, vocab, { ...PRETRAIN_DATA_DEFAULTS, pad_to: padTo }, 1));
  }
  assert.throws(
    () => createPipeline(source, vocab, { ...PRETRAIN_DATA_DEFAULTS, pad_to: 'longest' as never }, 1),
    (e: unknown) => e instanceof UserError && e.message === 'data.pad_to: expected "batch" or "max", got longest',
  );
});
