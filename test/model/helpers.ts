/** Small random models and batches shared by the model tests. */
import * as tf from '@tensorflow/tfjs-core';
import { createBertModel, type BertModel } from '../../src/model/bert.js';
import { bertConfig, type BertConfig } from '../../src/model/config.js';
import type { PretrainingBatch } from '../../src/model/batch.js';
import type { ModelOps } from '../../src/model/ops.js';
import type { BertHeads } from '../../src/model/params.js';
import { rng } from '../helpers/rng.js';

export { rng };

export function smallConfig(overrides: Partial<BertConfig> = {}): BertConfig {
  return bertConfig('tiny', {
    vocab_size: 40,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 32,
    max_position_embeddings: 32,
    ...overrides,
  });
}

/**
 * A model whose every parameter (biases and LayerNorm too) is random, so
 * that a mistake in any of them shows up in the outputs.
 */
export function randomModel(
  config: BertConfig,
  options: { seed: number; ops?: ModelOps; heads?: BertHeads; numLabels?: number; scale?: number },
): BertModel {
  const model = createBertModel(config, {
    heads: options.heads ?? 'pretraining',
    numLabels: options.numLabels,
    seed: options.seed,
    ops: options.ops,
  });
  const r = rng(options.seed);
  const scale = options.scale ?? 0.3;
  for (const [name, v] of model.params) {
    const data = new Float32Array(v.size);
    const isGain = name.endsWith('LayerNorm.weight');
    for (let i = 0; i < data.length; i++) data[i] = (isGain ? 1 : 0) + (r() * 2 - 1) * scale;
    const t = tf.tensor(data, v.shape);
    v.assign(t);
    t.dispose();
  }
  return model;
}

/** A pretraining batch; `lengths[b]` real tokens in row b (the rest is padding). */
export function randomBatch(
  config: BertConfig,
  options: { seed: number; batch: number; seq: number; predictions: number; lengths?: number[] },
): PretrainingBatch {
  const { batch: B, seq: T, predictions: P } = options;
  const r = rng(options.seed);
  const int = (n: number): number => Math.floor(r() * n);
  const input_ids = new Int32Array(B * T);
  const token_type_ids = new Int32Array(B * T);
  const attention_mask = new Int32Array(B * T);
  const masked_lm_positions = new Int32Array(B * P);
  const masked_lm_ids = new Int32Array(B * P);
  const masked_lm_weights = new Float32Array(B * P);
  const next_sentence_labels = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const len = options.lengths?.[b] ?? T;
    const split = 1 + int(Math.max(1, len - 1));
    for (let t = 0; t < T; t++) {
      const real = t < len;
      input_ids[b * T + t] = real ? 1 + int(config.vocab_size - 1) : 0;
      token_type_ids[b * T + t] = real && t >= split ? 1 : 0;
      attention_mask[b * T + t] = real ? 1 : 0;
    }
    for (let p = 0; p < P; p++) {
      // The last slot of every row is padding (weight 0), as the data pipeline pads predictions.
      const real = p < P - 1;
      masked_lm_positions[b * P + p] = real ? 1 + int(Math.max(1, len - 1)) : 0;
      masked_lm_ids[b * P + p] = real ? int(config.vocab_size) : 0;
      masked_lm_weights[b * P + p] = real ? 1 : 0;
    }
    next_sentence_labels[b] = int(2);
  }
  return {
    batch_size: B,
    seq_length: T,
    num_predictions: P,
    input_ids,
    token_type_ids,
    attention_mask,
    masked_lm_positions,
    masked_lm_ids,
    masked_lm_weights,
    next_sentence_labels,
  };
}
