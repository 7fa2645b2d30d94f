import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import {
  ShardBuilder,
  ShardDirWriter,
  bytesPerToken,
  decodeIndex,
  encodeIndex,
  openShards,
} from '../../src/data/shards.js';
import { BertTokenizer } from '../../src/tokenizer/bert-tokenizer.js';
import { shardCorpus } from '../../src/tokenizer/shard-corpus.js';
import { blockBoundaries } from '../../src/tokenizer/encode-block.js';
import { loadVocab } from '../../src/tokenizer/vocab.js';
import { SAMPLE, UNCASED_VOCAB, tempDir } from './helpers.js';

const vocab = loadVocab(UNCASED_VOCAB);

test('.idx layout: magic, version, bytes per token, counts, u64 offsets', () => {
  const idx = encodeIndex(2, [0, 3, 5], [0, 2]);
  assert.equal(Buffer.from(idx.subarray(0, 8)).toString('latin1'), 'BERTIDX1');
  const view = new DataView(idx.buffer);
  assert.equal(view.getUint32(8, true), 1);
  assert.equal(view.getUint32(12, true), 2);
  assert.equal(view.getBigUint64(16, true), 2n);
  assert.equal(view.getBigUint64(24, true), 1n);
  assert.equal(idx.length, 32 + 8 * (3 + 2));
  assert.equal(view.getBigUint64(32 + 8, true), 3n);
  const back = decodeIndex(idx, 'x.idx');
  assert.deepEqual([...back.sentenceStarts], [0, 3, 5]);
  assert.deepEqual([...back.documentStarts], [0, 2]);
  assert.throws(() => decodeIndex(idx.subarray(0, 20), 'x.idx'), UserError);
});

test('uint16 ids up to 65,535 tokens, uint32 beyond', () => {
  assert.equal(bytesPerToken(30522), 2);
  assert.equal(bytesPerToken(65535), 2);
  assert.equal(bytesPerToken(65536), 4);
});

test('shards round-trip: documents and sentences written are read back, across shards, uint16 and uint32', async () => {
  for (const vocabSize of [30522, 70000]) {
    const dir = tempDir('shards-rt');
    const docs = [
      [[101, 7, 8], [9]],
      [[65000 % vocabSize, 1, 2, 3]],
      [[4], [5, 6], [69999 % vocabSize]],
    ];
    const writer = new ShardDirWriter(dir);
    let b = new ShardBuilder(vocabSize);
    for (const [i, doc] of docs.entries()) {
      for (const s of doc) b.addSentence(s);
      b.endDocument();
      if (i === 0) {
        await writer.writeShard('shard-00000', b);
        b = new ShardBuilder(vocabSize);
      }
    }
    await writer.writeShard('shard-00001', b);
    await writer.commit({ vocab_size: vocabSize, vocab_sha256: 'x', lowercase: true });
    const set = openShards(dir);
    assert.equal(set.numDocuments, 3);
    assert.equal(set.numSentences, 6);
    assert.equal(set.manifest.files.length, 2);
    for (const [i, doc] of docs.entries()) {
      assert.deepEqual(
        set.document(i).map((s) => [...s]),
        doc,
      );
    }
    assert.equal(
      set.document(0)[0] instanceof (vocabSize > 65535 ? Uint32Array : Uint16Array),
      true,
    );
    assert.throws(() => set.document(3), RangeError);
    assert.ok(
      readdirSync(dir).every((f) => !f.startsWith('.')),
      'no temporary files left',
    );
  }
});

test('corpus → shards with worker threads matches direct encoding, sentence for sentence', async () => {
  const dir = tempDir('shard-corpus');
  const summary = await shardCorpus({
    inputs: [SAMPLE],
    format: 'lines',
    vocab,
    lowercase: true,
    outputDir: dir,
    workers: 2,
    blockChars: 20000,
    shardTokens: 30000,
  });
  // Expected: blank lines split documents; every non-empty line is a sentence.
  const tok = new BertTokenizer(vocab, { lowercase: true });
  const expected: number[][][] = [[]];
  for (const line of readFileSync(SAMPLE, 'utf8').split('\n')) {
    if (line.trim() === '') expected.push([]);
    else expected[expected.length - 1]!.push(tok.tokenizeToIds(line));
  }
  const docs = expected.filter((d) => d.length > 0);
  const set = openShards(dir);
  assert.ok(set.manifest.files.length > 1, 'several shards');
  assert.equal(set.numDocuments, docs.length);
  assert.equal(summary.documents, docs.length);
  assert.equal(summary.sentences, docs.flat().length);
  assert.equal(set.numTokens, summary.tokens);
  for (let d = 0; d < docs.length; d++) {
    const got = set.document(d).map((s) => [...s]);
    assert.deepEqual(got, docs[d]);
  }
  assert.equal(set.manifest.vocab_size, 30522);
  assert.equal(set.manifest.lowercase, true);
  assert.match(set.manifest.vocab_sha256, /^[0-9a-f]{64}$/);
});

test('paragraph mode splits lines into sentences with Intl.Segmenter', async () => {
  const dir = tempDir('shard-para');
  const input = join(dir, 'in.txt');
  writeFileSync(
    input,
    'First sentence here. Second one! Third?\nNext paragraph.\n\nOther document. Yes.\n',
  );
  const summary = await shardCorpus({
    inputs: [input],
    format: 'paragraphs',
    vocab,
    lowercase: true,
    outputDir: join(dir, 'out'),
    workers: 1,
  });
  assert.equal(summary.documents, 2);
  assert.equal(summary.sentences, 6);
  const set = openShards(join(dir, 'out'));
  assert.equal(set.document(1).length, 2);
});

async function assertRejectsCleanly(
  dir: string,
  run: () => Promise<unknown>,
  mention: string,
): Promise<void> {
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof UserError, String(err));
    assert.ok(!err.message.includes('\n'));
    assert.ok(err.message.includes(mention), `"${err.message}" lacks "${mention}"`);
    return true;
  });
  const left = readdirSync(dir);
  assert.deepEqual(left, [], `nothing half-written, found ${left.join(', ')}`);
}

test('bad inputs (missing file, directory, invalid UTF-8) fail with one line and leave nothing behind', async () => {
  const base = tempDir('shard-bad');
  const out = join(base, 'out');
  mkdirSync(out);
  const good = join(base, 'good.txt');
  writeFileSync(good, 'A fine sentence.\n\nAnother document.\n'.repeat(2000));
  const bad = join(base, 'bad.txt');
  writeFileSync(bad, Buffer.concat([Buffer.from('ok line\nsecond \xff line\n', 'latin1')]));
  mkdirSync(join(base, 'adir'));
  const opts = {
    format: 'lines' as const,
    vocab,
    lowercase: true,
    outputDir: out,
    workers: 2,
    blockChars: 4096,
    shardTokens: 2000,
  };
  await assertRejectsCleanly(
    out,
    () => shardCorpus({ ...opts, inputs: [good, join(base, 'missing.txt')] }),
    'missing.txt',
  );
  await assertRejectsCleanly(
    out,
    () => shardCorpus({ ...opts, inputs: [join(base, 'adir')] }),
    'directory',
  );
  // The good file is encoded (and shards staged) before the bad one is read: all of it must go.
  await assertRejectsCleanly(out, () => shardCorpus({ ...opts, inputs: [good, bad] }), 'bad.txt:2');
});

test('existing shards are not overwritten without force', async () => {
  const dir = tempDir('shard-exists');
  const input = join(dir, 'in.txt');
  writeFileSync(input, 'Hello there.\n');
  const opts = {
    inputs: [input],
    format: 'lines' as const,
    vocab,
    lowercase: true,
    outputDir: join(dir, 'o'),
    workers: 1,
  };
  await shardCorpus(opts);
  await assert.rejects(() => shardCorpus(opts), UserError);
  const again = await shardCorpus({ ...opts, force: true });
  assert.equal(again.sentences, 1);
});

test('work blocks are cut only at blank lines, so no document straddles two blocks', () => {
  const text = 'a1\na2\n\nb1\n \nc1\nc2\nc3\n\n\nd1\n';
  for (const target of [1, 3, 5, 8, 100]) {
    const cuts = blockBoundaries(text, target);
    assert.equal(cuts[0], 0);
    assert.equal(cuts[cuts.length - 1], text.length);
    for (const cut of cuts.slice(1, -1)) {
      // A cut lands at the start of a blank line: the previous character ends a line.
      assert.equal(text[cut - 1], '\n');
      const lineEnd = text.indexOf('\n', cut);
      assert.equal(text.slice(cut, lineEnd).trim(), '', `cut at ${cut} for target ${target}`);
    }
  }
});

test('openShards on a directory without shards.json, or with a damaged shard, is a one-line UserError', async () => {
  const dir = tempDir('shards-open');
  assert.throws(
    () => openShards(dir),
    (e: unknown) => e instanceof UserError && e.message.includes('shards.json'),
  );
  const input = join(dir, 'in.txt');
  writeFileSync(input, 'One sentence.\nTwo sentences.\n');
  const out = join(dir, 'out');
  await shardCorpus({
    inputs: [input],
    format: 'lines',
    vocab,
    lowercase: true,
    outputDir: out,
    workers: 1,
  });
  const bin = join(out, 'shard-00000.bin');
  writeFileSync(bin, readFileSync(bin).subarray(0, 4));
  assert.throws(
    () => openShards(out),
    (e: unknown) =>
      e instanceof UserError && !e.message.includes('\n') && e.message.includes('shard-00000'),
  );
});

test('inputs are read in pieces cut at blank lines: tiny pieces give the same shards, and bad UTF-8 late in a file names its line', async () => {
  const dir = tempDir('shard-pieces');
  const input = join(dir, 'in.txt');
  const doc = (i: number): string => `Document ${i} starts.\r\nIt goes on, café.\r\n`;
  writeFileSync(
    input,
    Array.from({ length: 60 }, (_, i) => doc(i)).join('\r\n') + '\n\n' + 'Last one.\n',
  );
  const opts = {
    inputs: [input],
    format: 'lines' as const,
    vocab,
    lowercase: true,
    workers: 2,
    blockChars: 50,
  };
  const whole = await shardCorpus({ ...opts, outputDir: join(dir, 'whole') });
  const pieces = await shardCorpus({ ...opts, outputDir: join(dir, 'pieces'), readChunkBytes: 64 });
  assert.equal(whole.documents, 61);
  assert.deepEqual(
    [pieces.documents, pieces.sentences, pieces.tokens],
    [whole.documents, whole.sentences, whole.tokens],
  );
  const a = openShards(join(dir, 'whole'));
  const b = openShards(join(dir, 'pieces'));
  for (let d = 0; d < a.numDocuments; d++) {
    assert.deepEqual(
      b.document(d).map((s) => [...s]),
      a.document(d).map((s) => [...s]),
    );
  }
  const bad = join(dir, 'bad.txt');
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i}\n${i % 3 === 0 ? '\n' : ''}`).join(
    '',
  );
  writeFileSync(bad, Buffer.concat([Buffer.from(lines), Buffer.from([0xe2, 0x82, 0x0a])]));
  const badLine = lines.split('\n').length;
  await assert.rejects(
    () => shardCorpus({ ...opts, inputs: [bad], outputDir: join(dir, 'bad'), readChunkBytes: 100 }),
    (e: unknown) =>
      e instanceof UserError &&
      e.message.includes(`bad.txt:${badLine}:`) &&
      e.message.includes(`byte ${Buffer.byteLength(lines)}`),
  );
});
