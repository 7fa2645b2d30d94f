/**
 * The kernels this project adds to tfjs, declared the way tfjs-core declares
 * its own (a kernel name, the op that runs it, the contract): the maths in
 * src/model and src/train/optimizer.ts calls them, and a backend in
 * src/backend registers an implementation when it has one. Nothing here
 * imports a backend; a kernel that no backend registered is simply not used.
 *
 * - `BertSparseSoftmaxCrossEntropy` (registered by src/backend/tensorflow-kernels.ts
 *   and src/backend/wasm-native-kernels.ts):
 *   logits [N, C], int32 labels [N] → [per-row loss [N], d loss / d logits [N, C]].
 * - `BertFusedAdamW` (registered by src/backend/wasm-native-kernels.ts): one
 *   AdamW update in one pass; inputs {p, g, m, v, gm, gv} (gm, gv: the scalar
 *   gradient coefficients of src/train/optimizer.ts), attrs {beta1, beta2, c1,
 *   c2, epsilon, keep, lr} → [p', m', v'], the same float32 maths as the
 *   op-by-op update.
 *
 * - Fused elementwise kernels (registered by src/backend/wasm-native-kernels.ts;
 *   ops.ts falls back to op-by-op maths where a backend has none):
 *   `BertLayerNorm` {x, gamma, beta[, residual]}, attrs {eps} → [y, x̂, 1/σ]:
 *   y = LayerNorm(x + residual)·gamma + beta over the last axis, with x̂ [N, H]
 *   and 1/σ [N, 1] for the gradient; `BertLayerNormGrad` {dy, xhat, rstd,
 *   gamma}, attrs {residual} → [dx, (dresidual = dx,) dgamma, dbeta];
 *   `BertBiasGelu` {z, bias}, attrs {tanhForm} → GELU(z + bias) (erf form, or
 *   the tanh approximation); `BertBiasGeluGrad` {dy, z, bias}, attrs
 *   {tanhForm} → [dz, dbias].
 * - `BertAttentionSoftmax` {scores [.., T], bias [B, 1, 1, T][, mask]}, attrs
 *   {group} → [probs, softmax] with a dropout keep-mask, [softmax] without:
 *   softmax(scores + bias) over the last axis, each bias row shared by `group`
 *   consecutive score rows (heads × T), times the mask; and
 *   `BertAttentionSoftmaxGrad` {dy, softmax[, mask]} → d scores.
 * - `BertSumSquares` {x} → Σ x² as a float32 scalar (the global-norm clip's
 *   per-gradient term; registered by src/backend/wasm-native-kernels.ts).
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

export const FUSED_LAYER_NORM = 'BertLayerNorm';
export const FUSED_LAYER_NORM_GRAD = 'BertLayerNormGrad';
export const BIAS_GELU = 'BertBiasGelu';
export const BIAS_GELU_GRAD = 'BertBiasGeluGrad';

/** Whether the active backend registered kernel `name`. */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** [LayerNorm(x + residual)·gamma + beta, x̂, 1/σ] (BertLayerNorm; no residual when null). */
export function fusedLayerNorm(
  x: tf.Tensor2D,
  residual: tf.Tensor2D | null,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  const inputs: tf.NamedTensorMap = residual ? { x, residual, gamma, beta } : { x, gamma, beta };
  return tf.engine().runKernel(FUSED_LAYER_NORM, inputs, { eps }) as unknown as [
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
  ];
}

/** BertLayerNormGrad: [dx, dgamma, dbeta], or [dx, dresidual, dgamma, dbeta] with `residual`. */
export function fusedLayerNormGrad(
  dy: tf.Tensor2D,
  xhat: tf.Tensor2D,
  rstd: tf.Tensor2D,
  gamma: tf.Tensor1D,
  residual: boolean,
): tf.Tensor[] {
  return tf
    .engine()
    .runKernel(
      FUSED_LAYER_NORM_GRAD,
      { dy, xhat, rstd, gamma },
      { residual },
    ) as unknown as tf.Tensor[];
}

/** GELU(z + bias) (BertBiasGelu). */
export function biasGelu(z: tf.Tensor2D, bias: tf.Tensor1D, tanhForm: boolean): tf.Tensor2D {
  return tf.engine().runKernel(BIAS_GELU, { z, bias }, { tanhForm }) as unknown as tf.Tensor2D;
}

/** [dz, dbias] of GELU(z + bias) (BertBiasGeluGrad). */
export function biasGeluGrad(
  dy: tf.Tensor2D,
  z: tf.Tensor2D,
  bias: tf.Tensor1D,
  tanhForm: boolean,
): [tf.Tensor2D, tf.Tensor1D] {
  return tf.engine().runKernel(BIAS_GELU_GRAD, { dy, z, bias }, { tanhForm }) as unknown as [
    tf.Tensor2D,
    tf.Tensor1D,
  ];
}

export const SUM_SQUARES = 'BertSumSquares';

/** Σ x² over every element: BertSumSquares where registered, else Square and Sum. */
export function sumSquares(x: tf.Tensor): tf.Scalar {
  if (hasKernel(SUM_SQUARES))
    return tf.engine().runKernel(SUM_SQUARES, { x }) as unknown as tf.Scalar;
  return tf.tidy(() => tf.sum(tf.square(x)));
}

export const ATTENTION_SOFTMAX = 'BertAttentionSoftmax';
export const ATTENTION_SOFTMAX_GRAD = 'BertAttentionSoftmaxGrad';

/** BertAttentionSoftmax: [probs, softmax] with a keep-mask, [softmax] without. */
export function attentionSoftmax(
  scores: tf.Tensor,
  bias: tf.Tensor,
  mask: tf.Tensor | null,
  group: number,
): tf.Tensor[] {
  const inputs: tf.NamedTensorMap = mask ? { scores, bias, mask } : { scores, bias };
  return tf.engine().runKernel(ATTENTION_SOFTMAX, inputs, { group }) as unknown as tf.Tensor[];
}

/** BertAttentionSoftmaxGrad: d scores from d probs, the saved softmax and the keep-mask. */
export function attentionSoftmaxGrad(
  dy: tf.Tensor,
  softmax: tf.Tensor,
  mask: tf.Tensor | null,
): tf.Tensor {
  const inputs: tf.NamedTensorMap = mask ? { dy, softmax, mask } : { dy, softmax };
  return tf.engine().runKernel(ATTENTION_SOFTMAX_GRAD, inputs) as unknown as tf.Tensor;
}
