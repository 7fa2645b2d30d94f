import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorLine, lastLine, runCommand } from '../../src/setup/commands.js';
import { tempDir } from './fixtures.js';

test('runCommand reports a missing program as notFound instead of throwing', async () => {
  const r = await runCommand('bert-no-such-program-xyz', ['--version']);
  assert.equal(r.notFound, true);
  assert.equal(r.code, null);
});

test('runCommand collects stdout, stderr and the exit code, and copies both to the log file', async () => {
  const log = join(await tempDir(), 'build.log');
  const r = await runCommand(
    process.execPath,
    ['-e', 'console.log("out line"); console.error("err line"); process.exit(3)'],
    { logFile: log },
  );
  assert.deepEqual(
    [r.code, r.notFound, r.stdout, r.stderr],
    [3, false, 'out line\n', 'err line\n'],
  );
  const text = await readFile(log, 'utf8');
  assert.ok(text.includes('out line') && text.includes('err line'));
});

test('lastLine and errorLine pick the line worth showing', () => {
  assert.equal(lastLine('a\nb\n\n  \n'), 'b');
  assert.equal(lastLine(''), '');
  assert.equal(lastLine('x'.repeat(300)).length, 200);
  assert.equal(
    errorLine('at foo\nTypeError: bad thing\n    at bar\nNode.js v20'),
    'TypeError: bad thing',
  );
  assert.equal(errorLine('no errors here\nlast'), 'last');
});
