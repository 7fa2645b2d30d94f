import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRunDir, writeRunFiles, runInfo, finishRunFile } from '../../src/train/run-dir.js';
import { UserError } from '../../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'bert-runs-'));

test('a new run directory is created with config and run.json', async () => {
  const dir = await prepareRunDir(join(root, 'a'), 'new');
  await writeRunFiles(
    dir,
    { name: 'a', train: { lr: 1e-4 } },
    runInfo('pretrain', ['pretrain'], null),
    'new',
  );
  assert.match(readFileSync(join(dir, 'config.resolved.yaml'), 'utf8'), /lr: 0\.0001/);
  const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.equal(info.command, 'pretrain');
  assert.equal(info.versions.node, process.versions.node);
  await finishRunFile(dir, 'completed');
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status, 'completed');
});

test('an existing run is never clobbered without --force', async () => {
  const dir = join(root, 'b');
  mkdirSync(dir);
  writeFileSync(join(dir, 'precious.txt'), 'keep me');
  await assert.rejects(prepareRunDir(dir, 'new'), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(
      err.message,
      /already exists; pass --resume to continue it or --force to replace it/,
    );
    return true;
  });
  assert.equal(readFileSync(join(dir, 'precious.txt'), 'utf8'), 'keep me');
});

test('--force replaces, --resume reuses, and resuming nothing is an error', async () => {
  const dir = join(root, 'c');
  mkdirSync(dir);
  writeFileSync(join(dir, 'old.txt'), 'x');
  await prepareRunDir(dir, 'resume');
  assert.ok(existsSync(join(dir, 'old.txt')));
  await prepareRunDir(dir, 'force');
  assert.ok(!existsSync(join(dir, 'old.txt')));
  await assert.rejects(prepareRunDir(join(root, 'missing'), 'resume'), /nothing to resume/);
});
