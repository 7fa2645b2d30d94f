/**
 * BERT's parameters: one name → variable map keyed by the HuggingFace
 * `BertForPreTraining` / `BertForSequenceClassification` names.
 *
 * In memory, Linear weights are stored [in, out] (x·W needs no transpose,
 * and transposed matMuls are slow on WASM); files use HF's [out, in], see
 * hf.ts. Embedding tables are [rows, hidden] in both.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from './config.js';

export type BertParams = Map<string, tf.Variable>;

/** Which task heads sit on the encoder. */
export type BertHeads =
  'pretraining' | 'classification' | 'question_answering' | 'token_classification';

/** Span and token heads sit on the sequence output; HF builds them without a pooler (add_pooling_layer=False). */
export function hasPooler(heads: BertHeads): boolean {
  return heads === 'pretraining' || heads === 'classification';
}

export type ParamKind = 'linear' | 'embedding' | 'bias' | 'layernorm_weight' | 'layernorm_bias';

export interface ParamSpec {
  name: string;
  kind: ParamKind;
  /** Shape in memory (Linear: [in, out]). */
  shape: number[];
}

export interface HeadOptions {
  heads: BertHeads;
  /** Classification: number of labels (1 = regression); token classification: number of tags. */
  numLabels?: number;
}

function linear(prefix: string, inSize: number, outSize: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, kind: 'linear', shape: [inSize, outSize] },
    { name: `${prefix}.bias`, kind: 'bias', shape: [outSize] },
  ];
}

function layerNorm(prefix: string, size: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, kind: 'layernorm_weight', shape: [size] },
    { name: `${prefix}.bias`, kind: 'layernorm_bias', shape: [size] },
  ];
}

/** The LayerNorm after the last block of a pre-LN model; post-LN models have none. */
export const FINAL_LAYER_NORM = 'bert.LayerNorm';

/** An untied MLM decoder's own weight ([vocab, hidden], like HF's nn.Linear(hidden, vocab).weight). */
export const DECODER_WEIGHT = 'cls.predictions.decoder.weight';

/** The word embedding table (also the MLM decoder's weight when tied). */
export const WORD_EMBEDDINGS = 'bert.embeddings.word_embeddings.weight';

/** Whether these parameter names are a pre-LN model's (they include the final LayerNorm). */
export function isPreLayerNorm(names: Iterable<string>): boolean {
  for (const n of names) if (n.startsWith(`${FINAL_LAYER_NORM}.`)) return true;
  return false;
}

/** Every parameter of the model, in HF's order. */
export function parameterSpecs(config: BertConfig, options: HeadOptions): ParamSpec[] {
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const specs: ParamSpec[] = [
    {
      name: WORD_EMBEDDINGS,
      kind: 'embedding',
      shape: [config.vocab_size, H],
    },
    {
      name: 'bert.embeddings.position_embeddings.weight',
      kind: 'embedding',
      shape: [config.max_position_embeddings, H],
    },
    {
      name: 'bert.embeddings.token_type_embeddings.weight',
      kind: 'embedding',
      shape: [config.type_vocab_size, H],
    },
    ...layerNorm('bert.embeddings.LayerNorm', H),
  ];
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    if (config.layer_norm === 'pre') {
      // RobertaPreLayerNormLayer: a LayerNorm in front of attention and of the feed-forward.
      specs.push(
        ...layerNorm(`${p}.attention.LayerNorm`, H),
        ...linear(`${p}.attention.self.query`, H, H),
        ...linear(`${p}.attention.self.key`, H, H),
        ...linear(`${p}.attention.self.value`, H, H),
        ...linear(`${p}.attention.output.dense`, H, H),
        ...layerNorm(`${p}.intermediate.LayerNorm`, H),
        ...linear(`${p}.intermediate.dense`, H, I),
        ...linear(`${p}.output.dense`, I, H),
      );
      continue;
    }
    specs.push(
      ...linear(`${p}.attention.self.query`, H, H),
      ...linear(`${p}.attention.self.key`, H, H),
      ...linear(`${p}.attention.self.value`, H, H),
      ...linear(`${p}.attention.output.dense`, H, H),
      ...layerNorm(`${p}.attention.output.LayerNorm`, H),
      ...linear(`${p}.intermediate.dense`, H, I),
      ...linear(`${p}.output.dense`, I, H),
      ...layerNorm(`${p}.output.LayerNorm`, H),
    );
  }
  if (config.layer_norm === 'pre') specs.push(...layerNorm(FINAL_LAYER_NORM, H));
  if (hasPooler(options.heads)) specs.push(...linear('bert.pooler.dense', H, H));
  if (options.heads === 'question_answering') {
    // BertForQuestionAnswering: start and end logits per token.
    specs.push(...linear('qa_outputs', H, 2));
  } else if (options.heads === 'pretraining') {
    specs.push(
      ...linear('cls.predictions.transform.dense', H, H),
      ...layerNorm('cls.predictions.transform.LayerNorm', H),
      // Tied, the decoder weight is the word embedding table and only its bias is a parameter;
      // untied, the decoder has its own table, [vocab, hidden] like the embeddings.
      ...(config.tie_word_embeddings
        ? []
        : [{ name: DECODER_WEIGHT, kind: 'embedding' as const, shape: [config.vocab_size, H] }]),
      { name: 'cls.predictions.bias', kind: 'bias', shape: [config.vocab_size] },
      ...linear('cls.seq_relationship', H, 2),
    );
  } else {
    specs.push(...linear('classifier', H, options.numLabels ?? 2));
  }
  return specs;
}

/** A 31-bit seed for parameter `index` derived from the run seed (different streams per tensor). */
function paramSeed(seed: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (index + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/**
 * The initial value of one parameter: google-research/bert's
 * truncated normal (σ = initializer_range, cut at 2σ) for weights and
 * embeddings, zeros for biases, ones for LayerNorm gains.
 */
export function initialValue(spec: ParamSpec, config: BertConfig, seed: number): tf.Tensor {
  switch (spec.kind) {
    case 'linear':
    case 'embedding':
      return tf.truncatedNormal(spec.shape, 0, config.initializer_range, 'float32', seed);
    case 'layernorm_weight':
      return tf.ones(spec.shape);
    case 'bias':
    case 'layernorm_bias':
      return tf.zeros(spec.shape);
  }
}

/** Fresh parameters for `config` with the given heads; the same seed gives the same model. */
export function initBertParams(
  config: BertConfig,
  options: HeadOptions & { seed: number },
): BertParams {
  const params: BertParams = new Map();
  parameterSpecs(config, options).forEach((spec, i) => {
    const init = initialValue(spec, config, paramSeed(options.seed, i));
    params.set(spec.name, tf.variable(init, true));
    init.dispose();
  });
  return params;
}

/** Total number of scalars. */
export function countParameters(params: BertParams): number {
  let n = 0;
  for (const v of params.values()) n += v.size;
  return n;
}

export function disposeParams(params: BertParams): void {
  for (const v of params.values()) v.dispose();
  params.clear();
}
