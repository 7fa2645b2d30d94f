import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readZip, ZipFormatError } from '../../src/data/glue/zip.js';
import { buildZip } from './zip-writer.js';

test('readZip lists members and inflates stored and deflated data', () => {
  const text = Buffer.from('index\tsentence\n0\t"quoted" text\n'.repeat(50));
  const zip = buildZip([
    { name: 'SST-2/' },
    { name: 'SST-2/test.tsv', data: text, method: 8 },
    { name: 'SST-2/raw.bin', data: Buffer.from([0, 1, 2, 255]), method: 0 },
  ]);
  const entries = readZip(zip);
  assert.deepEqual(
    entries.map((e) => [e.name, e.isDirectory]),
    [
      ['SST-2/', true],
      ['SST-2/test.tsv', false],
      ['SST-2/raw.bin', false],
    ],
  );
  assert.deepEqual(entries[1]!.data(), text);
  assert.deepEqual(entries[2]!.data(), Buffer.from([0, 1, 2, 255]));
});

test('a corrupted member fails its CRC-32 check', () => {
  const zip = buildZip([{ name: 'a.txt', data: Buffer.from('hello world'), method: 0 }]);
  zip[30 + 'a.txt'.length + 2] ^= 0xff; // flip a byte of the stored data
  assert.throws(() => readZip(zip)[0]!.data(), /CRC-32 mismatch/);
});

test('member paths that escape the target directory are refused', () => {
  for (const name of ['../evil.txt', '/etc/passwd', 'a/../../b', 'C:/x']) {
    assert.throws(
      () => readZip(buildZip([{ name, data: Buffer.from('x') }])),
      ZipFormatError,
      name,
    );
  }
});

test('something that is not a zip is a clear error', () => {
  assert.throws(() => readZip(Buffer.from('<html>404 not found</html>')), /not a zip archive/);
});
