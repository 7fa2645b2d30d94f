import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { bertConfigFromSection } from '../../src/config/model.js';
import type { PretrainConfig, PretrainModelSection } from '../../src/config/types.js';
import { DEFAULT_CONFIG, NAMED_SIZES, type BertConfig } from '../../src/model/config.js';
import { UserError } from '../../src/errors.js';

const defaults = (): PretrainModelSection =>
  loadConfig<PretrainConfig>('pretrain', null).config.model;

test('a model section with schema defaults is its named size with the vocabulary’s size', () => {
  const config = bertConfigFromSection(defaults(), 1234);
  assert.deepEqual(config, {
    ...DEFAULT_CONFIG,
    ...NAMED_SIZES.tiny,
    intermediate_size: 4 * NAMED_SIZES.tiny.hidden_size,
    vocab_size: 1234,
  });
});

test('every field of the model section reaches the BertConfig', () => {
  // Every BertConfig field but the vocabulary's size, each set away from its default.
  const fields: Omit<BertConfig, 'vocab_size'> = {
    hidden_size: 96,
    num_hidden_layers: 3,
    num_attention_heads: 3,
    intermediate_size: 200,
    hidden_act: 'gelu_new',
    hidden_dropout_prob: 0.25,
    attention_probs_dropout_prob: 0.3,
    max_position_embeddings: 256,
    type_vocab_size: 3,
    initializer_range: 0.05,
    layer_norm_eps: 1e-6,
    layer_norm: 'pre',
    tie_word_embeddings: false,
  };
  const section: PretrainModelSection = { ...defaults(), size: 'mini', ...fields };
  const config = bertConfigFromSection(section, 500);
  const expected: BertConfig = { vocab_size: 500, ...fields };
  assert.deepEqual(config, expected);
  // No field of BertConfig is left to the defaults: each one above differs from them.
  for (const k of Object.keys(DEFAULT_CONFIG) as (keyof BertConfig)[]) {
    assert.notEqual(config[k], DEFAULT_CONFIG[k], k);
  }
});

test('intermediate_size follows hidden_size unless set; a bad shape is a UserError', () => {
  assert.equal(
    bertConfigFromSection({ ...defaults(), hidden_size: 64 }, 100).intermediate_size,
    256,
  );
  assert.throws(
    () => bertConfigFromSection({ ...defaults(), hidden_size: 100, num_attention_heads: 3 }, 100),
    (err: Error) => err instanceof UserError && /multiple of num_attention_heads/.test(err.message),
  );
});
