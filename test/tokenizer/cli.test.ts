/** `bert tokenize …` end to end through bin/bert.js: output, exit codes, one-line errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { UNCASED_VOCAB, tempDir } from './helpers.js';

function bert(
  args: string[],
  input?: string,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(packageRoot, 'bin/bert.js'), ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('bert tokenize encode reads stdin and prints one JSON object per line', () => {
  const r = bert(
    ['tokenize', 'encode', '--vocab', UNCASED_VOCAB, '--input', '-'],
    'Hello [MASK]!\nSecond line\n',
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.deepEqual(JSON.parse(lines[0]!), {
    tokens: ['[CLS]', 'hello', '[MASK]', '!', '[SEP]'],
    ids: [101, 7592, 103, 999, 102],
  });
});

test('bad input exits 1 with one line on stderr: missing file, directory, invalid UTF-8, vocab without [MASK]', () => {
  const dir = tempDir('cli');
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, Buffer.from([0x61, 0x0a, 0xc3, 0x28, 0x0a]));
  const noMask = join(dir, 'vocab.txt');
  writeFileSync(noMask, '[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n');
  const cases: Array<[string[], string]> = [
    [
      ['--vocab', UNCASED_VOCAB, '--input', join(dir, 'missing.txt')],
      'missing.txt: input file not found',
    ],
    [['--vocab', UNCASED_VOCAB, '--input', dir], 'is a directory'],
    [['--vocab', UNCASED_VOCAB, '--input', bad], 'bad.txt:2: invalid UTF-8 at byte 2'],
    [['--vocab', noMask, '--input', bad], '[MASK]'],
  ];
  for (const [args, expected] of cases) {
    const r = bert(['tokenize', 'encode', ...args]);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(expected), `"${r.stderr.trim()}" lacks "${expected}"`);
  }
});

test('bert tokenize --config with a bad corpus fails with exit 1 and leaves no output behind', () => {
  const dir = tempDir('cli-config');
  const bad = join(dir, 'bad.txt');
  writeFileSync(
    bad,
    Buffer.concat([Buffer.from('Fine line.\n\n'.repeat(500)), Buffer.from([0xff, 0x0a])]),
  );
  const out = join(dir, 'out');
  const r = bert([
    'tokenize',
    '--set',
    `output_dir=${out}`,
    '--set',
    `input=["${bad}"]`,
    '--set',
    `vocab.path=${UNCASED_VOCAB}`,
    '--ui',
    'plain',
  ]);
  assert.equal(r.status, 1, r.stderr);
  assert.ok(r.stderr.includes('invalid UTF-8'), r.stderr);
  assert.equal(existsSync(out), false, 'nothing half-written, not even the directory');
});
