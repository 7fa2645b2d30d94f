/**
 * Kernels of the 'tensorflow' backend (tfjs-node) for the TensorFlow ops it
 * does not expose. Each kernel calls one TensorFlow eager op through the
 * backend's own executor, so nothing here imports @tensorflow/tfjs-node:
 * without it the kernels are simply never run.
 *
 * - SPARSE_SOFTMAX_CROSS_ENTROPY (src/model/kernels.ts): TensorFlow's
 *   SparseSoftmaxCrossEntropyWithLogits — per-row loss and its gradient
 *   (softmax − one-hot) from one pass over the logits. The tfjs composition
 *   (logSumExp, one-hot, their autodiff) makes ~12 passes over the
 *   [masked, vocab] logits, the largest tensors of a pretraining step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SPARSE_SOFTMAX_CROSS_ENTROPY } from '../model/kernels.js';

/** What these kernels use of tfjs-node's NodeJSKernelBackend. */
interface TensorflowBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number; TF_INT32: number };
  executeMultipleOutputs(
    name: string,
    attrs: { name: string; type: number; value: number }[],
    inputs: tf.TensorInfo[],
    numOutputs: number,
  ): tf.TensorInfo[];
}

function registerOnce(config: tf.KernelConfig): void {
  if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
}

/** Register the kernels above for the 'tensorflow' backend (idempotent). */
export function registerTensorflowKernels(): void {
  registerOnce({
    kernelName: SPARSE_SOFTMAX_CROSS_ENTROPY,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const tfBackend = backend as unknown as TensorflowBackend;
      const { binding } = tfBackend;
      const { logits, labels } = inputs as { logits: tf.TensorInfo; labels: tf.TensorInfo };
      return tfBackend.executeMultipleOutputs(
        'SparseSoftmaxCrossEntropyWithLogits',
        [
          { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
          { name: 'Tlabels', type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 },
        ],
        [logits, labels],
        2,
      );
    },
  });
}
