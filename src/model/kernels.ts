/**
 * The kernels this project adds to tfjs, declared the way tfjs-core declares
 * its own (a kernel name, the op that runs it, the contract): the maths in
 * src/model and src/train/optimizer.ts calls them, and a backend in
 * src/backend registers an implementation when it has one. Nothing here
 * imports a backend; a kernel that no backend registered is simply not used.
 *
 * - `BertSparseSoftmaxCrossEntropy` (registered by src/backend/tensorflow-kernels.ts):
 *   logits [N, C], int32 labels [N] → [per-row loss [N], d loss / d logits [N, C]].
 * - `BertFusedAdamW` (registered by src/backend/wasm-native-kernels.ts): one
 *   AdamW update in one pass; inputs {p, g, m, v, gm, gv} (gm, gv: the scalar
 *   gradient coefficients of src/train/optimizer.ts), attrs {beta1, beta2, c1,
 *   c2, epsilon, keep, lr} → [p', m', v'], the same float32 maths as the
 *   op-by-op update.
 *
 * And one capability a backend declares: a BatchMatMul that takes transposed
 * operands at full speed (the native SGEMM of `bert setup native`), which
 * makes the wasm-native formulation in ops.ts the right one.
 */
import * as tf from '@tensorflow/tfjs-core';

export const SPARSE_SOFTMAX_CROSS_ENTROPY = 'BertSparseSoftmaxCrossEntropy';

export const FUSED_ADAMW = 'BertFusedAdamW';

/** logits [N, C], int32 labels [N] → [per-row loss [N], d loss / d logits [N, C]] (where registered). */
export function sparseSoftmaxCrossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
): [tf.Tensor1D, tf.Tensor2D] {
  return tf.engine().runKernel(SPARSE_SOFTMAX_CROSS_ENTROPY, {
    logits,
    labels,
  }) as unknown as [tf.Tensor1D, tf.Tensor2D];
}

const transposingBatchMatMul = new Set<string>();

/**
 * Declare (or withdraw) that `backend`'s BatchMatMul takes transposed operands
 * at full speed; src/backend calls this when it swaps such a kernel in or out.
 */
export function setTransposingBatchMatMul(backend: string, on: boolean): void {
  if (on) transposingBatchMatMul.add(backend);
  else transposingBatchMatMul.delete(backend);
}

/** Whether `backend` (a tfjs backend name) currently has such a BatchMatMul. */
export function hasTransposingBatchMatMul(backend: string): boolean {
  return transposingBatchMatMul.has(backend);
}
