/**
 * Gradient definitions for the kernels the model differentiates through.
 *
 * Why this file exists: the Node build of @tensorflow/tfjs-core
 * (dist/tf-core.node.js) registers no gradients at all — they live in
 * `dist/register_all_gradients.js`, an ESM file with extension-less imports
 * that Node cannot load — and @tensorflow/tfjs (which would register them)
 * is not a dependency. Without them every tf.grad fails with "gradient
 * function not found for Add". Registration is idempotent and skips any
 * kernel that already has a gradient (e.g. when tfjs-node registered its own).
 *
 * The maths is the textbook derivative of each kernel; broadcasting is
 * undone by summing over the broadcast axes.
 */
import * as tf from '@tensorflow/tfjs-core';

type Grads = Record<string, () => tf.Tensor>;
type Attrs = Record<string, unknown>;

/** Sum dy over the axes that broadcasting added, back to `shape`. */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

/** dy of a reduction over `axes`, broadcast back to the input's shape. */
function expandReduced(dy: tf.Tensor, axisAttr: unknown, xShape: number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axisAttr as number | number[], xShape);
  // dy already has x's rank when the reduction kept its dimensions.
  const kept =
    dy.rank < xShape.length
      ? tf.reshape(dy, tf.backend_util.expandShapeToKeepDim(dy.shape, axes))
      : dy;
  // A broadcasting multiply by ones, as tfjs's own gradients do: WASM's Tile (broadcastTo) is very slow.
  return tf.mul(kept, tf.ones(xShape));
}

function register(
  kernelName: string,
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[], attrs: Attrs) => Grads,
  save: { inputs?: string[]; outputs?: boolean; all?: boolean } = {},
): void {
  if (tf.getGradient(kernelName) != null) return;
  tf.registerGradient({
    kernelName,
    inputsToSave: save.inputs,
    outputsToSave: save.outputs ? [true] : undefined,
    saveAllInputs: save.all,
    gradFunc: (dy, saved, attrs) => gradFunc(dy as tf.Tensor, saved, attrs as unknown as Attrs),
  });
}

let registered = false;

/** Register the gradients (once per process). */
export function registerModelGradients(): void {
  if (registered) return;
  registered = true;

  register(
    tf.Add,
    (dy, [a, b]) => ({ a: () => unbroadcast(dy, a.shape), b: () => unbroadcast(dy, b.shape) }),
    {
      inputs: ['a', 'b'],
    },
  );
  register(
    tf.Sub,
    (dy, [a, b]) => ({
      a: () => unbroadcast(dy, a.shape),
      b: () => unbroadcast(tf.neg(dy), b.shape),
    }),
    {
      inputs: ['a', 'b'],
    },
  );
  register(
    tf.Multiply,
    (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy, tf.cast(b, 'float32')), a.shape),
      b: () => unbroadcast(tf.mul(dy, tf.cast(a, 'float32')), b.shape),
    }),
    { inputs: ['a', 'b'] },
  );
  register(
    tf.RealDiv,
    (dy, [a, b]) => ({
      a: () => unbroadcast(tf.div(dy, b), a.shape),
      b: () => unbroadcast(tf.neg(tf.div(tf.mul(dy, a), tf.square(b))), b.shape),
    }),
    { inputs: ['a', 'b'] },
  );
  register(
    tf.AddN,
    (dy, saved) => {
      const out: Grads = {};
      saved.forEach((_, i) => (out[i] = () => tf.clone(dy)));
      return out;
    },
    { all: true },
  );
  register(tf.Neg, (dy) => ({ x: () => tf.neg(dy) }));
  register(tf.Identity, (dy) => ({ x: () => tf.clone(dy) }));
  register(tf.Cast, (dy) => ({ x: () => tf.clone(dy) }));
  register(tf.Reshape, (dy, [x]) => ({ x: () => tf.reshape(dy, x.shape) }), { inputs: ['x'] });
  register(tf.Transpose, (dy, _saved, attrs) => {
    const perm = attrs.perm as number[];
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return { x: () => tf.transpose(dy, inverse) };
  });
  register(tf.Square, (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(x, 2)) }), { inputs: ['x'] });
  register(tf.Sqrt, (dy, [x]) => ({ x: () => tf.div(dy, tf.mul(tf.sqrt(x), 2)) }), {
    inputs: ['x'],
  });
  register(tf.Rsqrt, (dy, [x]) => ({ x: () => tf.neg(tf.div(dy, tf.mul(tf.pow(x, 1.5), 2))) }), {
    inputs: ['x'],
  });
  register(tf.Exp, (dy, [y]) => ({ x: () => tf.mul(dy, y) }), { outputs: true });
  register(tf.Log, (dy, [x]) => ({ x: () => tf.div(dy, x) }), { inputs: ['x'] });
  register(tf.Tanh, (dy, [y]) => ({ x: () => tf.mul(dy, tf.sub(1, tf.square(y))) }), {
    outputs: true,
  });
  register(
    tf.Erf,
    (dy, [x]) => ({
      x: () => tf.mul(dy, tf.mul(2 / Math.sqrt(Math.PI), tf.exp(tf.neg(tf.square(x))))),
    }),
    { inputs: ['x'] },
  );
  register(
    tf.Softmax,
    (dy, [y], attrs) => {
      const dim = attrs.dim as number;
      return { logits: () => tf.mul(y, tf.sub(dy, tf.sum(tf.mul(dy, y), dim, true))) };
    },
    { outputs: true },
  );
  register(tf.Sum, (dy, [x], attrs) => ({ x: () => expandReduced(dy, attrs.axis, x.shape) }), {
    inputs: ['x'],
  });
  register(
    tf.Mean,
    (dy, [x], attrs) => {
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      return { x: () => tf.div(expandReduced(dy, axes, x.shape), count) };
    },
    { inputs: ['x'] },
  );
  register(
    tf.Max,
    (dy, [x, y], attrs) => {
      const axes = tf.util.parseAxisParam(attrs.reductionIndices as number | number[], x.shape);
      // With or without keepDims, bring y and dy to x's rank before comparing.
      const toRank = (t: tf.Tensor): tf.Tensor =>
        t.rank < x.rank ? tf.reshape(t, tf.backend_util.expandShapeToKeepDim(t.shape, axes)) : t;
      // The gradient flows to the arg-max entries.
      return { x: () => tf.mul(toRank(dy), tf.cast(tf.equal(x, toRank(y)), 'float32')) };
    },
    { inputs: ['x'], outputs: true },
  );
  register(
    tf.BatchMatMul,
    (dy, [a, b], attrs) => {
      const ta = attrs.transposeA as boolean;
      const tb = attrs.transposeB as boolean;
      // C = op(A)·op(B): each case's derivative, written without extra transposes.
      if (!ta && !tb)
        return { a: () => tf.matMul(dy, b, false, true), b: () => tf.matMul(a, dy, true, false) };
      if (!ta && tb)
        return { a: () => tf.matMul(dy, b, false, false), b: () => tf.matMul(dy, a, true, false) };
      if (ta && !tb)
        return { a: () => tf.matMul(b, dy, false, true), b: () => tf.matMul(a, dy, false, false) };
      return { a: () => tf.matMul(b, dy, true, true), b: () => tf.matMul(dy, a, true, true) };
    },
    { inputs: ['a', 'b'] },
  );
  register(
    tf.Slice,
    (dy, [x], attrs) => {
      const begin = attrs.begin as number[];
      const size = attrs.size as number[];
      // Zero-pad dy back to x's shape; size −1 means "to the end".
      const pads = x.shape.map((n, i): [number, number] => {
        const len = size[i] === -1 ? n - begin[i] : size[i];
        return [begin[i], n - begin[i] - len];
      });
      return { x: () => tf.pad(dy, pads) };
    },
    { inputs: ['x'] },
  );
  register(
    tf.Concat,
    (dy, saved, attrs) => {
      const axis = tf.util.parseAxisParam(attrs.axis as number, saved[0].shape)[0];
      const sizes = saved.map((t) => t.shape[axis]);
      const parts = tf.split(dy, sizes, axis);
      const out: Grads = {};
      parts.forEach((p, i) => (out[i] = () => p));
      return out;
    },
    { all: true },
  );
  register(
    tf.GatherV2,
    (dy, [x, indices], attrs) => {
      const axis = attrs.axis as number;
      if (axis !== 0 || (attrs.batchDims as number) !== 0)
        throw new Error('gather gradient: only axis 0 is supported');
      const flat = tf.reshape(indices, [-1]);
      const rows = tf.reshape(dy, [flat.shape[0], ...x.shape.slice(1)]);
      // Needs the UnsortedSegmentSum kernel (tensorflow, cpu, webgpu; not wasm: see ops.ts).
      return {
        x: () => tf.unsortedSegmentSum(rows, tf.cast(flat, 'int32') as tf.Tensor1D, x.shape[0]),
        indices: () => tf.zerosLike(indices),
      };
    },
    { inputs: ['x', 'indices'] },
  );
}

registerModelGradients();
