/**
 * The `data:` section of a pretraining config as the data pipeline reads it:
 * the keys of schemas/pretrain.schema.json (src/config/types.ts,
 * PretrainDataSection; descriptions there) that shape instances and batches,
 * with `shards` resolved to a directory of token shards (.bin/.idx) written
 * by `bert tokenize`. The defaults are the schema's (google-research/bert's
 * create_pretraining_data.py flags).
 */
import { schemaDefaults } from '../config/schemas.js';
import type { PretrainConfig, PretrainDataSection, PretrainObjective } from '../config/types.js';

export type PretrainDataConfig = Pick<
  PretrainDataSection,
  | 'max_seq_length'
  | 'max_predictions_per_seq'
  | 'masked_lm_prob'
  | 'short_seq_prob'
  | 'whole_word_masking'
  | 'heldout_fraction'
  | 'pad_to'
  | 'prefetch'
  | 'dupe_factor'
> & { shards: string };

const PIPELINE_KEYS = [
  'max_seq_length',
  'max_predictions_per_seq',
  'masked_lm_prob',
  'short_seq_prob',
  'whole_word_masking',
  'heldout_fraction',
  'pad_to',
  'prefetch',
  'dupe_factor',
] as const satisfies readonly (keyof PretrainDataConfig)[];

/** The schema's defaults for the pipeline's keys (for code that runs without a config file). */
export const PRETRAIN_DATA_DEFAULTS = Object.fromEntries(
  Object.entries(schemaDefaults('pretrain', ['data'])).filter(([k]) =>
    (PIPELINE_KEYS as readonly string[]).includes(k),
  ),
) as Omit<PretrainDataConfig, 'shards'>;

/** The parameters instance building and masking need (everything but I/O knobs). */
export type InstanceParams = Pick<
  PretrainDataConfig,
  | 'max_seq_length'
  | 'max_predictions_per_seq'
  | 'masked_lm_prob'
  | 'short_seq_prob'
  | 'whole_word_masking'
  | 'dupe_factor'
>;

/**
 * What the training pipeline (and the loader worker) of a pretraining config
 * reads: its data section and `train.objective`. With `data.heldout_corpus`
 * the held-out set is those files, so no corpus document is held out.
 */
export function trainingPipelineConfig(
  config: Pick<PretrainConfig, 'data' | 'train'>,
): Omit<PretrainDataConfig, 'shards'> & { objective: PretrainObjective } {
  const { data } = config;
  return {
    ...pickPipelineKeys(data),
    heldout_fraction: data.heldout_corpus ? 0 : data.heldout_fraction,
    objective: config.train.objective,
  };
}

function pickPipelineKeys(data: PretrainDataSection): Omit<PretrainDataConfig, 'shards'> {
  return Object.fromEntries(PIPELINE_KEYS.map((k) => [k, data[k]])) as Omit<
    PretrainDataConfig,
    'shards'
  >;
}
