import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeVerification, verifyBackend, type VerifyReport } from '../../src/setup/verify.js';
import { fakeRunner } from '../helpers/command-runner.js';

const GOOD: VerifyReport = {
  corePath: '/p/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js',
  coreFromPackage: '/p/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js',
  registered: true,
  backend: 'tensorflow',
  matMul: [17, 39],
};
const PKG = '@tensorflow/tfjs-node';

test('judgeVerification accepts one tfjs-core and a computing tensorflow backend', () => {
  assert.equal(judgeVerification(GOOD, PKG), null);
});

test('judgeVerification catches a second tfjs-core copy first', () => {
  const two = {
    ...GOOD,
    coreFromPackage:
      '/p/node_modules/@tensorflow/tfjs/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js',
  };
  assert.match(
    judgeVerification(two, PKG) ?? '',
    /uses a second @tensorflow\/tfjs-core .*npm dedupe/,
  );
});

test('judgeVerification reports a missing registration, a failed init and a wrong result', () => {
  assert.match(
    judgeVerification({ ...GOOD, registered: false }, PKG) ?? '',
    /registered no 'tensorflow' backend/,
  );
  assert.match(
    judgeVerification({ ...GOOD, backend: 'cpu' }, PKG) ?? '',
    /failed to initialise \(active: cpu\)/,
  );
  assert.match(
    judgeVerification({ ...GOOD, matMul: [0, 0] }, PKG) ?? '',
    /= \[0,0\], expected \[17,39\]/,
  );
});

test('verifyBackend turns a load failure into the error line of the child', async () => {
  const crash = fakeRunner({
    code: 1,
    stderr:
      'node:internal/modules/cjs/loader:1\n  throw err;\nError: libtensorflow.so.2: cannot open shared object file\n    at Module._extensions\nNode.js v20.20.2\n',
  });
  await assert.rejects(verifyBackend(crash, '/p', PKG), {
    message:
      '@tensorflow/tfjs-node does not load: Error: libtensorflow.so.2: cannot open shared object file',
  });
});
