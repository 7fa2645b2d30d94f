import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { loadVocab, parseVocab, saveVocab } from '../../src/tokenizer/vocab.js';
import { UNCASED_VOCAB, tempDir } from './helpers.js';

function oneLineUserError(fn: () => unknown, ...mustMention: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected UserError, got ${String(err)}`);
    assert.equal(err.exitCode, 1);
    assert.ok(!err.message.includes('\n'), `not one line: ${err.message}`);
    for (const m of mustMention)
      assert.ok(err.message.includes(m), `"${err.message}" lacks "${m}"`);
    return true;
  });
}

test('the bert-base-uncased vocab loads with the standard special ids', () => {
  const v = loadVocab(UNCASED_VOCAB);
  assert.equal(v.size, 30522);
  assert.deepEqual(
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => v.id(t)),
    [0, 100, 101, 102, 103],
  );
});

test('a vocab without [UNK], [CLS], [SEP] or [MASK] is a one-line UserError naming the file and token', () => {
  for (const missing of ['[UNK]', '[CLS]', '[SEP]', '[MASK]']) {
    const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a'].filter((t) => t !== missing);
    oneLineUserError(
      () => parseVocab(tokens.join('\n') + '\n', 'my/vocab.txt'),
      'my/vocab.txt',
      missing,
    );
  }
});

test('missing vocab file, a directory, or invalid UTF-8 are one-line UserErrors', () => {
  const dir = tempDir('vocab');
  oneLineUserError(() => loadVocab(join(dir, 'nope.txt')), 'nope.txt', 'not found');
  mkdirSync(join(dir, 'adir'));
  oneLineUserError(() => loadVocab(join(dir, 'adir')), 'adir', 'directory');
  const bad = join(dir, 'bad.txt');
  writeFileSync(
    bad,
    Buffer.concat([
      Buffer.from('[PAD]\n[UNK]\n'),
      Buffer.from([0xff, 0xfe, 0x41]),
      Buffer.from('\n'),
    ]),
  );
  oneLineUserError(() => loadVocab(bad), 'bad.txt:3', 'invalid UTF-8', 'byte 12');
});

test('save then load round-trips the vocabulary, leaving no temporary files', async () => {
  const dir = tempDir('vocab-rt');
  const v = loadVocab(UNCASED_VOCAB);
  const path = join(dir, 'vocab.txt');
  await saveVocab(path, v);
  const back = loadVocab(path);
  assert.deepEqual(back.tokens, v.tokens);
  assert.deepEqual(readdirSync(dir), ['vocab.txt']);
});

test('CRLF vocab files load like LF ones (trailing whitespace trimmed, as HF does)', () => {
  const v = parseVocab('[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nhello\r\n', 'crlf.txt');
  assert.equal(v.id('hello'), 5);
});
