/**
 * CoNLL column reader, IOB1→IOB2, first-piece labels, and the real
 * CoNLL-2003 files: the published sentence, token and per-type entity
 * counts, and IOB1 ≡ IOB2. CoNLL-2003 (Reuters RCV1 text) may not be
 * redistributed, so the project ships none of it: that test reads the data
 * kit beside the repository, which CI has, and skips without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseConll,
  readConll,
  toIob2,
  CONLL2003_LABELS,
} from '../../../src/tasks/conll2003/conll.js';
import { nerFeatures } from '../../../src/tasks/conll2003/features.js';
import { getEntities } from '../../../src/metrics/seqeval.js';
import { BertTokenizer } from '../../../src/tokenizer/bert-tokenizer.js';
import { loadVocab } from '../../../src/tokenizer/vocab.js';
import { packageRoot } from '../../../src/paths.js';

const tokenizer = new BertTokenizer(loadVocab('data/vocab/bert-base-uncased/vocab.txt'), {
  lowercase: true,
});
const LABEL_IDS = new Map(CONLL2003_LABELS.map((l, i) => [l, i]));

// Made-up sentences in the CoNLL layout (both -DOCSTART- spellings, trailing blank lines).
const FIXTURE = [
  '-DOCSTART- -X- O O',
  '',
  'Zorblax NNP I-NP I-ORG',
  'Industries NNPS I-NP I-ORG',
  'hired VBD I-VP O',
  'Quentavious NNP I-NP I-PER',
  'Flumm NNP I-NP I-PER',
  '. . O O',
  '',
  '-DOCSTART- -X- -X- O',
  '',
  'Northvale NNP I-NP I-LOC',
  'Southvale NNP I-NP B-LOC',
  'rocks VBZ I-VP O',
  '',
  '',
  '',
].join('\n');

test('reader: documents, sentences, last-column tags; no empty sentences', () => {
  const s = parseConll(FIXTURE, 'fixture');
  assert.equal(s.length, 2);
  assert.deepEqual(s[0].tokens, ['Zorblax', 'Industries', 'hired', 'Quentavious', 'Flumm', '.']);
  assert.deepEqual([s[0].document, s[1].document], [0, 1]);
  assert.deepEqual(toIob2(s[1].tags), ['B-LOC', 'B-LOC', 'O']);
  assert.deepEqual(toIob2(s[0].tags), ['B-ORG', 'I-ORG', 'O', 'B-PER', 'I-PER', 'O']);
  assert.throws(() => parseConll('a NN I-NP X-PER\n', 'f.txt'), /f\.txt:1: expected/);
});

test('labels sit on the first word piece only; long sentences are chunked without losing words', () => {
  const [s] = parseConll('Quentavious NNP I-NP B-PER\nhired VBD I-VP O\n', 'x');
  const [f] = nerFeatures(tokenizer, [s], LABEL_IDS, 32);
  const pieces = tokenizer.tokenizeToIds('Quentavious').length;
  assert.ok(pieces > 1, 'a made-up name splits into several pieces');
  assert.equal(f.ids.length, pieces + 3);
  assert.deepEqual(Array.from(f.weights), [0, 1, ...new Array<number>(pieces - 1).fill(0), 1, 0]);
  assert.equal(f.labels[1], LABEL_IDS.get('B-PER'));
  const long = {
    tokens: new Array<string>(40).fill('word'),
    tags: new Array<string>(40).fill('O'),
    document: 0,
  };
  const chunks = nerFeatures(tokenizer, [long], LABEL_IDS, 16);
  assert.ok(chunks.length >= 3);
  assert.equal(
    chunks.reduce((n, c) => n + c.wordStarts.length, 0),
    40,
  );
  for (const c of chunks) assert.ok(c.ids.length <= 16);
});

const ROOT = join(packageRoot, '../shared/data/conll2003');

test('CoNLL-2003 files: published counts, and IOB1 converted equals IOB2', (t) => {
  if (!existsSync(`${ROOT}/iob1/eng.train`)) {
    return t.skip(
      `CoNLL-2003 may not be redistributed, so it is not shipped; not found at ${ROOT}`,
    );
  }
  const expected: Record<
    string,
    { sentences: number; tokens: number; entities: Record<string, number> }
  > = {
    train: {
      sentences: 14041,
      tokens: 203621,
      entities: { LOC: 7140, MISC: 3438, ORG: 6321, PER: 6600 },
    },
    testa: {
      sentences: 3250,
      tokens: 51362,
      entities: { LOC: 1837, MISC: 922, ORG: 1341, PER: 1842 },
    },
    testb: {
      sentences: 3453,
      tokens: 46435,
      entities: { LOC: 1668, MISC: 702, ORG: 1661, PER: 1617 },
    },
  };
  const pairs: [string, string, string][] = [
    ['train', 'eng.train', 'train.txt'],
    ['testa', 'eng.testa', 'valid.txt'],
    ['testb', 'eng.testb', 'test.txt'],
  ];
  for (const [split, f1, f2] of pairs) {
    const iob1 = readConll(`${ROOT}/iob1/${f1}`);
    const iob2 = readConll(`${ROOT}/iob2/${f2}`);
    const want = expected[split];
    assert.equal(iob1.length, want.sentences, split);
    assert.equal(
      iob1.reduce((n, s) => n + s.tokens.length, 0),
      want.tokens,
      split,
    );
    const counts: Record<string, number> = {};
    for (const s of iob1)
      for (const e of getEntities(s.tags)) counts[e.type] = (counts[e.type] ?? 0) + 1;
    assert.deepEqual(counts, want.entities, split);
    assert.equal(iob2.length, iob1.length);
    iob1.forEach((s, i) => {
      assert.deepEqual(s.tokens, iob2[i].tokens);
      assert.deepEqual(toIob2(s.tags), iob2[i].tags, `${split} sentence ${i}`);
    });
  }
});
