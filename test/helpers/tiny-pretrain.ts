/**
 * The smallest pretraining run the tests use: 1 layer, H32, sequences of 32
 * with 5 predictions, batches of 4, no evaluation. Tests that call
 * `pretrain()` in-process load it with `tinyPretrainConfig`; tests that run
 * the CLI pass the same settings as `--set` pairs (test/helpers/bert-cli.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { PretrainConfig } from '../../src/config/types.js';
import { packageRoot } from '../../src/paths.js';

/** configs/pretrain/tiny.yaml in this checkout. */
export const tinyConfigFile = join(packageRoot, 'configs/pretrain/tiny.yaml');

/** A fresh temporary `root` for one test file's tiny runs, and `shards` under it for the tokenized corpus. */
export function tinyPretrainRoot(prefix: string): { root: string; shards: string } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, shards: join(root, 'shards') };
}

/** `--set` values (without the flag) for the tiny model, with shards written to `shards`. */
export function tinyPretrainSettings(shards: string): string[] {
  return [
    'model.hidden_size=32',
    'model.num_hidden_layers=1',
    'model.num_attention_heads=2',
    'model.intermediate_size=64',
    'data.max_seq_length=32',
    'data.max_predictions_per_seq=5',
    'data.heldout_fraction=0',
    `data.shards=${shards}`,
    'train.batch_size=4',
    'train.eval_every=null',
  ];
}

/** configs/pretrain/tiny.yaml with the tiny settings, then `extra` (later settings win). */
export function tinyPretrainConfig(shards: string, extra: string[] = []): PretrainConfig {
  return loadConfig<PretrainConfig>('pretrain', tinyConfigFile, {
    sets: [...tinyPretrainSettings(shards), ...extra],
  }).config;
}
