/**
 * The `model:` section of a pretrain or finetune config as the model's
 * shape: the one place a config's model becomes a BertConfig. A named size
 * (src/model/config.ts, NAMED_SIZES) with every field the section sets on
 * top; intermediate_size follows hidden_size (4×) unless the section sets it.
 */
import { bertConfig, type BertConfig } from '../model/config.js';
import type { ModelSection, PretrainModelSection } from './types.js';

/** The BertConfig `section` describes for a vocabulary of `vocabSize` tokens. */
export function bertConfigFromSection(
  section: ModelSection | PretrainModelSection,
  vocabSize: number,
): BertConfig {
  const overrides: Partial<BertConfig> = {
    vocab_size: vocabSize,
    hidden_act: section.hidden_act,
    hidden_dropout_prob: section.hidden_dropout_prob,
    attention_probs_dropout_prob: section.attention_probs_dropout_prob,
    max_position_embeddings: section.max_position_embeddings,
    type_vocab_size: section.type_vocab_size,
    initializer_range: section.initializer_range,
    layer_norm_eps: section.layer_norm_eps,
    layer_norm: section.layer_norm,
    tie_word_embeddings: 'tie_word_embeddings' in section ? section.tie_word_embeddings : true,
  };
  for (const k of [
    'hidden_size',
    'num_hidden_layers',
    'num_attention_heads',
    'intermediate_size',
  ] as const) {
    if (section[k] !== undefined) overrides[k] = section[k];
  }
  if (section.hidden_size !== undefined && section.intermediate_size === undefined)
    overrides.intermediate_size = 4 * section.hidden_size;
  return bertConfig(section.size, overrides);
}
