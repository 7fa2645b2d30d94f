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
 * - `BertFusedAdamW` (registered by src/backend/wasm-native-kernels.ts,
 *   by src/backend/js-adamw.ts on cpu and src/backend/webgpu-adamw.ts on webgpu): one
 *   AdamW update in one pass; inputs {p, g, m, v, gm, gv} (gm, gv: the scalar
 *   gradient coefficients of src/train/optimizer.ts), attrs {beta1, beta2, c1,
 *   c2, epsilon, keep, lr} → [p', m', v'], the same float32 maths as the
 *   op-by-op update.
 *
 * - Fused elementwise kernels (registered by src/backend/wasm-native-kernels.ts,
 *   on the native addon or, for the plain wasm backend, on the WebAssembly module
 *   of src/backend/wasm-module.ts; ops.ts falls back to op-by-op maths where a
 *   backend has none):
 *   `BertLayerNorm` {x, gamma, beta[, residual]}, attrs {eps[, stats]} → [y, x̂, 1/σ]:
 *   y = LayerNorm(x + residual)·gamma + beta over the last axis, with x̂ [N, H]
 *   and 1/σ [N, 1] for the gradient (stats false: [y] alone, for inference); `BertLayerNormGrad` {dy, xhat, rstd,
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
 *   per-gradient term); `BertColumnSums` {x [N, C]} → [C] (a dense layer's bias
 *   gradient). Both registered by src/backend/wasm-native-kernels.ts.
 * - `BertDenseBias` {x, w, bias} → x·w + bias in one SGEMM (no separate
 *   bias pass); `BertHeadsMatMul` {a, b}, attrs HeadsMatMulAttrs → per
 *   (sequence, head) products that read and write heads in place inside
 *   [B·T, H] activations (attention without head transposes). Both
 *   registered by src/backend/wasm-native-kernels.ts.
 *
 * And one capability a backend declares: a BatchMatMul that takes transposed
 * operands at full speed (the native SGEMM of `bert setup native`, or the
 * WebAssembly module's product), which makes the wasm-native formulation in
 * ops.ts the right one.
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

/**
 * LayerNorm(x + residual)·gamma + beta alone (BertLayerNorm with attr stats
 * false): for forward passes no gradient follows, x̂ and 1/σ are not written.
 */
export function layerNormForward(
  x: tf.Tensor2D,
  residual: tf.Tensor2D | null,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): tf.Tensor2D {
  const inputs: tf.NamedTensorMap = residual ? { x, residual, gamma, beta } : { x, gamma, beta };
  const [y] = tf.engine().runKernel(FUSED_LAYER_NORM, inputs, { eps, stats: false }) as unknown as [
    tf.Tensor2D,
  ];
  return y;
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

export const COLUMN_SUMS = 'BertColumnSums';

/** Σ over the rows of x [N, C] → [C] (BertColumnSums; registered where a backend has it). */
export function columnSums(x: tf.Tensor2D): tf.Tensor1D {
  return tf.engine().runKernel(COLUMN_SUMS, { x }) as unknown as tf.Tensor1D;
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

export const DENSE_BIAS = 'BertDenseBias';

/**
 * x [N, in] · w [in, out] + b [out] in one kernel (BertDenseBias); transposeB:
 * w is [out, in] and the product x·wᵀ (the tied decoder's h·Eᵀ).
 */
export function denseBias(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  bias: tf.Tensor1D,
  transposeB = false,
): tf.Tensor2D {
  return tf
    .engine()
    .runKernel(DENSE_BIAS, { x, w, bias }, { transposeB }) as unknown as tf.Tensor2D;
}

export const HEADS_MAT_MUL = 'BertHeadsMatMul';

/**
 * How BertHeadsMatMul sees a tensor as B·A matrices (B sequences, A heads):
 * 'heads' — an activation [B·T, A·d] whose matrix (b, a) is sequence b's T rows
 * restricted to head a's d columns; 'blocks' — [B·A, R, C], matrix b·A + a.
 */
export type HeadsLayout = 'heads' | 'blocks';

export interface HeadsMatMulAttrs {
  /** B: sequences. */
  batch: number;
  /** A: attention heads. */
  heads: number;
  transposeA: boolean;
  transposeB: boolean;
  /** The product's scale (1/√d for attention scores). */
  alpha: number;
  a: HeadsLayout;
  b: HeadsLayout;
  out: HeadsLayout;
}

/**
 * Per (sequence, head): out = alpha·op(a)·op(b), each operand read and the
 * output written in its layout (BertHeadsMatMul), so attention needs no
 * transposes into and out of [B·A, T, d] heads.
 */
export function headsMatMul(a: tf.Tensor, b: tf.Tensor, attrs: HeadsMatMulAttrs): tf.Tensor {
  return tf
    .engine()
    .runKernel(
      HEADS_MAT_MUL,
      { a, b },
      attrs as unknown as tf.NamedAttrMap,
    ) as unknown as tf.Tensor;
}
