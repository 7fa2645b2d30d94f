import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extractZipEntry, readZipEntries } from '../../src/setup/zip.js';
import { UserError } from '../../src/errors.js';
import { tempDir } from './fixtures.js';
import { buildZip } from '../helpers/zip.js';

const BIG = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) % 251));

async function fixture(): Promise<string> {
  const dir = await tempDir();
  const path = join(dir, 'a.zip');
  await writeFile(
    path,
    buildZip([
      { name: 'dir/deflated.bin', data: BIG },
      { name: 'stored.txt', data: 'hello wheel\n', method: 0 },
      { name: 'empty', data: '', method: 0 },
    ]),
  );
  return path;
}

test('readZipEntries lists names, methods and sizes from the central directory', async () => {
  const entries = await readZipEntries(await fixture());
  assert.deepEqual(
    entries.map((e) => [e.name, e.method, e.size]),
    [
      ['dir/deflated.bin', 8, BIG.length],
      ['stored.txt', 0, 12],
      ['empty', 0, 0],
    ],
  );
  assert.ok(entries[0].compressedSize < BIG.length, 'the deflated entry is compressed');
  assert.equal(entries[1].mode, 0o644);
});

test('extractZipEntry reproduces deflated, stored and empty entries byte for byte', async () => {
  const path = await fixture();
  const dir = await tempDir();
  const [deflated, stored, empty] = await readZipEntries(path);
  await extractZipEntry(path, deflated, join(dir, 'd'));
  await extractZipEntry(path, stored, join(dir, 's'));
  await extractZipEntry(path, empty, join(dir, 'e'));
  assert.ok((await readFile(join(dir, 'd'))).equals(BIG));
  assert.equal(await readFile(join(dir, 's'), 'utf8'), 'hello wheel\n');
  assert.equal((await stat(join(dir, 'e'))).size, 0);
});

test('extractZipEntry detects a corrupted entry by its CRC', async () => {
  const path = await fixture();
  const bytes = await readFile(path);
  const [, stored] = await readZipEntries(path);
  bytes[stored.localHeaderOffset + 30 + 'stored.txt'.length] ^= 0xff; // flip the first data byte
  await writeFile(path, bytes);
  await assert.rejects(
    extractZipEntry(path, stored, join(await tempDir(), 'x')),
    /stored\.txt is corrupt/,
  );
});

test('readZipEntries says which file is not a zip archive', async () => {
  const path = join(await tempDir(), 'fake.whl');
  await writeFile(path, 'this is not a zip file at all, just text');
  await assert.rejects(
    readZipEntries(path),
    (err: unknown) => err instanceof UserError && /fake\.whl: not a zip archive/.test(err.message),
  );
  await assert.rejects(
    readZipEntries(path + '.missing'),
    /fake\.whl\.missing: cannot open \(ENOENT\)/,
  );
});
