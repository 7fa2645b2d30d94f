import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkTensorflowWheel,
  parseWheelFileName,
  variantWarning,
  wheelArch,
} from '../../src/setup/wheel.js';
import { UserError } from '../../src/errors.js';

const LINUX_X64 = { platform: 'linux', arch: 'x64' };

test('parseWheelFileName reads the five PEP 427 fields and normalises the distribution', () => {
  assert.deepEqual(
    parseWheelFileName('/tmp/tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl'),
    {
      distribution: 'tensorflow_cpu',
      version: '2.21.0',
      buildTag: null,
      pythonTag: 'cp311',
      abiTag: 'cp311',
      platformTag: 'manylinux_2_27_x86_64',
    },
  );
  const withBuild = parseWheelFileName(
    'Tensorflow-2.20.0-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
  );
  assert.equal(withBuild?.distribution, 'tensorflow');
  assert.equal(withBuild?.buildTag, '1');
  assert.equal(withBuild?.platformTag, 'manylinux_2_17_x86_64.manylinux2014_x86_64');
});

test('parseWheelFileName rejects names that are not wheels', () => {
  assert.equal(parseWheelFileName('tensorflow-2.21.0.tar.gz'), null);
  assert.equal(parseWheelFileName('tensorflow-2.21.0-cp311.whl'), null);
  assert.equal(parseWheelFileName('tensorflow-latest-cp311-cp311-linux_x86_64.whl'), null);
});

test('wheelArch maps platform tags to Node arch names', () => {
  assert.equal(wheelArch('manylinux_2_27_x86_64'), 'x64');
  assert.equal(wheelArch('manylinux_2_17_aarch64.manylinux2014_aarch64'), 'arm64');
  assert.equal(wheelArch('any'), null);
});

test('checkTensorflowWheel accepts a Linux TensorFlow wheel for this CPU', () => {
  const info = checkTensorflowWheel(
    'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
    LINUX_X64,
  );
  assert.equal(info.version, '2.21.0');
});

test('checkTensorflowWheel names the file and the problem in one line', () => {
  const cases: [string, { platform: string; arch: string }, RegExp][] = [
    ['notes.txt', LINUX_X64, /notes\.txt: not a wheel file name/],
    [
      'numpy-2.0.0-cp311-cp311-manylinux_2_27_x86_64.whl',
      LINUX_X64,
      /a 'numpy' wheel, expected one of tensorflow/,
    ],
    [
      'tensorflow-2.21.0-cp311-cp311-macosx_12_0_arm64.whl',
      LINUX_X64,
      /built for 'macosx_12_0_arm64', expected a manylinux/,
    ],
    [
      'tensorflow-2.21.0-cp311-cp311-manylinux_2_27_aarch64.whl',
      LINUX_X64,
      /built for arm64, but this machine is x64/,
    ],
    [
      'tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
      { platform: 'darwin', arch: 'x64' },
      /Linux wheels only \(this is darwin\)/,
    ],
  ];
  for (const [name, host, re] of cases) {
    assert.throws(
      () => checkTensorflowWheel(name, host),
      (err: unknown) =>
        err instanceof UserError && re.test(err.message) && !err.message.includes('\n'),
      name,
    );
  }
});

test('variantWarning flags a CPU-only wheel asked to feed the GPU package', () => {
  const cpu = parseWheelFileName('tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl');
  const full = parseWheelFileName('tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl');
  assert.ok(cpu && full);
  assert.match(variantWarning(cpu, true) ?? '', /no CUDA support/);
  assert.equal(variantWarning(cpu, false), null);
  assert.equal(variantWarning(full, true), null);
});
