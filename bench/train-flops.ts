/**
 * The floating-point work of one pretraining or fine-tuning step, counted
 * from the model config and the batch shape: the matMuls only (2 FLOPs per
 * multiply-add), since they are what an SGEMM peak bounds. Embedding
 * gathers, elementwise ops and the optimizer are left out (they are
 * memory-bound, and small next to the products).
 *
 * Forward: per encoder layer the Q, K, V and output projections (4 · 2NH²),
 * the attention scores and the context (2 · 2BT²H, all heads together), the
 * two FFN products (2 · 2NHI); then the MLM head on the masked rows only
 * (transform dense 2MH², tied decoder 2MHV), the pooler (2BH²) and NSP
 * (2BH·2). N = B·T tokens, M = B·P masked rows. Backward costs two forward
 * matMuls per forward matMul (input and weight gradient), so a step is 3×.
 * Sequence classification (GLUE) has the same encoder and pooler, then the
 * classifier (2BH·labels) and no MLM head.
 */
import type { BertConfig } from '../src/model/config.js';

export interface StepShape {
  batch: number;
  seq: number;
  /** Masked (predicted) positions per sequence. */
  masked: number;
}

export interface ClassificationShape {
  batch: number;
  seq: number;
  /** num_labels (2 for SST-2). */
  labels: number;
}

/** Forward matMul FLOPs of the encoder stack and the pooler: what every head builds on. */
function encoderFlops(config: BertConfig, B: number, T: number): number {
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const N = B * T;
  const projections = 4 * 2 * N * H * H;
  const attention = 2 * 2 * B * T * T * H;
  const ffn = 2 * 2 * N * H * I;
  const pooler = 2 * B * H * H;
  return config.num_hidden_layers * (projections + attention + ffn) + pooler;
}

/** Forward-pass matMul FLOPs of BertForPreTraining (tied decoder, masked rows only). */
export function forwardFlops(
  config: BertConfig,
  { batch: B, seq: T, masked: P }: StepShape,
): number {
  const H = config.hidden_size;
  const M = B * P;
  const mlm = 2 * M * H * H + 2 * M * H * config.vocab_size;
  const nsp = 2 * B * H * 2;
  return encoderFlops(config, B, T) + mlm + nsp;
}

/** FLOPs of one training step: forward and backward (≈ 3 × forward). */
export function trainStepFlops(config: BertConfig, shape: StepShape): number {
  return 3 * forwardFlops(config, shape);
}

/** Forward-pass matMul FLOPs of BertForSequenceClassification (inference: `bert eval`). */
export function classificationFlops(
  config: BertConfig,
  { batch: B, seq: T, labels }: ClassificationShape,
): number {
  return encoderFlops(config, B, T) + 2 * B * config.hidden_size * labels;
}

/** FLOPs of one fine-tuning step of sequence classification: forward and backward (≈ 3 × forward). */
export function classificationStepFlops(config: BertConfig, shape: ClassificationShape): number {
  return 3 * classificationFlops(config, shape);
}
