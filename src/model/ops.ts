/**
 * The handful of tensor operations whose best formulation depends on the
 * backend. The model is written once against `ModelOps`; `opsForBackend`
 * picks an implementation. Every implementation computes the same maths (a
 * gradient test compares them).
 *
 * - `autodiffOps`: plain tfjs-core ops, gradients from tfjs autodiff. Right
 *   for tensorflow (fused kernels, UnsortedSegmentSum) and webgpu.
 * - `wasmOps`: custom gradients that dodge the WASM backend's slow paths:
 *   every matMul in forward and backward is untransposed (explicit Transpose first), row gathers use GatherNd and
 *   differentiate via ScatterNd (WASM has no UnsortedSegmentSum), bias and LayerNorm-gain
 *   gradients are ones·dy matMuls instead of axis-0 sums, and the softmax
 *   cross-entropy uses WASM's fused Softmax kernel once, with a hand-written
 *   gradient (no scalar Exp pass, no float one-hot: it is broken on WASM).
 *   Attention stays batched matMuls (a scalar loop on WASM, ~25% of a
 *   step); the 2-D alternative, packedAttention, is not a clear win (see
 *   wasmPackedAttentionOps). Measured (bench/train.ts, tiny): this
 *   formulation is ~14× faster than plain autodiff on WASM.
 */
import * as tf from '@tensorflow/tfjs-core';
import './gradients.js';
import {
  ATTENTION_SOFTMAX,
  attentionSoftmax,
  attentionSoftmaxGrad,
  BIAS_GELU,
  biasGelu,
  COLUMN_SUMS,
  columnSums,
  biasGeluGrad,
  DENSE_BIAS,
  denseBias,
  FUSED_LAYER_NORM,
  fusedLayerNorm,
  fusedLayerNormGrad,
  hasKernel,
  layerNormForward,
  hasTransposingBatchMatMul,
  HEADS_MAT_MUL,
  headsMatMul,
  type HeadsLayout,
  SPARSE_SOFTMAX_CROSS_ENTROPY,
  sparseSoftmaxCrossEntropy,
} from './kernels.js';

export interface AttentionShape {
  batch: number;
  seq: number;
  heads: number;
}

export interface ModelOps {
  readonly name: string;
  /** x [N, in] · w [in, out] + b [out] → [N, out]. */
  dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D;
  /** The tied MLM decoder: h [M, H] · embeddingsᵀ (embeddings [V, H]) + bias [V] → logits [M, V]. */
  tiedDecoder(h: tf.Tensor2D, embeddings: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D;
  /**
   * Multi-head scaled dot-product attention softmax(q·kᵀ/√d + bias)·v per
   * head (d = H / heads): q, k, v [B·T, H]; `bias` [B, 1, 1, T] added to the scores (the padding mask);
   * `probsMask` [B, A, T, T] is the attention-dropout keep-mask (null: no
   * dropout) → context [B·T, H].
   */
  attention(
    q: tf.Tensor2D,
    k: tf.Tensor2D,
    v: tf.Tensor2D,
    bias: tf.Tensor4D,
    shape: AttentionShape,
    probsMask: tf.Tensor4D | null,
  ): tf.Tensor2D;
  /** table [R, H] rows at int32 `ids` [N] → [N, H]; differentiable w.r.t. table. */
  gatherRows(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D;
  /** LayerNorm over the last axis of x [N, H]. */
  layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D;
  /** GELU(x·w + b): a dense layer and its activation (`act`: BertConfig.hidden_act's GELUs). */
  denseGelu(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, act: GeluForm): tf.Tensor2D;
  /** LayerNorm(x + residual): a post-LN block's residual add and LayerNorm. */
  addLayerNorm(
    x: tf.Tensor2D,
    residual: tf.Tensor2D,
    gamma: tf.Tensor1D,
    beta: tf.Tensor1D,
    eps: number,
  ): tf.Tensor2D;
  /** Per-row −log softmax(logits)[label]: logits [N, C], int32 labels [N] → [N]. */
  softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D;
}

/** GELU's exact erf form ('gelu') or its tanh approximation ('gelu_new'). */
export type GeluForm = 'gelu' | 'gelu_new';

/** GELU, op by op: exact erf form ('gelu') or the tanh approximation ('gelu_new'). */
export function gelu<T extends tf.Tensor>(x: T, act: GeluForm): T {
  if (act === 'gelu_new') {
    // x·x·x rather than pow(x, 3): the training step registers Mul's gradient, not Pow's.
    const cube = tf.mul(x, tf.mul(x, x));
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, cube)));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner))) as T;
  }
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as T;
}

type BatchMatMul = (a: tf.Tensor3D, b: tf.Tensor3D, transposeB: boolean) => tf.Tensor3D;

/**
 * Attention probabilities from raw scores [B·A, T, T]: softmax(scores + bias)
 * times the dropout keep-mask [B, A, T, T] (null: none) → [B·A, T, T].
 */
function attentionProbabilities(
  scores: tf.Tensor3D,
  bias: tf.Tensor4D,
  probsMask: tf.Tensor4D | null,
  { batch: B, seq: T, heads: A }: AttentionShape,
): tf.Tensor3D {
  const softmax = tf.softmax(tf.add(tf.reshape(scores, [B, A, T, T]), bias));
  const probs = probsMask ? tf.mul(softmax, probsMask) : softmax;
  return tf.reshape(probs, [B * A, T, T]);
}

/** Attention as batched matMuls over [B·A, T, d] heads (4-D transposes: 5-D ones are slow on WASM). */
function headsAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  bias: tf.Tensor4D,
  shape: AttentionShape,
  probsMask: tf.Tensor4D | null,
  batchMatMul: BatchMatMul,
): tf.Tensor2D {
  const { batch: B, seq: T, heads: A } = shape;
  const d = q.shape[1] / A;
  const toHeads = (t: tf.Tensor2D): tf.Tensor3D =>
    tf.reshape(tf.transpose(tf.reshape(t, [B, T, A, d]), [0, 2, 1, 3]), [B * A, T, d]);
  // Scaling q rather than the [T, T] scores is the same maths on fewer numbers.
  const qScaled = tf.mul(q, 1 / Math.sqrt(d)) as tf.Tensor2D;
  const probs = attentionProbabilities(
    batchMatMul(toHeads(qScaled), toHeads(k), true),
    bias,
    probsMask,
    shape,
  );
  const context = batchMatMul(probs, toHeads(v), false);
  return tf.reshape(tf.transpose(tf.reshape(context, [B, A, T, d]), [0, 2, 1, 3]), [B * T, A * d]);
}

function layerNormPlain(
  x: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): tf.Tensor2D {
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.square(xc), -1, true);
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

export const autodiffOps: ModelOps = {
  name: 'autodiff',
  dense: (x, w, b) => tf.add(tf.matMul(x, w), b),
  tiedDecoder: (h, e, bias) => tf.add(tf.matMul(h, e, false, true), bias),
  attention: (q, k, v, bias, shape, probsMask) =>
    headsAttention(q, k, v, bias, shape, probsMask, (a, b, tb) => tf.matMul(a, b, false, tb)),
  gatherRows: (table, ids) => tf.gather(table, ids),
  layerNorm: layerNormPlain,
  denseGelu: (x, w, b, act) => gelu(tf.add(tf.matMul(x, w), b), act),
  addLayerNorm: (x, residual, gamma, beta, eps) =>
    layerNormPlain(tf.add(x, residual), gamma, beta, eps),
  softmaxCrossEntropy(logits, labels) {
    const depth = logits.shape[1];
    // One-hot built as int32 and cast: a float oneHot is wrong on WASM.
    const oneHot = tf.cast(tf.oneHot(labels, depth), 'float32');
    return tf.sub(tf.logSumExp(logits, -1), tf.sum(tf.mul(logits, oneHot), -1));
  },
};

/**
 * Σ over the rows of m [N, C] → [C]: BertColumnSums where registered, else a
 * ones [1, N] · m matMul (untransposed, XNNPACK; a Sum over axis 0 transposes first on WASM).
 */
function columnSum(m: tf.Tensor2D): tf.Tensor1D {
  if (hasKernel(COLUMN_SUMS)) return columnSums(m);
  return tf.tidy(() => tf.reshape(tf.matMul(tf.ones([1, m.shape[0]]), m), [m.shape[1]]));
}

/**
 * x·w + b (or what `forward` computes, e.g. the tied decoder's x·wᵀ + b) with a
 * custom gradient: `inputGrads(x, w, dy)`
 * gives [dx, dw]; the bias gradient is a ones·dy matMul (a Sum over axis 0
 * transposes first on WASM).
 */
function customDense(
  inputGrads: (x: tf.Tensor2D, w: tf.Tensor2D, dy: tf.Tensor2D) => [tf.Tensor, tf.Tensor],
  forward: (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor = (x, w, b) =>
    tf.add(tf.matMul(x, w), b),
): (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D {
  const op = tf.customGrad((...args) => {
    const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([x, w]);
    return {
      value: forward(x, w, b),
      gradFunc: (dy, saved) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const d = dy as tf.Tensor2D;
        return [...inputGrads(xs, ws, d), columnSum(d)];
      },
    };
  });
  return (x, w, b) => op(x, w, b) as tf.Tensor2D;
}

// Untransposed matMuls only: dx = dy·wᵀ; dW = xᵀ·dy, or (dyᵀ·x)ᵀ when dy is the smaller operand
// (fewer elements to transpose).
const wasmDense = customDense((x, w, d) => [
  tf.matMul(d, tf.transpose(w)),
  x.size > d.size ? tf.transpose(tf.matMul(tf.transpose(d), x)) : tf.matMul(tf.transpose(x), d),
]);

const wasmTiedDecoder = tf.customGrad((...args) => {
  const [h, e, bias, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([h, e]);
  return {
    // (E·hᵀ + bias)ᵀ rather than h·Eᵀ + bias: XNNPACK then packs the small hᵀ
    // as the product's weights instead of the [H, vocab] Eᵀ, and E needs no transpose.
    value: tf.transpose(
      tf.add(tf.matMul(e, tf.transpose(h)), tf.reshape(bias, [bias.shape[0], 1])),
    ),
    gradFunc: (dy, saved) => {
      const [hs, es] = saved as [tf.Tensor2D, tf.Tensor2D];
      const d = dy as tf.Tensor2D;
      // d/dh = dy·E (untransposed); d/dE = dyᵀ·h; the bias gradient as row sums of that
      // same dyᵀ (a Sum over axis 0 of dy transposes first; a ones·dy matMul is a slow
      // matrix-vector product in XNNPACK, ~40 ms at [1, 320]·[320, 30522]).
      const dT = tf.transpose(d);
      return [tf.matMul(d, es), tf.matMul(dT, hs), tf.sum(dT, 1)];
    },
  };
});

/** The last two axes swapped: a matrix transposed, or each matrix of a batch. */
function transposeMatrices(t: tf.Tensor2D | tf.Tensor3D): tf.Tensor {
  return tf.transpose(t, t.rank === 3 ? [0, 2, 1] : [1, 0]);
}

/**
 * a·b for matrices or batches of them, with the gradient as untransposed
 * matMuls: da = dy·bᵀ, db = aᵀ·dy.
 */
const wasmMatMul = tf.customGrad((...args) => {
  type Matrices = tf.Tensor2D | tf.Tensor3D;
  const [a, b, save] = args as [Matrices, Matrices, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy, saved) => {
      const [as, bs] = saved as [Matrices, Matrices];
      const d = dy as Matrices;
      return [tf.matMul(d, transposeMatrices(bs)), tf.matMul(transposeMatrices(as), d)];
    },
  };
});

/** [A·T, H] mask: row block a keeps only head a's columns. */
function headMask(A: number, T: number, H: number): tf.Tensor2D {
  const d = H / A;
  const m = new Float32Array(A * T * H);
  for (let a = 0; a < A; a++) {
    for (let t = 0; t < T; t++) m.fill(1, (a * T + t) * H + a * d, (a * T + t) * H + (a + 1) * d);
  }
  return tf.tensor2d(m, [A * T, H]);
}

/**
 * Attention as 2-D matMuls, one sequence at a time, all heads at once.
 * WASM runs batched matMuls (batch > 1) in a scalar loop at ~1.5 GFLOPS,
 * 2-D ones in XNNPACK at ~15–25. Per sequence b, stacking q_b A times with
 * each copy masked to one head's columns gives every head's scores in one
 * [A·T, H]·[H, T] product; probs·v_b, masked and summed over the A blocks,
 * gives the context. A× the FLOPs, at 10× the speed. Same maths: the masked
 * columns contribute exact zeros.
 */
function packedAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  bias: tf.Tensor4D,
  { batch: B, seq: T, heads: A }: AttentionShape,
  probsMask: tf.Tensor4D | null,
): tf.Tensor2D {
  const H = q.shape[1];
  q = tf.mul(q, 1 / Math.sqrt(H / A));
  const mask = headMask(A, T, H);
  const biasRows = tf.reshape(bias, [B, T]);
  // Per-sequence [A·T, T] blocks of the [B, A, T, T] mask: row b of a [B, A·T·T] view.
  const maskRows = probsMask ? tf.reshape(probsMask, [B, A * T * T]) : null;
  const contexts: tf.Tensor2D[] = [];
  for (let b = 0; b < B; b++) {
    // Row gathers rather than Slice: Slice's gradient saves (so on WASM copies) the whole input.
    const ids = tf.range(b * T, (b + 1) * T, 1, 'int32') as tf.Tensor1D;
    const rows = (t: tf.Tensor2D): tf.Tensor2D => wasmGatherRows(t, ids) as tf.Tensor2D;
    const qb = rows(q);
    const qStack = tf.mul(
      A === 1 ? qb : tf.concat(new Array<tf.Tensor2D>(A).fill(qb), 0),
      mask,
    ) as tf.Tensor2D;
    const scores = tf.add(
      wasmMatMul(qStack, tf.transpose(rows(k))) as tf.Tensor2D,
      tf.gatherND(biasRows, [[b]]),
    );
    const softmax = tf.softmax(scores);
    const probs = maskRows
      ? tf.mul(softmax, tf.reshape(tf.gatherND(maskRows, [[b]]), [A * T, T]))
      : softmax;
    const stacked = tf.mul(wasmMatMul(probs, rows(v)), mask);
    contexts.push(
      A === 1
        ? (stacked as tf.Tensor2D)
        : tf.reshape(tf.sum(tf.reshape(stacked, [A, T * H]), 0), [T, H]),
    );
  }
  return tf.concat(contexts, 0);
}

const wasmGatherRows = tf.customGrad((...args) => {
  const [table, ids, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([ids]);
  const shape = table.shape;
  return {
    // GatherNd, not GatherV2: WASM's GatherV2 checks every index in JavaScript (~10 µs each, ~20 ms for
    // 2048 ids); GatherNd is one C++ call. Indices are range-checked once per batch (validateBatch).
    value: tf.gatherND(table, tf.reshape(ids, [-1, 1])),
    gradFunc: (dy, saved) => {
      const [idsSaved] = saved as [tf.Tensor1D];
      // ScatterNd sums rows that share an index, which is what the gradient needs.
      const dTable = tf.scatterND(tf.reshape(idsSaved, [-1, 1]), dy, shape);
      return [dTable, tf.zerosLike(idsSaved)];
    },
  };
});

const wasmLayerNorm = tf.customGrad((...args) => {
  const [x, gamma, beta, epsT, save] = args as [
    tf.Tensor2D,
    tf.Tensor1D,
    tf.Tensor1D,
    tf.Scalar,
    tf.GradSaveFunc,
  ];
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), epsT));
  const xhat = tf.mul(xc, rstd);
  save([xhat, rstd, gamma, epsT]);
  return {
    value: tf.add(tf.mul(xhat, gamma), beta),
    gradFunc: (dy, saved) => {
      const [xh, rs, g, e] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Scalar];
      const d = dy as tf.Tensor2D;
      const dxhat = tf.mul(d, g);
      // dx = rstd · (dxhat − mean(dxhat) − xhat · mean(dxhat · xhat))
      const dx = tf.mul(
        rs,
        tf.sub(
          tf.sub(dxhat, tf.mean(dxhat, -1, true)),
          tf.mul(xh, tf.mean(tf.mul(dxhat, xh), -1, true)),
        ),
      );
      return [dx, columnSum(tf.mul(d, xh) as tf.Tensor2D), columnSum(d), tf.zerosLike(e)];
    },
  };
});

const wasmSoftmaxCrossEntropy = tf.customGrad((...args) => {
  const [logits, labels, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  const n = logits.shape[0];
  // WASM's Softmax is one fused kernel, much cheaper than its scalar Exp, and
  // its output is exactly what the gradient needs. The loss stays exact and
  // stable: lse = max(x) − log(p at the arg-max), and p there is ≥ 1/C, so
  // never underflows; loss = lse − x[label].
  const labelShape = labels.shape;
  const probs = tf.softmax(logits);
  const rows = tf.stack([tf.range(0, n, 1, 'int32'), labels], 1) as tf.Tensor2D;
  const lse = tf.sub(tf.max(logits, -1), tf.log(tf.max(probs, -1)));
  const picked = tf.gatherND(logits, rows);
  save([probs, rows]);
  return {
    value: tf.sub(lse, picked) as tf.Tensor1D,
    gradFunc: (dy, saved) => {
      const [p, idx] = saved as [tf.Tensor2D, tf.Tensor2D];
      // d/dlogits = (softmax − onehot)·dy: scale the row, then subtract dy at the label
      // (a scatter of n values instead of a float one-hot, which is wrong on WASM).
      const d = tf.mul(p, tf.reshape(dy, [-1, 1]));
      const atLabel = tf.sub(tf.gatherND(d, idx), dy);
      return [tf.tensorScatterUpdate(d, idx, atLabel), tf.zeros(labelShape, 'int32')];
    },
  };
});

export const wasmOps: ModelOps = {
  name: 'wasm',
  dense: wasmDense,
  tiedDecoder: (h, e, bias) => wasmTiedDecoder(h, e, bias) as tf.Tensor2D,
  attention: (q, k, v, bias, shape, probsMask) =>
    headsAttention(
      q,
      k,
      v,
      bias,
      shape,
      probsMask,
      (a, b, transposeB) =>
        wasmMatMul(a, transposeB ? tf.transpose(b, [0, 2, 1]) : b) as tf.Tensor3D,
    ),
  gatherRows: (table, ids) => wasmGatherRows(table, ids) as tf.Tensor2D,
  layerNorm: (x, gamma, beta, eps) => wasmLayerNorm(x, gamma, beta, tf.scalar(eps)) as tf.Tensor2D,
  denseGelu: (x, w, b, act) => gelu(wasmDense(x, w, b), act),
  addLayerNorm: (x, residual, gamma, beta, eps) =>
    wasmLayerNorm(tf.add(x, residual), gamma, beta, tf.scalar(eps)) as tf.Tensor2D,
  softmaxCrossEntropy: (logits, labels) => wasmSoftmaxCrossEntropy(logits, labels) as tf.Tensor1D,
};

/**
 * wasmOps with packed per-sequence attention (packedAttention). Not the
 * default: measured on the loaded 2-core machines it was between 14% faster
 * (steps alternating with the batched form in one process) and ~30% slower
 * (blocks of steps, one formulation per process); it launches ~2.8× more
 * kernels. Kept for `npm run bench -- train --ab` on a quieter machine.
 */
export const wasmPackedAttentionOps: ModelOps = {
  ...wasmOps,
  name: 'wasm-packed-attention',
  attention: (q, k, v, bias, shape, probsMask) => packedAttention(q, k, v, bias, shape, probsMask),
};

/**
 * The plain formulation plus the one thing WASM cannot do at all (the
 * gather gradient): the "naive" baseline the benchmark compares against.
 */
export const naiveWasmOps: ModelOps = {
  ...autodiffOps,
  name: 'naive',
  gatherRows: wasmOps.gatherRows,
};

const tensorflowSoftmaxCrossEntropy = tf.customGrad((...args) => {
  const [logits, labels, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  const [loss, dLogits] = sparseSoftmaxCrossEntropy(logits, labels);
  save([dLogits]);
  const labelShape = labels.shape;
  return {
    value: loss,
    gradFunc: (dy, saved) => {
      const [d] = saved as [tf.Tensor2D];
      return [tf.mul(d, tf.reshape(dy, [-1, 1])), tf.zeros(labelShape, 'int32')];
    },
  };
});

/**
 * autodiffOps with TensorFlow's fused kernels where tfjs composes many small
 * ones: the softmax cross-entropy is one SparseSoftmaxCrossEntropyWithLogits
 * (loss and gradient in one pass), and LayerNorm differentiates through the
 * hand-written gradient (a third of autodiff's kernel launches).
 */
export const tensorflowOps: ModelOps = {
  ...autodiffOps,
  name: 'tensorflow',
  layerNorm: (x, gamma, beta, eps) => wasmLayerNorm(x, gamma, beta, tf.scalar(eps)) as tf.Tensor2D,
  addLayerNorm: (x, residual, gamma, beta, eps) =>
    wasmLayerNorm(tf.add(x, residual), gamma, beta, tf.scalar(eps)) as tf.Tensor2D,
  softmaxCrossEntropy: (logits, labels) =>
    tensorflowSoftmaxCrossEntropy(logits, labels) as tf.Tensor1D,
};

/**
 * wasmOps for the wasm backend with a transposing BatchMatMul (the native
 * addon's SGEMM after `bert setup native`, or the shipped WebAssembly
 * module's product): transposes move into the matMul flags (those take any
 * layout at full speed, so the explicit Transpose kernels of wasmOps are pure
 * cost); the gather, LayerNorm, cross-entropy and ones·dy bias gradients stay.
 */
const nativeDense = customDense((x, w, d) => [
  tf.matMul(d, w, false, true),
  tf.matMul(x, d, true, false),
]);

/** The tied decoder h·Eᵀ + bias as a dense layer with E transposed: dh = dy·E, dE = dyᵀ·h. */
const tiedDecoderGrads = (
  h: tf.Tensor2D,
  e: tf.Tensor2D,
  d: tf.Tensor2D,
): [tf.Tensor, tf.Tensor] => [tf.matMul(d, e), tf.matMul(d, h, true, false)];

const nativeTiedDecoder = customDense(tiedDecoderGrads, (h, e, bias) =>
  tf.add(tf.matMul(h, e, false, true), bias),
);

/** nativeTiedDecoder with the bias added inside the SGEMM (BertDenseBias, w transposed) where registered. */
const fusedNativeTiedDecoder = customDense(tiedDecoderGrads, (h, e, bias) =>
  hasKernel(DENSE_BIAS) ? denseBias(h, e, bias, true) : tf.add(tf.matMul(h, e, false, true), bias),
);

/**
 * The native formulation without the fused elementwise kernels (LayerNorm,
 * bias + GELU op by op): `npm run bench -- train --ab` measures what the
 * fused kernels buy against it.
 */
export const wasmNativeUnfusedOps: ModelOps = {
  ...wasmOps,
  name: 'wasm-native-unfused',
  dense: nativeDense,
  denseGelu: (x, w, b, act) => gelu(nativeDense(x, w, b), act),
  tiedDecoder: nativeTiedDecoder,
  attention: (q, k, v, bias, shape, probsMask) =>
    headsAttention(q, k, v, bias, shape, probsMask, (a, b, tb) => tf.matMul(a, b, false, tb)),
};

/**
 * GELU(x·w + b) with the bias add and GELU in one kernel each way
 * (BertBiasGelu / BertBiasGeluGrad): the pre-activation z = x·w is saved, and
 * the gradient gives dz and the bias gradient in one pass.
 */
function fusedDenseGelu(tanhForm: boolean) {
  return tf.customGrad((...args) => {
    const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const z = tf.matMul(x, w);
    save([x, w, z, b]);
    return {
      value: biasGelu(z as tf.Tensor2D, b, tanhForm),
      gradFunc: (dy, saved) => {
        const [xs, ws, zs, bs] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const [dz, db] = biasGeluGrad(dy as tf.Tensor2D, zs, bs, tanhForm);
        return [tf.matMul(dz, ws, false, true), tf.matMul(xs, dz, true, false), db];
      },
    };
  });
}

const fusedDenseGeluForms = { gelu: fusedDenseGelu(false), gelu_new: fusedDenseGelu(true) };

/**
 * LayerNorm(x [+ residual]) in one kernel each way (BertLayerNorm /
 * BertLayerNormGrad), one custom gradient per eps (a kernel attribute, not a
 * tensor) and residual/no-residual form.
 */
const fusedLayerNorms = new Map<string, (...t: tf.Tensor[]) => tf.Tensor>();

function fusedLayerNormOp(eps: number, withResidual: boolean): (...t: tf.Tensor[]) => tf.Tensor {
  const key = `${eps}/${withResidual}`;
  let op = fusedLayerNorms.get(key);
  if (!op) {
    op = tf.customGrad((...args) => {
      const save = args.pop() as unknown as tf.GradSaveFunc;
      const [x, gamma, beta, residual] = args as [
        tf.Tensor2D,
        tf.Tensor1D,
        tf.Tensor1D,
        tf.Tensor2D | undefined,
      ];
      const [y, xhat, rstd] = fusedLayerNorm(x, residual ?? null, gamma, beta, eps);
      save([xhat, rstd, gamma]);
      return {
        value: y,
        gradFunc: (dy, saved) => {
          const [xh, rs, g] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
          const [dx, ...rest] = fusedLayerNormGrad(dy as tf.Tensor2D, xh, rs, g, withResidual);
          // Inputs in order x, gamma, beta[, residual]; the kernel gives dx[, dresidual], dgamma, dbeta.
          return withResidual ? [dx, rest[1], rest[2], rest[0]] : [dx, ...rest];
        },
      };
    }) as (...t: tf.Tensor[]) => tf.Tensor;
    fusedLayerNorms.set(key, op);
  }
  return op;
}

/** nativeDense with the bias added inside the SGEMM (BertDenseBias) where registered. */
const fusedNativeDense = customDense(
  (x, w, d) => [tf.matMul(d, w, false, true), tf.matMul(x, d, true, false)],
  (x, w, b) => (hasKernel(DENSE_BIAS) ? denseBias(x, w, b) : tf.add(tf.matMul(x, w), b)),
);

/**
 * Attention with every per-head product reading and writing the heads in
 * place (BertHeadsMatMul: no transposes into [B·A, T, d] and back), the 1/√d
 * scale folded into the scores' product, and the fused softmax; one custom
 * gradient for q, k and v:
 *   S = α·q·kᵀ, P = softmax(S + bias)·mask, out = P·v;
 *   dP = dout·vᵀ, dv = Pᵀ·dout, dS = softmax'(dP), dq = α·dS·k, dk = α·dSᵀ·q.
 */
function inPlaceHeadsAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  bias: tf.Tensor4D,
  { batch, seq, heads }: AttentionShape,
  probsMask: tf.Tensor4D | null,
): tf.Tensor2D {
  const alpha = 1 / Math.sqrt(q.shape[1] / heads);
  const mm = (
    a: tf.Tensor,
    b: tf.Tensor,
    layouts: [HeadsLayout, HeadsLayout, HeadsLayout],
    transposeA: boolean,
    transposeB: boolean,
    scale = 1,
  ): tf.Tensor =>
    headsMatMul(a, b, {
      batch,
      heads,
      transposeA,
      transposeB,
      alpha: scale,
      a: layouts[0],
      b: layouts[1],
      out: layouts[2],
    });
  const op = tf.customGrad((...args) => {
    const [qs, ks, vs, b, save] = args as [
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor4D,
      tf.GradSaveFunc,
    ];
    const scores = mm(qs, ks, ['heads', 'heads', 'blocks'], false, true, alpha);
    // Each bias row serves heads × seq consecutive score rows: one sequence.
    const outs = attentionSoftmax(scores, b, probsMask, heads * seq);
    const probs = outs[0];
    const softmax = outs[probsMask ? 1 : 0];
    save(probsMask ? [qs, ks, vs, probs, softmax, probsMask] : [qs, ks, vs, softmax]);
    return {
      value: mm(probs, vs, ['blocks', 'heads', 'heads'], false, false) as tf.Tensor2D,
      gradFunc: (dy, saved) => {
        const [qk, kk, vk, pk] = saved;
        const sk = saved[probsMask ? 4 : 3];
        const dProbs = mm(dy as tf.Tensor, vk, ['heads', 'heads', 'blocks'], false, true);
        const dv = mm(pk, dy as tf.Tensor, ['blocks', 'heads', 'heads'], true, false);
        const dScores = attentionSoftmaxGrad(dProbs, sk, probsMask ? saved[5] : null);
        const dq = mm(dScores, kk, ['blocks', 'heads', 'heads'], false, false, alpha);
        const dk = mm(dScores, qk, ['blocks', 'heads', 'heads'], true, false, alpha);
        return [dq, dk, dv, tf.zerosLike(b)];
      },
    };
  });
  return op(q, k, v, bias) as tf.Tensor2D;
}

/**
 * wasmNativeUnfusedOps plus the fused kernels of the native addon or the
 * WebAssembly module (src/model/kernels.ts): dense layers with the bias added in the SGEMM,
 * LayerNorm with the post-LN residual add folded in, bias + GELU, attention
 * with in-place per-head products and bias + softmax + dropout in one
 * kernel, forward and gradient, and the softmax cross-entropy with its
 * gradient in one pass (as tensorflowOps). Where the active backend has not
 * registered them (the builtin WASM kernels swapped back), the op-by-op
 * formulation runs instead.
 */
export const wasmNativeOps: ModelOps = {
  ...wasmNativeUnfusedOps,
  name: 'wasm-native',
  dense: fusedNativeDense,
  tiedDecoder: fusedNativeTiedDecoder,
  attention: (q, k, v, bias, shape, probsMask) =>
    hasKernel(HEADS_MAT_MUL) && hasKernel(ATTENTION_SOFTMAX)
      ? inPlaceHeadsAttention(q, k, v, bias, shape, probsMask)
      : headsAttention(q, k, v, bias, shape, probsMask, (a, b, tb) => tf.matMul(a, b, false, tb)),
  softmaxCrossEntropy: (logits, labels) =>
    hasKernel(SPARSE_SOFTMAX_CROSS_ENTROPY)
      ? (tensorflowSoftmaxCrossEntropy(logits, labels) as tf.Tensor1D)
      : wasmNativeUnfusedOps.softmaxCrossEntropy(logits, labels),
  denseGelu: (x, w, b, act) =>
    hasKernel(BIAS_GELU)
      ? (fusedDenseGeluForms[act](x, w, b) as tf.Tensor2D)
      : wasmNativeUnfusedOps.denseGelu(x, w, b, act),
  layerNorm: (x, gamma, beta, eps) =>
    hasKernel(FUSED_LAYER_NORM)
      ? (fusedLayerNormOp(eps, false)(x, gamma, beta) as tf.Tensor2D)
      : wasmNativeUnfusedOps.layerNorm(x, gamma, beta, eps),
  addLayerNorm: (x, residual, gamma, beta, eps) =>
    hasKernel(FUSED_LAYER_NORM)
      ? (fusedLayerNormOp(eps, true)(x, gamma, beta, residual) as tf.Tensor2D)
      : wasmNativeUnfusedOps.addLayerNorm(x, residual, gamma, beta, eps),
};

/**
 * wasmNativeOps for forward passes that no gradient follows (inference:
 * src/model/predict.ts): LayerNorm writes its output alone, not the x̂ and 1/σ
 * a gradient would need (a third less memory traffic in a memory-bound kernel).
 */
export const wasmNativeForwardOps: ModelOps = {
  ...wasmNativeOps,
  name: 'wasm-native-forward',
  layerNorm: (x, gamma, beta, eps) =>
    hasKernel(FUSED_LAYER_NORM)
      ? layerNormForward(x, null, gamma, beta, eps)
      : wasmNativeOps.layerNorm(x, gamma, beta, eps),
  addLayerNorm: (x, residual, gamma, beta, eps) =>
    hasKernel(FUSED_LAYER_NORM)
      ? layerNormForward(x, residual, gamma, beta, eps)
      : wasmNativeOps.addLayerNorm(x, residual, gamma, beta, eps),
};

/** The formulation of `ops` for a forward pass that no gradient follows (the same maths). */
export function forwardOnly(ops: ModelOps): ModelOps {
  return ops === wasmNativeOps ? wasmNativeForwardOps : ops;
}

/** Every formulation that runs on a tfjs backend, the tuned one (opsForBackend) last. */
export function formulationsFor(backend: string): ModelOps[] {
  if (backend === 'tensorflow') return [autodiffOps, wasmOps, tensorflowOps];
  if (backend === 'wasm' && hasTransposingBatchMatMul('wasm'))
    return [autodiffOps, wasmOps, wasmNativeUnfusedOps, wasmNativeOps];
  return [autodiffOps, wasmOps];
}

/** The ops for a tfjs backend name (tf.getBackend()). */
export function opsForBackend(backend: string): ModelOps {
  if (backend === 'wasm') return hasTransposingBatchMatMul('wasm') ? wasmNativeOps : wasmOps;
  if (backend === 'tensorflow') return tensorflowOps;
  return autodiffOps;
}
