/**
 * Where a fine-tuned model starts (src/tasks/initial-model.ts): the encoder's
 * shape comes from the checkpoint, dropout from the fine-tuning config. A
 * checkpoint pretrained without dropout (configs/pretrain/tiny-30min.yaml)
 * must not silently fine-tune without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { FinetuneConfig } from '../../src/config/types.js';
import { initialModel } from '../../src/tasks/initial-model.js';
import { disposeParams } from '../../src/model/params.js';
import { packageRoot } from '../../src/paths.js';
import { randomModel, smallConfig } from '../model/helpers.js';
import { scratchOnTestBackend, writeCheckpoint } from '../export/helpers.js';

const scratch = scratchOnTestBackend('bert-initial-model-');

function finetuneConfig(from: string, sets: string[] = []): FinetuneConfig {
  return loadConfig<FinetuneConfig>('finetune', join(packageRoot, 'configs/finetune/glue.yaml'), {
    sets: [`from=${from}`, 'max_seq_length=32', ...sets],
  }).config;
}

async function checkpointWithoutDropout(): Promise<string> {
  const config = smallConfig({ hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const model = randomModel(config, { seed: 1 });
  try {
    return await writeCheckpoint(join(scratch.dir, 'pretrained'), model, config);
  } finally {
    disposeParams(model.params);
  }
}

test('fine-tuning a checkpoint pretrained without dropout uses the config dropout (0.1 by default)', async () => {
  const dir = await checkpointWithoutDropout();
  const init = await initialModel(
    finetuneConfig(dir),
    { heads: 'classification', numLabels: 2 },
    3,
  );
  try {
    assert.equal(init.model.config.hidden_dropout_prob, 0.1);
    assert.equal(init.model.config.attention_probs_dropout_prob, 0.1);
    assert.equal(init.config.hidden_dropout_prob, 0.1, 'the saved config says what was trained');
    assert.equal(init.model.config.hidden_size, 16, 'the shape still comes from the checkpoint');
  } finally {
    disposeParams(init.model.params);
  }
});

test('the fine-tuning config can set dropout for a pretrained checkpoint', async () => {
  const dir = await checkpointWithoutDropout();
  const init = await initialModel(
    finetuneConfig(dir, ['model.hidden_dropout_prob=0.2', 'model.attention_probs_dropout_prob=0']),
    { heads: 'classification', numLabels: 2 },
    3,
  );
  try {
    assert.equal(init.model.config.hidden_dropout_prob, 0.2);
    assert.equal(init.model.config.attention_probs_dropout_prob, 0);
  } finally {
    disposeParams(init.model.params);
  }
});
