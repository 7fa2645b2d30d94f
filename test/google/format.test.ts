/**
 * The TensorFlow checkpoint V2 pieces without TensorFlow: CRC-32C and its
 * masking, the sorted table of the .index file (several blocks, restart
 * points, checksums), and the bundle's entries, shards and checks.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c, crc32cUpdate, maskCrc, unmaskCrc } from '../../src/io/crc32c.js';
import { readTable, TableFormatError, writeTable } from '../../src/io/tf-checkpoint/table.js';
import {
  readBundleIndex,
  readBundleTensors,
  shardPath,
  writeBundle,
} from '../../src/io/tf-checkpoint/bundle.js';
import { googleToHf, hfToGoogle, isOptimizerState } from '../../src/google/names.js';
import { parameterSpecs } from '../../src/model/params.js';
import { smallConfig } from '../model/helpers.js';
import { UserError } from '../../src/errors.js';

let scratch = '';
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'bert-tfckpt-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('CRC-32C matches the published check values and masking inverts', () => {
  // RFC 3720 / iSCSI check value of "123456789".
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  // 32 zero bytes and 32 0xff bytes (RFC 3720 B.4).
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff);
  assert.equal(crc32cUpdate(crc32c(bytes.subarray(0, 333)), bytes.subarray(333)), crc32c(bytes));
  for (const v of [0, 1, 0xe3069283, 0xffffffff]) {
    assert.equal(unmaskCrc(maskCrc(v)), v);
    assert.notEqual(maskCrc(v), v);
  }
});

test('a table of many keys spans several blocks and reads back in byte order', () => {
  const entries: Array<[string, Uint8Array]> = [];
  for (let i = 0; i < 500; i++) {
    entries.push([
      `bert/encoder/layer_${i}/attention/self/query/kernel`,
      Uint8Array.from([i & 0xff, i >> 8, 7]),
    ]);
  }
  entries.push(['', Uint8Array.from([8, 1])]);
  const file = writeTable(entries, 1024);
  const rows = readTable(file);
  assert.equal(rows.length, 501);
  assert.equal(rows[0][0], '');
  const sorted = [...entries].map((e) => e[0]).sort();
  assert.deepEqual(
    rows.map((r) => r[0]),
    sorted,
  );
  const byKey = new Map(entries);
  for (const [k, v] of rows) assert.deepEqual([...v], [...byKey.get(k)!]);
  // Several data blocks: the index block has more than one entry, so the footer's handle is not the first block.
  assert.ok(file.length > 3 * 1024);
});

test('a flipped byte in any table block or the footer is refused', () => {
  const file = writeTable([
    ['', Uint8Array.from([8, 1])],
    ['a', Uint8Array.from([1, 2, 3])],
  ]);
  for (const at of [2, file.length - 50, file.length - 1]) {
    const bad = Uint8Array.from(file);
    bad[at] ^= 0x40;
    assert.throws(() => readTable(bad), TableFormatError, `byte ${at}`);
  }
  assert.throws(() => readTable(file.subarray(0, 20)), /shorter than a table footer/);
});

test('a bundle round-trips float32/int32/int64 tensors with their dtype, shape and checksum', async () => {
  const prefix = join(scratch, 'b', 'model.ckpt');
  const w = Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5);
  await writeBundle(prefix, [
    { name: 'w', dtype: 'float32', shape: [3, 4], data: w },
    { name: 'global_step', dtype: 'int64', shape: [], data: BigInt64Array.from([42n]) },
    { name: 'ids', dtype: 'int32', shape: [2], data: Int32Array.from([-1, 5]) },
  ]);
  const index = await readBundleIndex(prefix);
  assert.equal(index.numShards, 1);
  assert.deepEqual(
    index.entries.map((e) => [e.name, e.dtypeName, e.shape, e.size]),
    [
      ['global_step', 'int64', [], 8],
      ['ids', 'int32', [2], 8],
      ['w', 'float32', [3, 4], 48],
    ],
  );
  const t = await readBundleTensors(index, index.entries);
  assert.deepEqual([...t.get('w')!.data], [...w]);
  assert.deepEqual([...t.get('ids')!.data], [-1, 5]);
  assert.deepEqual([...t.get('global_step')!.data], [42]);
});

test('a truncated shard, a corrupted tensor and a corrupted index are one UserError each', async () => {
  const prefix = join(scratch, 'c', 'model.ckpt');
  await writeBundle(prefix, [
    { name: 'a', dtype: 'float32', shape: [4], data: Float32Array.from([1, 2, 3, 4]) },
    { name: 'b', dtype: 'float32', shape: [2], data: Float32Array.from([5, 6]) },
  ]);
  const data = shardPath(prefix, 0, 1);
  const good = await readFile(data);
  const bad = Buffer.from(good);
  bad[3] ^= 1;
  await writeFile(data, bad);
  const index = await readBundleIndex(prefix);
  await assert.rejects(
    readBundleTensors(index, index.entries),
    (e: Error) => e instanceof UserError && /a fails its CRC-32C check/.test(e.message),
  );
  await writeFile(data, good);
  await truncate(data, 20);
  await assert.rejects(
    readBundleIndex(prefix),
    (e: Error) =>
      e instanceof UserError && /truncated \(20 bytes, the index needs 24\)/.test(e.message),
  );
  const idx = await readFile(`${prefix}.index`);
  idx[5] ^= 0x10;
  await writeFile(`${prefix}.index`, idx);
  await assert.rejects(
    readBundleIndex(prefix),
    (e: Error) => e instanceof UserError && /corrupted checkpoint index/.test(e.message),
  );
});

test('every parameter of every head has a Google name that maps back to it', () => {
  const config = smallConfig();
  for (const heads of ['pretraining', 'classification', 'question_answering'] as const) {
    for (const spec of parameterSpecs(config, { heads, numLabels: 3 })) {
      const g = hfToGoogle(spec.name);
      assert.ok(g, `${spec.name} has no Google name`);
      const back = googleToHf(g.google);
      assert.equal(back?.hf, spec.name);
      assert.equal(
        back?.transpose,
        spec.kind === 'linear' && !/seq_relationship|classifier|qa_outputs/.test(spec.name),
      );
    }
  }
  const googleNames: [hf: string, google: string][] = [
    [
      'bert.encoder.layer.1.attention.self.query.weight',
      'bert/encoder/layer_1/attention/self/query/kernel',
    ],
    ['bert.encoder.layer.0.output.LayerNorm.weight', 'bert/encoder/layer_0/output/LayerNorm/gamma'],
    ['cls.predictions.bias', 'cls/predictions/output_bias'],
    ['qa_outputs.weight', 'cls/squad/output_weights'],
  ];
  for (const [hf, google] of googleNames) assert.equal(hfToGoogle(hf)?.google, google, hf);
  assert.equal(googleToHf('bert/encoder/layer_0/attention/self/querry/kernel'), null);
  assert.equal(googleToHf('bert/pooler/dense/gamma'), null);
  assert.ok(isOptimizerState('bert/pooler/dense/kernel/adam_m'));
  assert.ok(isOptimizerState('global_step'));
  assert.ok(!isOptimizerState('bert/pooler/dense/kernel'));
});
