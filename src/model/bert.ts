/**
 * BERT's forward pass (google-research/bert modeling.py, HF BertForPreTraining),
 * top to bottom in the order data flows: embeddings → encoder blocks (BERT's
 * post-LN, or HF RobertaPreLayerNorm's pre-LN with a final LayerNorm) →
 * pooler → heads. Pure functions of (model, inputs, options); activations
 * are kept flat as [B·T, H] so every dense layer is one 2-D matMul.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderTensors, PretrainingTensors } from './batch.js';
import type { BertConfig } from './config.js';
import { keepMask } from './dropout-mask.js';
import { opsForBackend, type GeluForm, type ModelOps } from './ops.js';
import {
  DECODER_WEIGHT,
  FINAL_LAYER_NORM,
  WORD_EMBEDDINGS,
  initBertParams,
  type BertHeads,
  type BertParams,
} from './params.js';

export interface BertModel {
  config: BertConfig;
  params: BertParams;
  heads: BertHeads;
  /** Classification heads: 1 = regression. */
  numLabels: number;
  ops: ModelOps;
}

export interface CreateModelOptions {
  heads: BertHeads;
  numLabels?: number;
  seed: number;
  /** Defaults to the formulation for the active backend. */
  ops?: ModelOps;
}

export function createBertModel(config: BertConfig, options: CreateModelOptions): BertModel {
  const numLabels = options.numLabels ?? 2;
  return {
    config,
    params: initBertParams(config, { heads: options.heads, numLabels, seed: options.seed }),
    heads: options.heads,
    numLabels,
    ops: options.ops ?? opsForBackend(tf.getBackend()),
  };
}

/** Wrap loaded parameters (e.g. from fromHfTensors) as a model. */
export function bertModelFromParams(
  config: BertConfig,
  params: BertParams,
  heads: BertHeads,
  numLabels = 2,
  ops?: ModelOps,
): BertModel {
  return { config, params, heads, numLabels, ops: ops ?? opsForBackend(tf.getBackend()) };
}

export interface ForwardOptions {
  /** Dropout on (training) or off (evaluation). */
  training: boolean;
  /** Seed of this forward pass's dropout masks; the same seed gives the same masks. */
  seed?: number | string;
}

/** Dropout with a fresh, reproducible seed per call site. */
export class Dropout {
  private counter = 0;
  constructor(private readonly options: ForwardOptions) {}

  /**
   * The scaled keep-mask (0 or 1/(1−rate)) for a tensor of `shape`, or null
   * when dropout is off. Masks depend only on (seed, call index, shape), not
   * on the backend or on how the model slices its tensors, so every
   * formulation and backend drops the same units.
   */
  mask(shape: number[], rate: number): tf.Tensor | null {
    if (!this.options.training || rate === 0) return null;
    const seed = `${this.options.seed ?? 0}/${this.counter++}`;
    return tf.tensor(keepMask(seed, tf.util.sizeFromShape(shape), 1 - rate), shape, 'float32');
  }

  apply<T extends tf.Tensor>(x: T, rate: number): T {
    const m = this.mask(x.shape, rate);
    return m ? (tf.mul(x, m) as T) : x;
  }
}

function param(model: BertModel, name: string): tf.Variable {
  const p = model.params.get(name);
  if (!p) throw new Error(`model has no parameter ${name}`);
  return p;
}

const w2 = (m: BertModel, n: string): tf.Tensor2D => param(m, n) as tf.Tensor as tf.Tensor2D;
const w1 = (m: BertModel, n: string): tf.Tensor1D => param(m, n) as tf.Tensor as tf.Tensor1D;

function dense(model: BertModel, x: tf.Tensor2D, prefix: string): tf.Tensor2D {
  return model.ops.dense(x, w2(model, `${prefix}.weight`), w1(model, `${prefix}.bias`));
}

/** GELU(dense(x)), fused where the backend can. */
function denseGelu(model: BertModel, x: tf.Tensor2D, prefix: string, act: GeluForm): tf.Tensor2D {
  return model.ops.denseGelu(x, w2(model, `${prefix}.weight`), w1(model, `${prefix}.bias`), act);
}

/** LayerNorm(x + residual), fused where the backend can. */
function addLayerNorm(
  model: BertModel,
  x: tf.Tensor2D,
  residual: tf.Tensor2D,
  prefix: string,
): tf.Tensor2D {
  return model.ops.addLayerNorm(
    x,
    residual,
    w1(model, `${prefix}.weight`),
    w1(model, `${prefix}.bias`),
    model.config.layer_norm_eps,
  );
}

function layerNorm(model: BertModel, x: tf.Tensor2D, prefix: string): tf.Tensor2D {
  return model.ops.layerNorm(
    x,
    w1(model, `${prefix}.weight`),
    w1(model, `${prefix}.bias`),
    model.config.layer_norm_eps,
  );
}

export { gelu } from './ops.js';

/** Word + position + token-type embeddings, LayerNorm, dropout → [B·T, H]. */
export function embeddings(
  model: BertModel,
  inputs: EncoderTensors,
  dropout: Dropout,
): tf.Tensor2D {
  const { ops } = model;
  const p = 'bert.embeddings';
  const words = ops.gatherRows(w2(model, `${p}.word_embeddings.weight`), inputs.inputIds);
  const positions = ops.gatherRows(
    w2(model, `${p}.position_embeddings.weight`),
    inputs.positionIds,
  );
  const types = ops.gatherRows(w2(model, `${p}.token_type_embeddings.weight`), inputs.tokenTypeIds);
  const sum = tf.addN([words, positions, types]) as tf.Tensor2D;
  return dropout.apply(layerNorm(model, sum, `${p}.LayerNorm`), model.config.hidden_dropout_prob);
}

/** Multi-head self-attention of one layer, before its output projection: [B·T, H] → [B·T, H]. */
function selfAttention(
  model: BertModel,
  x: tf.Tensor2D,
  inputs: EncoderTensors,
  prefix: string,
  dropout: Dropout,
): tf.Tensor2D {
  const { ops, config } = model;
  const B = inputs.batchSize;
  const T = inputs.seqLength;
  const A = config.num_attention_heads;
  const q = dense(model, x, `${prefix}.query`);
  const k = dense(model, x, `${prefix}.key`);
  const v = dense(model, x, `${prefix}.value`);
  const probsMask = dropout.mask(
    [B, A, T, T],
    config.attention_probs_dropout_prob,
  ) as tf.Tensor4D | null;
  return ops.attention(q, k, v, inputs.attentionBias, { batch: B, seq: T, heads: A }, probsMask);
}

/** One post-LN Transformer block (BERT's BertLayer). */
export function encoderLayer(
  model: BertModel,
  x: tf.Tensor2D,
  inputs: EncoderTensors,
  layer: number,
  dropout: Dropout,
): tf.Tensor2D {
  if (model.config.layer_norm === 'pre') return preLnEncoderLayer(model, x, inputs, layer, dropout);
  const p = `bert.encoder.layer.${layer}`;
  const rate = model.config.hidden_dropout_prob;
  const context = selfAttention(model, x, inputs, `${p}.attention.self`, dropout);
  const attnOut = dropout.apply(dense(model, context, `${p}.attention.output.dense`), rate);
  const h = addLayerNorm(model, attnOut, x, `${p}.attention.output.LayerNorm`);
  const inter = denseGelu(model, h, `${p}.intermediate.dense`, model.config.hidden_act);
  const out = dropout.apply(dense(model, inter, `${p}.output.dense`), rate);
  return addLayerNorm(model, out, h, `${p}.output.LayerNorm`);
}

/**
 * One pre-LN Transformer block (HF's RobertaPreLayerNormLayer): each
 * sub-layer reads a LayerNorm of the residual stream and adds its output to it.
 */
function preLnEncoderLayer(
  model: BertModel,
  x: tf.Tensor2D,
  inputs: EncoderTensors,
  layer: number,
  dropout: Dropout,
): tf.Tensor2D {
  const p = `bert.encoder.layer.${layer}`;
  const rate = model.config.hidden_dropout_prob;
  const normed = layerNorm(model, x, `${p}.attention.LayerNorm`);
  const context = selfAttention(model, normed, inputs, `${p}.attention.self`, dropout);
  const attnOut = dropout.apply(dense(model, context, `${p}.attention.output.dense`), rate);
  const h = tf.add(attnOut, x) as tf.Tensor2D;
  const hNormed = layerNorm(model, h, `${p}.intermediate.LayerNorm`);
  const inter = denseGelu(model, hNormed, `${p}.intermediate.dense`, model.config.hidden_act);
  const out = dropout.apply(dense(model, inter, `${p}.output.dense`), rate);
  return tf.add(out, h) as tf.Tensor2D;
}

/** Embeddings and the encoder stack (and a pre-LN model's final LayerNorm) → [B·T, H]. */
function encoderStack(model: BertModel, inputs: EncoderTensors, dropout: Dropout): tf.Tensor2D {
  let x = embeddings(model, inputs, dropout);
  for (let l = 0; l < model.config.num_hidden_layers; l++)
    x = encoderLayer(model, x, inputs, l, dropout);
  return model.config.layer_norm === 'pre' ? layerNorm(model, x, FINAL_LAYER_NORM) : x;
}

export interface EncoderOutput {
  /** [B·T, H] last hidden state, flattened. */
  sequenceOutput: tf.Tensor2D;
  /** [B, H] last hidden state at [CLS] (before the pooler and its dropout). */
  clsOutput: tf.Tensor2D;
  /** [B, H] tanh(dense([CLS])). */
  pooledOutput: tf.Tensor2D;
}

/**
 * Embeddings, the encoder stack and the pooler. With `dropoutBeforePooler`
 * (a pre-LN sequence classifier: HF's RobertaClassificationHead, whose dense
 * layer is our pooler) the [CLS] state goes through dropout first.
 */
export function bertEncoder(
  model: BertModel,
  inputs: EncoderTensors,
  options: ForwardOptions,
  dropout = new Dropout(options),
  dropoutBeforePooler = false,
): EncoderOutput {
  const x = encoderStack(model, inputs, dropout);
  const clsOutput = model.ops.gatherRows(x, inputs.clsRows);
  const cls = dropoutBeforePooler
    ? dropout.apply(clsOutput, model.config.hidden_dropout_prob)
    : clsOutput;
  const pooledOutput = tf.tanh(dense(model, cls, 'bert.pooler.dense'));
  return { sequenceOutput: x, clsOutput, pooledOutput };
}

/** The MLM head on the given rows of the sequence output → logits [rows, vocab]. */
export function mlmHead(
  model: BertModel,
  sequenceOutput: tf.Tensor2D,
  rows: tf.Tensor1D,
): tf.Tensor2D {
  const p = 'cls.predictions';
  const h = model.ops.gatherRows(sequenceOutput, rows);
  // HF's RobertaLMHead (a pre-LN model's MLM head) applies the exact GELU whatever hidden_act says.
  const act = model.config.layer_norm === 'pre' ? 'gelu' : model.config.hidden_act;
  const t = layerNorm(
    model,
    denseGelu(model, h, `${p}.transform.dense`, act),
    `${p}.transform.LayerNorm`,
  );
  // The decoder is the word embedding table (tied) or its own table, plus its own output bias.
  return model.ops.tiedDecoder(
    t,
    w2(model, model.config.tie_word_embeddings ? WORD_EMBEDDINGS : DECODER_WEIGHT),
    w1(model, `${p}.bias`),
  );
}

export interface PretrainingOutput extends EncoderOutput {
  /** [B·P, vocab] logits at the masked positions only. */
  mlmLogits: tf.Tensor2D;
  /** [B, 2] IsNext / NotNext logits. */
  nspLogits: tf.Tensor2D;
}

/** BertForPreTraining's forward pass. */
export function bertForPreTraining(
  model: BertModel,
  inputs: PretrainingTensors,
  options: ForwardOptions,
): PretrainingOutput {
  const enc = bertEncoder(model, inputs, options);
  return {
    ...enc,
    mlmLogits: mlmHead(model, enc.sequenceOutput, inputs.maskedRows),
    nspLogits: dense(model, enc.pooledOutput, 'cls.seq_relationship'),
  };
}

/** BertForSequenceClassification's forward pass → logits [B, num_labels]. */
export function bertForSequenceClassification(
  model: BertModel,
  inputs: EncoderTensors,
  options: ForwardOptions,
): EncoderOutput & { logits: tf.Tensor2D } {
  const dropout = new Dropout(options);
  const enc = bertEncoder(model, inputs, options, dropout, model.config.layer_norm === 'pre');
  const pooled = dropout.apply(enc.pooledOutput, model.config.hidden_dropout_prob);
  return { ...enc, logits: dense(model, pooled, 'classifier') };
}

/** Embeddings and the encoder stack without the pooler → [B·T, H] (the span and token heads' input). */
export function bertSequenceOutput(
  model: BertModel,
  inputs: EncoderTensors,
  dropout: Dropout,
): tf.Tensor2D {
  return encoderStack(model, inputs, dropout);
}

/** BertForQuestionAnswering's forward pass → start and end logits, each [B, T]. */
export function bertForQuestionAnswering(
  model: BertModel,
  inputs: EncoderTensors,
  options: ForwardOptions,
): { startLogits: tf.Tensor2D; endLogits: tf.Tensor2D } {
  const x = bertSequenceOutput(model, inputs, new Dropout(options));
  const logits = dense(model, x, 'qa_outputs');
  // Column picks as matMuls by one-hot columns: split/slice have no registered gradients here.
  const start = tf.matMul(logits, tf.tensor2d([[1], [0]]));
  const end = tf.matMul(logits, tf.tensor2d([[0], [1]]));
  const shape: [number, number] = [inputs.batchSize, inputs.seqLength];
  return { startLogits: tf.reshape(start, shape), endLogits: tf.reshape(end, shape) };
}

/** BertForTokenClassification's forward pass → logits [B·T, num_labels]. */
export function bertForTokenClassification(
  model: BertModel,
  inputs: EncoderTensors,
  options: ForwardOptions,
): tf.Tensor2D {
  const dropout = new Dropout(options);
  const x = bertSequenceOutput(model, inputs, dropout);
  return dense(model, dropout.apply(x, model.config.hidden_dropout_prob), 'classifier');
}
