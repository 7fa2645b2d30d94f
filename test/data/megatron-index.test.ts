/**
 * `bert tokenize --index-format megatron`: the MMIDIDX index byte for byte,
 * our loader reading it, and — where a Megatron-LM checkout is named by
 * MEGATRON_LM_DIR and its Python (BERT_MEGATRON_PYTHON, default python3) has
 * numpy and torch — Megatron-Core's own IndexedDataset opening our shards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { ShardBuilder, decodeIndex, openShards } from '../../src/data/shards.js';
import { decodeMegatronIndex, encodeMegatronIndex } from '../../src/data/megatron-index.js';
import { shardCorpus } from '../../src/tokenizer/shard-corpus.js';
import { loadVocab } from '../../src/tokenizer/vocab.js';
import { packageRoot } from '../../src/paths.js';
import { SAMPLE, UNCASED_VOCAB, tempDir } from '../tokenizer/helpers.js';

const vocab = loadVocab(UNCASED_VOCAB);

test('MMIDIDX layout byte for byte: header, version, dtype code, lengths, pointers, document indices', () => {
  const b = new ShardBuilder(100, 'megatron');
  b.addSentence([5, 6, 7]);
  b.addSentence([8]);
  b.endDocument();
  b.addSentence([9, 10]);
  const { bin, idx } = b.finish();
  assert.equal(Buffer.from(bin).toString('hex'), '050006000700080009000a00');
  const hex = (n: bigint, bytes: number): string => {
    const buf = Buffer.alloc(bytes);
    if (bytes === 8) buf.writeBigInt64LE(n);
    else buf.writeInt32LE(Number(n));
    return buf.toString('hex');
  };
  const expected =
    Buffer.from('MMIDIDX\0\0', 'latin1').toString('hex') +
    hex(1n, 8) + // version
    '08' + // uint16
    hex(3n, 8) + // sequences
    hex(3n, 8) + // document indices (documents + 1)
    [3n, 1n, 2n].map((n) => hex(n, 4)).join('') +
    [0n, 6n, 8n].map((n) => hex(n, 8)).join('') +
    [0n, 2n, 3n].map((n) => hex(n, 8)).join('');
  assert.equal(Buffer.from(idx).toString('hex'), expected);
  const back = decodeIndex(idx, 'x.idx');
  assert.deepEqual([...back.sentenceStarts], [0, 3, 4, 6]);
  assert.deepEqual([...back.documentStarts], [0, 2, 3]);
});

test('a vocabulary of 65,500 or more tokens is int32 (code 4), as Megatron picks', () => {
  const b = new ShardBuilder(65500, 'megatron');
  b.addSentence([65499, 1]);
  const { bin, idx } = b.finish();
  assert.equal(bin.length, 8);
  assert.equal(idx[17], 4);
  assert.deepEqual([...decodeMegatronIndex(idx, 'x').sentenceStarts], [0, 2]);
  assert.equal(new ShardBuilder(65499, 'megatron').bytesPerToken, 2);
});

test('a damaged Megatron index is one UserError naming the file', () => {
  const idx = encodeMegatronIndex(2, [0, 3, 4], [0, 2]);
  assert.throws(() => decodeIndex(idx.subarray(0, idx.length - 1), 'a.idx'), (e: Error) => e instanceof UserError && /^a\.idx: not a Megatron indexed dataset \(\d+ bytes, expected \d+\)$/.test(e.message));
  const bad = Uint8Array.from(idx);
  bad[17] = 6;
  assert.throws(() => decodeIndex(bad, 'a.idx'), /token dtype code 6/);
  const gap = Uint8Array.from(idx);
  new DataView(gap.buffer).setBigInt64(34 + 8 + 8, 100n, true);
  assert.throws(() => decodeIndex(gap, 'a.idx'), /sequence 1 does not start where sequence 0 ends/);
});

/** Every document of a shard directory as arrays of sentences. */
function documents(dir: string): number[][][] {
  const set = openShards(dir);
  return Array.from({ length: set.numDocuments }, (_, d) => set.document(d).map((s) => [...s]));
}

let megatronDir = '';
test('corpus → Megatron shards: same .bin as ours, same documents and sentences through our loader', async () => {
  const base = tempDir('megatron-shards');
  const common = { inputs: [SAMPLE], format: 'lines' as const, vocab, lowercase: true, workers: 1, shardTokens: 30000 };
  const ours = await shardCorpus({ ...common, outputDir: join(base, 'bert') });
  const meg = await shardCorpus({ ...common, outputDir: join(base, 'megatron'), indexFormat: 'megatron' });
  assert.equal(meg.manifest.index_format, 'megatron');
  assert.equal(ours.manifest.index_format, undefined);
  assert.ok(meg.shards >= 2, `${meg.shards} shards`);
  for (const f of meg.manifest.files) {
    assert.ok(readFileSync(join(base, 'megatron', `${f.prefix}.bin`)).equals(readFileSync(join(base, 'bert', `${f.prefix}.bin`))));
    assert.equal(readFileSync(join(base, 'megatron', `${f.prefix}.idx`)).subarray(0, 9).toString('latin1'), 'MMIDIDX\0\0');
  }
  assert.deepEqual(documents(join(base, 'megatron')), documents(join(base, 'bert')));
  megatronDir = join(base, 'megatron');
});

const PYTHON = process.env.BERT_MEGATRON_PYTHON ?? 'python3';
const MEGATRON = process.env.MEGATRON_LM_DIR;
function megatronMissing(): string | null {
  if (!MEGATRON) return 'MEGATRON_LM_DIR (a checkout of NVIDIA/Megatron-LM) is not set';
  if (!existsSync(join(MEGATRON, 'megatron', 'core', 'datasets', 'indexed_dataset.py'))) {
    return `${MEGATRON}: no megatron/core/datasets/indexed_dataset.py`;
  }
  const r = spawnSync(PYTHON, ['-c', 'import numpy, torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON}: ${r.error.message}`;
  return r.status === 0 ? null : `${PYTHON} cannot import numpy and torch`;
}
const skip = megatronMissing();

test('Megatron-Core’s IndexedDataset opens our shards: every sentence and document boundary matches; its builder writes the same bytes', { skip: skip ?? false }, (t) => {
  assert.ok(megatronDir, 'the shard test above ran');
  const manifest = openShards(megatronDir).manifest;
  const prefixes = manifest.files.map((f) => join(megatronDir, f.prefix));
  const out = execFileSync(PYTHON, [join(packageRoot, 'test', 'fixtures', 'python', 'megatron_check.py'), MEGATRON!, String(vocab.size), ...prefixes], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const rows = out.trim().split('\n').map((l) => JSON.parse(l) as { commit: string; dtype: string; sequence_lengths: number[]; document_indices: number[]; sequences: number[][]; builder_bin_identical: boolean; builder_idx_identical: boolean });
  assert.equal(rows.length, prefixes.length);
  let sentences = 0;
  let docs = 0;
  manifest.files.forEach((f, i) => {
    const r = rows[i];
    const idx = decodeIndex(readFileSync(`${prefixes[i]}.idx`), f.prefix);
    const bin = readFileSync(`${prefixes[i]}.bin`);
    const tokens = new Uint16Array(bin.buffer, bin.byteOffset, bin.length / 2);
    assert.equal(r.dtype, 'uint16');
    assert.deepEqual(r.document_indices, [...idx.documentStarts]);
    assert.equal(r.sequences.length, f.sentences);
    r.sequences.forEach((s, k) => assert.deepEqual(s, [...tokens.subarray(idx.sentenceStarts[k], idx.sentenceStarts[k + 1])]));
    assert.ok(r.builder_bin_identical && r.builder_idx_identical, `${f.prefix}: Megatron's builder writes other bytes`);
    sentences += r.sequences.length;
    docs += r.document_indices.length - 1;
  });
  t.diagnostic(`Megatron-LM ${rows[0].commit || '(commit unknown)'}: ${prefixes.length} shards, ${docs} documents, ${sentences} sentences identical`);
});
