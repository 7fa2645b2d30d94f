import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractZip, readZip, ZipFormatError } from '../../../src/tasks/glue/zip.js';
import { buildZip } from '../../helpers/zip.js';

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

test('extractZip streams members to disk with CRC checks, creating folders', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'zip-x-'));
  try {
    const big = Buffer.from('0\tsome sentence with "quotes"\tentailment\n'.repeat(20000));
    const zipPath = join(dir, 'a.zip');
    await writeFile(
      zipPath,
      buildZip([
        { name: 'RTE/' },
        { name: 'RTE/train.tsv', data: big },
        { name: 'RTE/empty.tsv', data: Buffer.alloc(0), method: 0 },
        { name: 'RTE/sub/raw.bin', data: Buffer.from([9, 8, 7]), method: 0 },
      ]),
    );
    const written = await extractZip(zipPath, join(dir, 'out'));
    assert.deepEqual(written, ['RTE/train.tsv', 'RTE/empty.tsv', 'RTE/sub/raw.bin']);
    assert.deepEqual(await readFile(join(dir, 'out/RTE/train.tsv')), big);
    assert.equal((await readFile(join(dir, 'out/RTE/empty.tsv'))).length, 0);
    assert.deepEqual(await readFile(join(dir, 'out/RTE/sub/raw.bin')), Buffer.from([9, 8, 7]));
    const corrupt = buildZip([{ name: 'x.txt', data: Buffer.from('hello world'), method: 0 }]);
    corrupt[30 + 5 + 3] ^= 0xff;
    await writeFile(zipPath, corrupt);
    await assert.rejects(extractZip(zipPath, join(dir, 'out2')), /x\.txt: CRC-32 mismatch/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('archives written by another implementation (Python zipfile, deflate) extract byte-identical', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'zip-py-'));
  try {
    const files: Record<string, Buffer> = {
      'WNLI/train.tsv': Buffer.from(
        'index\tsentence1\tsentence2\tlabel\n0\t"a"\tb\t1\n'.repeat(300),
      ),
      'WNLI/dev.tsv': Buffer.from('\ufeffhead\n'),
    };
    for (const [name, data] of Object.entries(files)) {
      await mkdir(join(dir, 'src', name, '..'), { recursive: true });
      await writeFile(join(dir, 'src', name), data);
    }
    const script =
      'import zipfile,sys,os\n' +
      'os.chdir(sys.argv[1])\n' +
      'with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:\n' +
      '  z.write("WNLI")\n  z.write("WNLI/train.tsv")\n  z.write("WNLI/dev.tsv")\n';
    const res = spawnSync('/usr/bin/python3', ['-c', script, join(dir, 'src'), join(dir, 'w.zip')]);
    if (res.error || res.status !== 0)
      return t.skip(`/usr/bin/python3 unavailable: ${res.error?.message ?? res.stderr}`);
    await extractZip(join(dir, 'w.zip'), join(dir, 'out'));
    for (const [name, data] of Object.entries(files)) {
      assert.deepEqual(await readFile(join(dir, 'out', name)), data, name);
    }
    assert.deepEqual(
      readZip(await readFile(join(dir, 'w.zip'))).map((e) => e.name),
      ['WNLI/', 'WNLI/train.tsv', 'WNLI/dev.tsv'],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
