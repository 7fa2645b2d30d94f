import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadCommandConfig } from '../../src/cli/common.js';
import { packageRoot } from '../../src/paths.js';
import type { FinetuneConfig, PretrainConfig } from '../../src/config/types.js';

test('--max-minutes sets train.budget_minutes and wins over --set; without it there is no budget', () => {
  const flagged = loadCommandConfig<PretrainConfig>('pretrain', {
    set: ['train.budget_minutes=5'],
    'max-minutes': 12,
  });
  assert.equal(flagged.train.budget_minutes, 12);
  const set = loadCommandConfig<FinetuneConfig>('finetune', { set: ['train.budget_minutes=5'] });
  assert.equal(set.train.budget_minutes, 5);
  assert.equal(loadCommandConfig<PretrainConfig>('pretrain', {}).train.budget_minutes, null);
});

test('bias correction is on unless a config turns it off', () => {
  assert.equal(loadCommandConfig<PretrainConfig>('pretrain', {}).train.bias_correction, true);
  assert.equal(loadCommandConfig<FinetuneConfig>('finetune', {}).train.bias_correction, true);
  const ci = loadCommandConfig<PretrainConfig>('pretrain', {
    config: join(packageRoot, 'configs/ci/pretrain.yaml'),
  });
  assert.equal(ci.train.bias_correction, false);
});
