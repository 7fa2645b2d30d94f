import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend, backendLoaders, describeChoice } from '../../src/backend/select.js';
import { UserError } from '../../src/errors.js';

test('auto falls through tensorflow and webgpu to wasm when the native packages are absent', async (t) => {
  const original = { ...backendLoaders };
  t.after(() => Object.assign(backendLoaders, original));
  const order: string[] = [];
  backendLoaders.tensorflow = async () => {
    order.push('tensorflow');
    const err = new Error(
      "Cannot find package '@tensorflow/tfjs-node' imported from x",
    ) as Error & { code: string };
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  };
  backendLoaders.webgpu = async () => {
    order.push('webgpu');
    throw new Error('no GPU adapter found');
  };
  const wasm = original.wasm;
  backendLoaders.wasm = async (threads, named) => {
    order.push('wasm');
    return wasm(threads, named);
  };
  const choice = await selectBackend('auto');
  assert.deepEqual(order, ['tensorflow', 'webgpu', 'wasm']);
  assert.equal(choice.backend, 'wasm');
  assert.equal(choice.tfBackend, 'wasm');
  assert.deepEqual(
    choice.attempts.map((a) => [a.backend, a.ok]),
    [
      ['tensorflow', false],
      ['webgpu', false],
      ['wasm', true],
    ],
  );
  assert.match(choice.attempts[0].detail, /@tensorflow\/tfjs-node is not installed/);
  assert.match(
    describeChoice(choice),
    /^backend wasm \(skipped tensorflow: .*; webgpu: no GPU adapter found\)$/,
  );
});

test('the real auto choice on a machine without libtensorflow is not tensorflow, and says why', async () => {
  const choice = await selectBackend('auto');
  const tf = choice.attempts.find((a) => a.backend === 'tensorflow');
  assert.ok(tf);
  if (!tf.ok) {
    assert.notEqual(choice.backend, 'tensorflow');
    assert.ok(tf.detail.length > 10, 'a reason is recorded');
  }
});

test('falls back to cpu when wasm fails too', async (t) => {
  const original = { ...backendLoaders };
  t.after(() => Object.assign(backendLoaders, original));
  for (const name of ['tensorflow', 'webgpu', 'wasm'] as const) {
    backendLoaders[name] = async () => {
      throw new Error(`${name} broken`);
    };
  }
  const choice = await selectBackend('auto');
  assert.equal(choice.backend, 'cpu');
  assert.equal(choice.attempts.length, 4);
});

test('a named backend that cannot load is a UserError with the reason', async (t) => {
  const original = { ...backendLoaders };
  t.after(() => Object.assign(backendLoaders, original));
  backendLoaders.webgpu = async () => {
    throw new Error('no GPU adapter found');
  };
  await assert.rejects(selectBackend('webgpu'), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(
      err.message,
      /--backend webgpu: no usable backend \(webgpu: no GPU adapter found\)/,
    );
    return true;
  });
});
