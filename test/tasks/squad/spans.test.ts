/**
 * Span mapping: gold answers → context pieces → windows → back to text, on
 * made-up paragraphs and on every answer of the real SQuAD v1.1 dev set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BertTokenizer } from '../../../src/tokenizer/bert-tokenizer.js';
import { loadVocab } from '../../../src/tokenizer/vocab.js';
import { tokenizeWithOffsets } from '../../../src/tokenizer/offsets.js';
import { readSquad, splitByArticle, type SquadExample } from '../../../src/tasks/squad/data.js';
import {
  ContextCache,
  charSpanToPieces,
  piecesToText,
  squadFeatures,
  windowStarts,
} from '../../../src/tasks/squad/features.js';
import { nBestAnswers, nullScores, predictionsJson } from '../../../src/tasks/squad/postprocess.js';

const VOCAB = 'data/vocab/bert-base-uncased/vocab.txt';
/**
 * SQuAD v1.1 dev: the full file from the data kit beside the repository where
 * it is present (CI), else the shipped sample (the first paragraph of each of
 * the first 24 articles; test/fixtures/squad/README.md), with what each holds.
 */
const FULL_DEV = '../shared/data/squad/dev-v1.1.json';
const DEV = existsSync(FULL_DEV)
  ? { name: 'SQuAD v1.1 dev', path: FULL_DEV, questions: 10570, answers: 34726, heldOut: 2000 }
  : {
      name: 'SQuAD v1.1 dev sample',
      path: 'test/fixtures/squad/dev-v1.1-sample.json',
      questions: 187,
      answers: 645,
      heldOut: 40,
    };
const tokenizer = new BertTokenizer(loadVocab(VOCAB), { lowercase: true });

test('piece offsets cover the original characters, through accents, punctuation and removed characters', () => {
  const text = 'Café  Müller\u200b-Strasse (1990s), naïvely! 東京';
  const p = tokenizeWithOffsets(tokenizer, text);
  assert.deepEqual(p.ids, tokenizer.tokenizeToIds(text));
  const pieces = p.ids.map((_, i) => text.slice(p.starts[i], p.ends[i]));
  assert.equal(pieces[0], 'Café');
  assert.ok(pieces.includes('('));
  assert.ok(pieces.includes('東'));
  // Pieces never overlap and move left to right.
  for (let i = 1; i < p.ids.length; i++) assert.ok(p.starts[i] >= p.ends[i - 1]);
  // Concatenated word pieces of one word give the word back.
  const naive = text.indexOf('naïvely');
  const inWord = p.ids
    .map((_, i) => i)
    .filter((i) => p.starts[i] >= naive && p.ends[i] <= naive + 7);
  assert.equal(inWord.map((i) => text.slice(p.starts[i], p.ends[i])).join(''), 'naïvely');
});

test('windows start doc_stride apart and cover every piece', () => {
  assert.deepEqual(windowStarts(10, 4, 3), [0, 3, 6]);
  assert.deepEqual(windowStarts(4, 4, 3), [0]);
  assert.deepEqual(windowStarts(5, 4, 2), [0, 2]);
});

function fixture(): SquadExample[] {
  const context =
    'The quick brown fox jumped over the lazy dog in 1990. Afterwards the dog, named Rex, slept under an old oak tree for hours.';
  const ans = (text: string): { text: string; start: number } => ({
    text,
    start: context.indexOf(text),
  });
  return [
    {
      id: 'a',
      title: 't',
      article: 0,
      context,
      question: 'Who jumped?',
      answers: [ans('quick brown fox')],
      isImpossible: false,
    },
    {
      id: 'b',
      title: 't',
      article: 0,
      context,
      question: 'What was the dog called?',
      answers: [ans('Rex')],
      isImpossible: false,
    },
    {
      id: 'c',
      title: 't',
      article: 0,
      context,
      question: 'Where did it sleep?',
      answers: [ans('under an old oak tree')],
      isImpossible: false,
    },
  ];
}

test('small windows: the answer is labelled only where it fits, and post-processing maps logits back to its text', () => {
  const examples = fixture();
  const opts = { maxSeqLength: 24, docStride: 6, maxQueryLength: 8 };
  const cache = new ContextCache(tokenizer);
  const features = squadFeatures(tokenizer, examples, opts, cache);
  assert.ok(features.length > examples.length, 'long context gets several windows');
  for (const f of features) {
    assert.ok(f.ids.length <= opts.maxSeqLength);
    const ex = examples[f.example];
    if (f.startPosition > 0) {
      const pieces = cache.get(ex.context);
      const text = piecesToText(
        ex.context,
        pieces,
        f.pieceIndex[f.startPosition],
        f.pieceIndex[f.endPosition],
      );
      assert.equal(text, ex.answers[0].text);
    }
  }
  // Every example has at least one window holding its answer.
  for (let e = 0; e < examples.length; e++)
    assert.ok(
      features.some((f) => f.example === e && f.startPosition > 0),
      `example ${e}`,
    );
  // Logits that point at the gold positions recover the gold text; an over-long span is refused.
  const logits = features.map((f) => {
    const start = new Float32Array(f.ids.length).fill(-5);
    const end = new Float32Array(f.ids.length).fill(-5);
    if (f.startPosition > 0) {
      start[f.startPosition] = 5;
      end[f.endPosition] = 5;
    }
    start[0] = 9; // [CLS] is never an answer in v1.1
    return { start, end };
  });
  const preds = predictionsJson(
    examples,
    nBestAnswers(examples, features, logits, cache, { nBestSize: 20, maxAnswerLength: 30 }),
  );
  assert.deepEqual(preds, { a: 'quick brown fox', b: 'Rex', c: 'under an old oak tree' });
  const short = predictionsJson(
    examples,
    nBestAnswers(examples, features, logits, cache, { nBestSize: 20, maxAnswerLength: 2 }),
  );
  assert.notEqual(short.c, 'under an old oak tree');
  // v2.0: every window's [CLS] scores 9 + (-5) = 4 and each gold span 5 + 5 = 10: with threshold 0
  // the spans stand (4 - 10 < 0); with threshold -7 the null answer wins (4 - 10 = -6 > -7).
  const nBest = nBestAnswers(examples, features, logits, cache, {
    nBestSize: 20,
    maxAnswerLength: 30,
  });
  const nulls = nullScores(examples, features, logits);
  assert.deepEqual(nulls, [4, 4, 4]);
  assert.deepEqual(
    predictionsJson(examples, nBest, { nullScores: nulls, nullScoreDiffThreshold: 0 }),
    preds,
  );
  assert.deepEqual(
    predictionsJson(examples, nBest, { nullScores: nulls, nullScoreDiffThreshold: -7 }),
    { a: '', b: '', c: '' },
  );
});

test('reader: answer_start is checked and article splits are disjoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'squad-'));
  const file = join(dir, 'bad.json');
  writeFileSync(
    file,
    JSON.stringify({
      data: [
        {
          title: 'x',
          paragraphs: [
            {
              context: 'abc def',
              qas: [{ id: '1', question: 'q', answers: [{ text: 'def', answer_start: 1 }] }],
            },
          ],
        },
      ],
    }),
  );
  assert.throws(() => readSquad(file), /question 1: answer "def" is not at answer_start 1/);
});

test(`${DEV.name}: every gold answer maps to pieces and back; count those that round-trip exactly and fit a 384/128 window`, (t) => {
  const examples = readSquad(DEV.path);
  assert.equal(examples.length, DEV.questions);
  const cache = new ContextCache(tokenizer);
  let answers = 0;
  let exact = 0;
  let fits = 0;
  let fitsExact = 0;
  const bad: string[] = [];
  for (const ex of examples) {
    const pieces = cache.get(ex.context);
    const q = Math.min(tokenizer.tokenizeToIds(ex.question).length, 64);
    const maxContext = 384 - q - 3;
    const starts = windowStarts(pieces.ids.length, maxContext, 128);
    for (const a of ex.answers) {
      answers += 1;
      const span = charSpanToPieces(pieces, a.start, a.start + a.text.length);
      assert.ok(span, `${ex.id}: ${a.text} maps to no piece`);
      const text = piecesToText(ex.context, pieces, span.start, span.end);
      const ok = text === a.text;
      if (ok) exact += 1;
      else if (bad.length < 5) bad.push(`${JSON.stringify(a.text)} → ${JSON.stringify(text)}`);
      const inWindow = starts.some((s) => span.start >= s && span.end < s + maxContext);
      if (inWindow) fits += 1;
      if (inWindow && ok) fitsExact += 1;
      // Whatever the boundaries, the mapped text contains the answer (pieces never cut inside it).
      assert.ok(text.includes(a.text), `${ex.id}: ${text} lacks ${a.text}`);
    }
  }
  t.diagnostic(
    `answers ${answers}, fit a window ${fits}, round-trip exactly ${exact}, both ${fitsExact}; e.g. ${bad.join('; ')}`,
  );
  assert.equal(answers, DEV.answers);
  assert.equal(fits, answers);
  // Answers that end inside a word piece ("1990" of "1990s") cannot round-trip; they are a small minority.
  assert.ok(exact / answers > 0.97, `only ${exact} of ${answers} round-trip`);
  const { train, eval: held } = splitByArticle(examples, 4);
  const trainTitles = new Set(train.map((e) => e.title));
  assert.ok(held.length > DEV.heldOut && held.every((e) => !trainTitles.has(e.title)));
});
