import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasicTokenizer } from '../../src/tokenizer/basic.js';
import { BertTokenizer, truncateSeqPair } from '../../src/tokenizer/bert-tokenizer.js';
import { Vocab } from '../../src/tokenizer/vocab.js';
import { WordPiece } from '../../src/tokenizer/wordpiece.js';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

test('uncased BasicTokenizer lower-cases, strips accents and splits punctuation', () => {
  const b = new BasicTokenizer({ lowercase: true });
  assert.deepEqual(b.tokenize(' \tHeLLo!how  \n Are yoU?  '), [
    'hello',
    '!',
    'how',
    'are',
    'you',
    '?',
  ]);
  assert.deepEqual(b.tokenize('Crème Brûlée'), ['creme', 'brulee']);
  assert.deepEqual(b.tokenize('H\u00E9llo'), ['hello']);
});

test('cased BasicTokenizer keeps case and accents', () => {
  const b = new BasicTokenizer({ lowercase: false });
  assert.deepEqual(b.tokenize('HeLLo Crème!'), ['HeLLo', 'Crème', '!']);
});

test('CJK ideographs become single words; other scripts do not', () => {
  const b = new BasicTokenizer({ lowercase: true });
  assert.deepEqual(b.tokenize('ah博推zz'), ['ah', '博', '推', 'zz']);
  // Kana are not split; uncased accent stripping even drops the dakuten (a BERT quirk HF shares).
  assert.deepEqual(b.tokenize('ひらがな'), ['ひらかな']);
  assert.deepEqual(new BasicTokenizer({ lowercase: false }).tokenize('ひらがな'), ['ひらがな']);
});

test('clean text drops controls, zero-width and U+FFFD, maps whitespace to spaces', () => {
  const b = new BasicTokenizer({ lowercase: true });
  assert.equal(b.normalize('a\u0000b\uFFFDc\u200Bd\u0007e'), 'abcde');
  assert.deepEqual(b.tokenize('a\u00A0b\u3000c\td'), ['a', 'b', 'c', 'd']);
});

test('WordPiece is greedy longest-match-first with ## continuations', () => {
  const vocab = new Vocab([...SPECIALS, 'un', '##aff', '##able', 'runn', '##ing', 'run']);
  const wp = new WordPiece(vocab);
  const ids = (w: string): string[] => {
    const out: number[] = [];
    wp.tokenizeWord(w, out);
    return out.map((i) => vocab.tokens[i]!);
  };
  assert.deepEqual(ids('unaffable'), ['un', '##aff', '##able']);
  assert.deepEqual(ids('running'), ['runn', '##ing']);
  // Any unmatched part makes the whole word [UNK].
  assert.deepEqual(ids('unaffablex'), ['[UNK]']);
});

test('words longer than 100 characters become [UNK]; 100 is still split', () => {
  const vocab = new Vocab([...SPECIALS, 'a', '##a']);
  const wp = new WordPiece(vocab);
  const out: number[] = [];
  wp.tokenizeWord('a'.repeat(100), out);
  assert.equal(out.length, 100);
  out.length = 0;
  wp.tokenizeWord('a'.repeat(101), out);
  assert.deepEqual(out, [vocab.id('[UNK]')]);
  // The limit counts characters, not UTF-16 units.
  const vocab2 = new Vocab([...SPECIALS, '😀', '##😀']);
  const out2: number[] = [];
  new WordPiece(vocab2).tokenizeWord('😀'.repeat(60), out2);
  assert.equal(out2.length, 60);
});

test('special tokens written in the text are matched literally, even inside words', () => {
  const vocab = new Vocab([...SPECIALS, 'foo', 'bar', '[', ']', 'mask']);
  const t = new BertTokenizer(vocab, { lowercase: true });
  assert.deepEqual(t.tokenize('foo[MASK]bar [SEP]'), ['foo', '[MASK]', 'bar', '[SEP]']);
  // Lower-case [mask] is not the special token: normalization happens after matching.
  assert.deepEqual(t.tokenize('[mask]'), ['[', 'mask', ']']);
});

test('the chunk cache gives the same ids as the uncached path', () => {
  const vocab = new Vocab([...SPECIALS, 'the', 'cat', '##s', ',', '.', 'cat']);
  const t = new BertTokenizer(vocab, { lowercase: true });
  const first = t.tokenizeToIds('The cats, the cat.');
  const second = t.tokenizeToIds('The cats, the cat.');
  assert.deepEqual(first, second);
  assert.deepEqual(t.idsToTokens(first), ['the', 'cat', '##s', ',', 'the', 'cat', '.']);
});

test('encode adds [CLS]/[SEP], type ids and attention mask', () => {
  const vocab = new Vocab([...SPECIALS, 'a', 'b', 'c']);
  const t = new BertTokenizer(vocab, { lowercase: true });
  const e = t.encode('a b', 'c');
  assert.deepEqual(t.idsToTokens(e.ids), ['[CLS]', 'a', 'b', '[SEP]', 'c', '[SEP]']);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 1, 1]);
  assert.deepEqual(e.attentionMask, [1, 1, 1, 1, 1, 1]);
  const p = t.encode('a', null, { maxLength: 5, padding: true });
  assert.deepEqual(t.idsToTokens(p.ids), ['[CLS]', 'a', '[SEP]', '[PAD]', '[PAD]']);
  assert.deepEqual(p.attentionMask, [1, 1, 1, 0, 0]);
});

test('longest-first truncation keeps the short side when the long side can absorb the cut', () => {
  const a = [1, 2];
  const b = [3, 4, 5, 6, 7, 8];
  assert.deepEqual(truncateSeqPair(a, b, 5), [
    [1, 2],
    [3, 4, 5],
  ]);
  // Both too long: halves, the longer side gets the odd token.
  assert.deepEqual(truncateSeqPair([1, 2, 3, 4], [5, 6, 7, 8, 9], 5), [
    [1, 2],
    [5, 6, 7],
  ]);
  assert.deepEqual(truncateSeqPair([1, 2, 3], null, 2), [[1, 2], null]);
});
