/**
 * Our ids equal HuggingFace's Rust tokenizers' ids (via @anush008/tokenizers,
 * loading the tokenizer.json we write), token for token. The whole full
 * corpus (~516k lines, both vocabularies) is compared by
 * `npm run bench -- tokenize --parity`; here: sample.txt in full, the hard
 * cases, and a slice of every full corpus file where the corpus is beside
 * the repository (else sample.txt again, cased too).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { BertTokenizer } from '../../src/tokenizer/bert-tokenizer.js';
import {
  CASED_VOCAB,
  HARD_CASES,
  PARITY_CORPUS,
  SAMPLE,
  UNCASED_VOCAB,
  compareLines,
  hfTwin,
} from './helpers.js';

const SLICE_LINES = 6000;

function describeMismatches(r: Awaited<ReturnType<typeof compareLines>>): string {
  return r.mismatches
    .slice(0, 3)
    .map(
      (m) =>
        `line ${m.line} ${JSON.stringify(m.text.slice(0, 80))}: ours ${m.ours.join(' ')} / hf ${m.hf.join(' ')}`,
    )
    .join('\n');
}

const uncased = BertTokenizer.fromVocabFile(UNCASED_VOCAB, { lowercase: true });
const uncasedHf = hfTwin(uncased);

test('uncased ids equal HF on all of data/corpus/sample.txt', async () => {
  const lines = readFileSync(SAMPLE, 'utf8').split('\n');
  const r = await compareLines(uncased, uncasedHf, lines);
  assert.equal(r.lines, lines.length);
  assert.ok(r.lines > 4000);
  assert.equal(r.mismatches.length, 0, describeMismatches(r));
});

test('uncased and cased ids equal HF on every hard case (accents, CJK, Arabic, emoji, controls, zero-width, long words, [MASK])', async () => {
  const lines = readFileSync(HARD_CASES, 'utf8').split('\n');
  assert.ok(lines.length >= 30);
  const r = await compareLines(uncased, uncasedHf, lines);
  assert.equal(r.mismatches.length, 0, describeMismatches(r));
  const cased = BertTokenizer.fromVocabFile(CASED_VOCAB, { lowercase: false });
  const rc = await compareLines(cased, hfTwin(cased), lines);
  assert.equal(rc.mismatches.length, 0, describeMismatches(rc));
});

test(`ids equal HF on a slice of ${PARITY_CORPUS.map((f) => basename(f)).join(', ')}, uncased and cased`, async () => {
  const cased = BertTokenizer.fromVocabFile(CASED_VOCAB, { lowercase: false });
  const casedHf = hfTwin(cased);
  let compared = 0;
  for (const file of PARITY_CORPUS) {
    const all = readFileSync(file, 'utf8').split('\n');
    // A slice from the middle of the file (past the front matter, into the prose), or all of a short one.
    const start = Math.max(0, Math.min(Math.floor(all.length / 2), all.length - SLICE_LINES));
    const lines = all.slice(start, start + SLICE_LINES);
    const ru = await compareLines(uncased, uncasedHf, lines);
    assert.equal(ru.mismatches.length, 0, `${file} uncased\n${describeMismatches(ru)}`);
    const rc = await compareLines(cased, casedHf, lines);
    assert.equal(rc.mismatches.length, 0, `${file} cased\n${describeMismatches(rc)}`);
    assert.equal(ru.lines, Math.min(all.length, SLICE_LINES));
    compared += ru.lines;
  }
  assert.ok(compared > 4000, `only ${compared} lines compared`);
});

test('pairs: [CLS] A [SEP] B [SEP], type ids and longest-first truncation equal HF', async () => {
  const pairs: Array<[string, string]> = [
    ['The quick brown fox jumps over the lazy dog.', 'A short one.'],
    ['Short.', 'This second segment is a good deal longer than the first one, by far.'],
    ['Équal length here now', 'equal length there too'],
    ['Unbelievably unaffable antidisestablishmentarianism', '[MASK] is [SEP] literal'],
  ];
  for (const maxLength of [6, 9, 12, 13, 64]) {
    const hf = hfTwin(uncased);
    hf.setTruncation(maxLength);
    for (const [a, b] of pairs) {
      const ours = uncased.encode(a, b, { maxLength });
      const theirs = await hf.encode(a, b);
      assert.deepEqual(ours.ids, theirs.getIds(), `${maxLength}: ${a} | ${b}`);
      assert.deepEqual(ours.tokenTypeIds, theirs.getTypeIds());
      assert.deepEqual(ours.attentionMask, theirs.getAttentionMask());
    }
  }
});

test('padding to max_length adds [PAD] with mask 0, like HF', async () => {
  const hf = hfTwin(uncased);
  hf.setPadding({ maxLength: 16, padId: uncased.padId, padToken: '[PAD]' });
  const ours = uncased.encode('Hello, world!', 'Again.', { maxLength: 16, padding: true });
  const theirs = await hf.encode('Hello, world!', 'Again.');
  assert.deepEqual(ours.ids, theirs.getIds());
  assert.deepEqual(ours.attentionMask, theirs.getAttentionMask());
  assert.deepEqual(ours.tokenTypeIds, theirs.getTypeIds());
  assert.equal(ours.ids.length, 16);
});
