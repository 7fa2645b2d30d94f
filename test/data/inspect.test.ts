import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRETRAIN_DATA_DEFAULTS } from '../../src/data/config.js';
import { colorAllowed, inspectInstances, renderInstance } from '../../src/data/inspect.js';
import { loadVocabTokens, memorySource, SAMPLE_CORPUS, tokenizeCorpus } from './helpers/corpus.js';

const ANSI_CODE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const vocabTokens = loadVocabTokens();
const source = memorySource(
  tokenizeCorpus(SAMPLE_CORPUS, vocabTokens),
);
const records = [...inspectInstances(source, vocabTokens, PRETRAIN_DATA_DEFAULTS, 3, 5)];

test('inspect yields N records with the documented JSON keys, consistent with each other', () => {
  assert.equal(records.length, 5);
  for (const r of JSON.parse(JSON.stringify(records)) as typeof records) {
    assert.deepEqual(Object.keys(r).sort(), [
      'input_ids',
      'is_random_next',
      'masked_labels',
      'masked_positions',
      'original_ids',
      'token_type_ids',
      'tokens',
    ]);
    assert.equal(r.tokens.length, r.input_ids.length);
    assert.equal(r.tokens[0], '[CLS]');
    r.input_ids.forEach((id, i) => assert.equal(r.tokens[i], vocabTokens[id]));
    r.masked_positions.forEach((p, k) => assert.equal(r.masked_labels[k], vocabTokens[r.original_ids[p]]));
    assert.equal(typeof r.is_random_next, 'boolean');
  }
});

test('the text view marks masked tokens, with ANSI colour only when allowed', () => {
  const r = records[0];
  const plain = renderInstance(r, 0, { color: false });
  assert.ok(!plain.includes('\u001b['), 'no escape codes without colour');
  assert.match(plain, /^#0 {2}(IsNext|NotNext)/);
  const marks = plain.match(/\{[^}]+\}/g) ?? [];
  assert.equal(marks.length, r.masked_positions.length);
  const coloured = renderInstance(r, 0, { color: true });
  assert.ok(coloured.includes('\u001b['));
  assert.equal(coloured.replace(ANSI_CODE, ''), plain);
  assert.equal(colorAllowed({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colorAllowed({ isTTY: false }, {}), false);
  assert.equal(colorAllowed({ isTTY: true }, {}), true);
});

test('objective mlm: packed records, one segment, no is_random_next, a one-line view', () => {
  const config = { ...PRETRAIN_DATA_DEFAULTS, objective: 'mlm' as const };
  const packed = [...inspectInstances(source, vocabTokens, config, 3, 4)];
  assert.equal(packed.length, 4);
  for (const r of JSON.parse(JSON.stringify(packed)) as typeof packed) {
    assert.deepEqual(Object.keys(r).sort(), [
      'input_ids',
      'masked_labels',
      'masked_positions',
      'original_ids',
      'token_type_ids',
      'tokens',
    ]);
    assert.equal(r.tokens.length, config.max_seq_length, 'a full sequence');
    assert.equal(r.tokens[0], '[CLS]');
    assert.equal(r.tokens.at(-1), '[SEP]');
    assert.ok(r.token_type_ids.every((t) => t === 0));
  }
  const view = renderInstance(packed[0], 0, { color: false }).split('\n');
  assert.match(view[0], /^#0 {2}packed \(MLM only\) {2}128 tokens, \d+ masked$/);
  assert.equal(view.length, 2);
  assert.ok(view[1].startsWith('  [CLS] '));
});
