/**
 * The kernel gradients registered in src/model/gradients.ts, each against
 * central finite differences of a random projection of its output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/tf.js';
import '../../src/model/gradients.js';
import { rng } from './helpers.js';

function randomTensor(shape: number[], seed: number, offset = 0): tf.Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => offset + r() * 2 - 1),
    shape,
  );
}

/** Check d/dx sum(f(x)·w) against central differences at every element of x. */
function checkGradient(
  name: string,
  f: (x: tf.Tensor) => tf.Tensor,
  shape: number[],
  offset = 0,
): void {
  const x = randomTensor(shape, 1, offset);
  const w = tf.tidy(() => randomTensor(f(x).shape, 2));
  const loss = (t: tf.Tensor): tf.Scalar => tf.sum(tf.mul(f(t), w));
  const g = tf.tidy(() => tf.grad(loss)(x));
  const analytic = g.dataSync();
  const base = Float32Array.from(x.dataSync());
  const eps = 1e-2;
  for (let i = 0; i < base.length; i++) {
    const at = (delta: number): number =>
      tf.tidy(() => {
        const v = Float32Array.from(base);
        v[i] += delta;
        return loss(tf.tensor(v, shape)).dataSync()[0];
      });
    const fd = (at(eps) - at(-eps)) / (2 * eps);
    assert.ok(
      Math.abs(fd - analytic[i]) <= 2e-3 + 1e-2 * Math.abs(fd),
      `${name}: d/dx[${i}] analytic ${analytic[i]} vs ${fd}`,
    );
  }
  tf.dispose([x, w, g]);
}

test('registered gradients match finite differences', async () => {
  await useTestBackend();
  const b = randomTensor([3, 4], 7);
  const b3 = randomTensor([2, 4, 3], 8);
  checkGradient('Slice', (x) => tf.slice(x, [1, 0], [2, 3]), [4, 3]);
  checkGradient('Concat', (x) => tf.concat([x, tf.mul(x, 2), x], 0), [2, 3]);
  checkGradient('Transpose', (x) => tf.transpose(x, [0, 2, 1, 3]), [2, 3, 2, 2]);
  checkGradient('Softmax', (x) => tf.softmax(x), [3, 5]);
  checkGradient('Max', (x) => tf.max(x, -1, true), [3, 5]);
  checkGradient('Sum+Mean', (x) => tf.add(tf.sum(x, 0), tf.mean(x, 0)), [3, 4]);
  checkGradient('Erf', (x) => tf.erf(x), [6]);
  checkGradient('Tanh', (x) => tf.tanh(x), [6]);
  checkGradient(
    'Rsqrt+Sqrt+Log',
    (x) => tf.add(tf.rsqrt(x), tf.add(tf.sqrt(x), tf.log(x))),
    [5],
    2,
  );
  checkGradient('Exp+Square+Div', (x) => tf.div(tf.exp(x), tf.add(tf.square(x), 1)), [5]);
  checkGradient(
    'Mul/Sub broadcast',
    (x) => tf.sub(tf.mul(x, tf.tensor1d([1, -2, 3])), tf.tensor2d([[1], [2]])),
    [2, 3],
  );
  for (const [ta, tb] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ]) {
    checkGradient(
      `BatchMatMul a ta=${ta} tb=${tb}`,
      (x) => tf.matMul(x, tb ? b : tf.transpose(b), ta, tb),
      ta ? [4, 2] : [2, 4],
    );
    checkGradient(
      `BatchMatMul b ta=${ta} tb=${tb}`,
      (x) => tf.matMul(ta ? tf.transpose(b3, [0, 2, 1]) : b3, x, ta, tb),
      tb ? [2, 2, 3] : [2, 3, 2],
    );
  }
  tf.dispose([b, b3]);
});
