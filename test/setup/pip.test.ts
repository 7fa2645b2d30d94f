import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkPip,
  downloadWheel,
  pickDownloadedWheel,
  wheelDistribution,
} from '../../src/setup/pip.js';
import type { CommandRunner } from '../../src/setup/commands.js';
import { UserError } from '../../src/errors.js';
import { tempDir } from './fixtures.js';
import { commandResult, fakeRunner } from '../helpers/command-runner.js';

const oneLine = (re: RegExp) => (err: unknown) =>
  err instanceof UserError && re.test(err.message) && !err.message.includes('\n');

test('wheelDistribution: tensorflow-cpu for CPU, tensorflow for GPU', () => {
  assert.equal(wheelDistribution('cpu'), 'tensorflow-cpu');
  assert.equal(wheelDistribution('gpu'), 'tensorflow');
});

test('checkPip: a missing python3 is one line that suggests --wheel', async () => {
  await assert.rejects(
    checkPip(fakeRunner({ code: null, notFound: true }), 'python3'),
    oneLine(/^python3 not found: .*pass --wheel FILE\.whl$/),
  );
});

test('checkPip: python without pip says how to get pip', async () => {
  const r = fakeRunner({ code: 1, stderr: '/usr/bin/python3: No module named pip\n' });
  await assert.rejects(
    checkPip(r, 'python3'),
    oneLine(/python3 has no pip \(.*No module named pip\): install it .*ensurepip/),
  );
});

test("checkPip: returns pip's version line when it works", async () => {
  const calls: string[][] = [];
  const v = await checkPip(
    fakeRunner({ stdout: 'pip 23.2.1 from /x (python 3.11)\n' }, calls),
    'py',
  );
  assert.equal(v, 'pip 23.2.1 from /x (python 3.11)');
  assert.deepEqual(calls, [['py', '-m', 'pip', '--version']]);
});

test('downloadWheel asks pip for one binary wheel without dependencies', async () => {
  const dir = await tempDir();
  const calls: string[][] = [];
  const fake: CommandRunner = async (cmd, args) => {
    calls.push([cmd, ...args]);
    await writeFile(join(dir, 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl'), '');
    return commandResult();
  };
  const path = await downloadWheel(fake, 'python3', 'tensorflow-cpu', dir);
  assert.equal(path, join(dir, 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl'));
  assert.deepEqual(calls[0], [
    'python3',
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--only-binary=:all:',
    '--dest',
    dir,
    'tensorflow-cpu',
  ]);
});

test("downloadWheel: pip's own reason is kept when no wheel can be had", async () => {
  const r = fakeRunner({
    code: 1,
    stderr:
      'ERROR: Could not find a version that satisfies the requirement tensorflow-cpu\nERROR: No matching distribution found for tensorflow-cpu\n',
  });
  await assert.rejects(
    downloadWheel(r, 'python3', 'tensorflow-cpu', await tempDir()),
    oneLine(
      /^pip could not download tensorflow-cpu \(ERROR: No matching distribution found for tensorflow-cpu\), or pass --wheel/,
    ),
  );
});

test('pickDownloadedWheel: no wheel in the folder is an error naming it', () => {
  assert.equal(
    pickDownloadedWheel(['x.txt', 'tensorflow_cpu-2.21.0-a-b-c.whl'], 'tensorflow-cpu', '/d'),
    'tensorflow_cpu-2.21.0-a-b-c.whl',
  );
  assert.throws(
    () => pickDownloadedWheel(['numpy-1-a-b-c.whl'], 'tensorflow-cpu', '/d'),
    oneLine(/left no tensorflow_cpu-\*\.whl in \/d/),
  );
});
