import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Tokenizer } from '@anush008/tokenizers';
import { UserError } from '../../src/errors.js';
import { openShards } from '../../src/data/shards.js';
import type { BertEvent } from '../../src/ui/events.js';
import { runEncode, runTokenize } from '../../src/tokenizer/run.js';
import { DEFAULT_VOCAB_TRAIN } from '../../src/tokenizer/config.js';
import { loadVocab } from '../../src/tokenizer/vocab.js';
import { SAMPLE, UNCASED_VOCAB, tempDir } from './helpers.js';

function collect(): {
  events: BertEvent[];
  reporter: { emit(e: BertEvent): void; close(): Promise<void> };
} {
  const events: BertEvent[] = [];
  return { events, reporter: { emit: (e) => events.push(e), close: async () => undefined } };
}

async function encodeToLines(
  opts: Parameters<typeof runEncode>[0],
  stdin?: string,
): Promise<Array<Record<string, unknown>>> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const input = stdin === undefined ? null : PassThrough.from([Buffer.from(stdin)]);
  await runEncode(opts, out, input);
  return Buffer.concat(chunks)
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('runTokenize trains a vocab when none is given, writes vocab.txt, a tokenizer.json HF loads, and shards', async () => {
  const dir = tempDir('run-train');
  const { events, reporter } = collect();
  const r = await runTokenize(
    {
      input: [SAMPLE],
      input_format: 'lines',
      output_dir: dir,
      vocab: { train: { vocab_size: 3000, min_frequency: 2, limit_alphabet: 500 } },
      lowercase: true,
      workers: 2,
    },
    reporter,
  );
  assert.equal(r.trainedVocab, true);
  const vocab = loadVocab(r.vocabPath);
  assert.equal(vocab.size, 3000);
  const hf = Tokenizer.fromFile(r.tokenizerJsonPath);
  assert.equal(hf.getVocabSize(true), 3000);
  const enc = await hf.encode('Alice was beginning to get very tired.');
  const set = openShards(dir);
  assert.equal(set.manifest.vocab_size, 3000);
  assert.equal(set.numDocuments, 3);
  assert.equal(enc.getIds()[0], vocab.id('[CLS]'));
  assert.ok(events.some((e) => e.type === 'progress' && e.stage === 'tokenize'));
  assert.ok(r.summary.tokens > 50000 && r.summary.sentences > 4000);
});

test('runTokenize loads an existing vocab path instead of training', async () => {
  const dir = tempDir('run-load');
  const { reporter } = collect();
  const input = join(dir, 'in.txt');
  writeFileSync(input, 'Hello world.\nSecond sentence.\n\nNew document here.\n');
  const r = await runTokenize(
    {
      input: [input],
      input_format: 'lines',
      output_dir: join(dir, 'out'),
      vocab: { path: UNCASED_VOCAB, train: DEFAULT_VOCAB_TRAIN },
      lowercase: true,
      workers: 1,
    },
    reporter,
  );
  assert.equal(r.trainedVocab, false);
  assert.equal(readFileSync(r.vocabPath, 'utf8'), readFileSync(UNCASED_VOCAB, 'utf8'));
  assert.deepEqual([r.summary.documents, r.summary.sentences], [2, 3]);
});

test('runTokenize with a missing input fails before writing anything', async () => {
  const dir = tempDir('run-missing');
  const { reporter } = collect();
  await assert.rejects(
    () =>
      runTokenize(
        {
          input: [join(dir, 'nope.txt')],
          input_format: 'lines',
          output_dir: join(dir, 'out'),
          vocab: { train: DEFAULT_VOCAB_TRAIN },
          lowercase: true,
          workers: 1,
        },
        reporter,
      ),
    UserError,
  );
  assert.equal(existsSync(join(dir, 'out')), false);
});

test('encode: one JSON object per line with [CLS]/[SEP], literal [MASK], no padding', async () => {
  const recs = await encodeToLines(
    { vocab: UNCASED_VOCAB, cased: false, input: '-', format: 'jsonl' },
    'Hello, [MASK] world!\n\nunaffable\n',
  );
  assert.equal(recs.length, 3);
  assert.deepEqual(recs[0]!.tokens, ['[CLS]', 'hello', ',', '[MASK]', 'world', '!', '[SEP]']);
  assert.deepEqual(recs[0]!.ids, [101, 7592, 1010, 103, 2088, 999, 102]);
  assert.deepEqual(recs[1]!.tokens, ['[CLS]', '[SEP]']);
  assert.deepEqual(recs[2]!.tokens, ['[CLS]', 'una', '##ffa', '##ble', '[SEP]']);
});

test('encode: pairs line by line add token_type_ids; unequal line counts are a UserError', async () => {
  const dir = tempDir('enc-pair');
  const a = join(dir, 'a.txt');
  const b = join(dir, 'b.txt');
  writeFileSync(a, 'first\nsecond\n');
  writeFileSync(b, 'one\ntwo\n');
  const recs = await encodeToLines({
    vocab: UNCASED_VOCAB,
    cased: false,
    input: a,
    pairInput: b,
    format: 'jsonl',
  });
  assert.deepEqual(recs[1]!.tokens, ['[CLS]', 'second', '[SEP]', 'two', '[SEP]']);
  assert.deepEqual(recs[1]!.token_type_ids, [0, 0, 0, 1, 1]);
  writeFileSync(b, 'one\n');
  await assert.rejects(
    () =>
      encodeToLines({
        vocab: UNCASED_VOCAB,
        cased: false,
        input: a,
        pairInput: b,
        format: 'jsonl',
      }),
    UserError,
  );
});
