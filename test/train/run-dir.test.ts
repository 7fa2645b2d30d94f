import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  writeFileSync,
  readFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
} from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  claimRunDir,
  checkRunPath,
  writeRunFiles,
  runInfo,
  finishRunFile,
} from '../../src/train/run-dir.js';
import { LOCK_FILE } from '../../src/train/run-lock.js';
import { UserError } from '../../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'bert-runs-'));

test('a new run directory is created with config and run.json', async () => {
  const claim = await claimRunDir(join(root, 'a'), 'new', 'pretrain');
  const dir = claim.path;
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
  await claim.release();
  assert.ok(!existsSync(join(dir, LOCK_FILE)), 'lock released');
});

test('an existing run is never clobbered without --force', async () => {
  const dir = join(root, 'b');
  mkdirSync(dir);
  writeFileSync(join(dir, 'precious.txt'), 'keep me');
  await assert.rejects(claimRunDir(dir, 'new', 'pretrain'), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(
      err.message,
      /already exists; pass --resume to continue it or --force to replace it/,
    );
    return true;
  });
  assert.equal(readFileSync(join(dir, 'precious.txt'), 'utf8'), 'keep me');
});

test('--force replaces only a bert run, and only once replaceOld() is called', async () => {
  const notARun = join(root, 'documents');
  mkdirSync(notARun);
  writeFileSync(join(notARun, 'thesis.txt'), 'x');
  await assert.rejects(claimRunDir(notARun, 'force', 'pretrain'), /not a bert run/);
  assert.ok(existsSync(join(notARun, 'thesis.txt')));

  const dir = join(root, 'c');
  mkdirSync(dir);
  writeFileSync(join(dir, 'run.json'), '{"old":true}');
  // Dropped before replaceOld (the new inputs were bad): the old run stays.
  const dropped = await claimRunDir(dir, 'force', 'pretrain');
  assert.notEqual(dropped.writeDir, dir);
  writeFileSync(join(dropped.writeDir, 'run.json'), '{"new":true}');
  await dropped.release();
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), '{"old":true}');
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.c.')),
    [],
    'staging removed',
  );
  // Replaced: the staged run takes the old one's place.
  const claim = await claimRunDir(dir, 'force', 'pretrain');
  writeFileSync(join(claim.writeDir, 'run.json'), '{"new":true}');
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), '{"old":true}');
  claim.replaceOld();
  assert.equal(claim.writeDir, dir);
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), '{"new":true}');
  await claim.release();
  assert.deepEqual(readdirSync(dir), ['run.json']);
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.c.')),
    [],
    'old run removed',
  );
  await (await claimRunDir(dir, 'resume', 'pretrain')).release();
  await assert.rejects(
    claimRunDir(join(root, 'missing'), 'resume', 'pretrain'),
    /nothing to resume/,
  );
});

test('run paths at or above the working directory or the runs root, or hidden, are refused', () => {
  for (const dir of ['.', '..', 'runs', 'runs/.', 'runs/..', '/', 'runs/.shards']) {
    assert.throws(() => checkRunPath(dir), /not usable as a run directory/, dir);
  }
  assert.equal(checkRunPath(join(root, 'x')), join(root, 'x'));
});

test('a second writer is refused while the first holds the run; a dead writer’s lock is taken over', async () => {
  const dir = join(root, 'locked');
  const first = await claimRunDir(dir, 'new', 'pretrain');
  await assert.rejects(claimRunDir(dir, 'resume', 'pretrain'), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, new RegExp(`being written by bert pretrain \\(pid ${process.pid} `));
    return true;
  });
  await first.release();
  // A lock left by a process that is gone (kill -9).
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  const deadPid = Number(gone.stdout);
  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({
      pid: deadPid,
      host: hostname(),
      started: new Date().toISOString(),
      command: 'pretrain',
    }),
  );
  const next = await claimRunDir(dir, 'resume', 'pretrain');
  assert.ok(
    next.notes.some((n) => n.includes(`pid ${deadPid}`) && n.includes('no longer running')),
    next.notes.join('\n'),
  );
  assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  await next.release();
});

test('what a killed --force left beside a run is put right at the next start', async () => {
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  const dead = Number(gone.stdout);
  // Killed between its two renames: the old run set aside, the new one still staged.
  const dir = join(root, 'swapped');
  mkdirSync(join(root, `.swapped.replaced-${dead}-0a1b`));
  writeFileSync(join(root, `.swapped.replaced-${dead}-0a1b`, 'run.json'), '{"old":true}');
  mkdirSync(join(root, `.swapped.replacing-${dead}-2c3d`));
  writeFileSync(join(root, `.swapped.replacing-${dead}-2c3d`, 'run.json'), '{"new":true}');
  const claim = await claimRunDir(dir, 'resume', 'pretrain');
  assert.ok(
    claim.notes.some((n) => n.includes('restored the old run')),
    claim.notes.join('\n'),
  );
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), '{"old":true}');
  await claim.release();
  // Killed while deleting the old run after the new one took its place.
  mkdirSync(join(root, `.swapped.replaced-${dead}-4e5f`));
  writeFileSync(join(root, `.swapped.replaced-${dead}-4e5f`, 'run.json'), '{"older":true}');
  await (await claimRunDir(dir, 'resume', 'pretrain')).release();
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), '{"old":true}');
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.swapped.')),
    [],
    'nothing left beside the run',
  );
});
