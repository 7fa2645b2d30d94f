/**
 * The `data:` section of a pretraining config as the data pipeline reads it.
 * The lead's JSON schema (schemas/) is written from this interface; the
 * defaults below are google-research/bert's (create_pretraining_data.py flags).
 */
export interface PretrainDataConfig {
  /** Directory of token shards (.bin/.idx) written by `bert tokenize`. */
  shards: string;
  /** Longest `[CLS] A [SEP] B [SEP]` sequence, special tokens included. */
  max_seq_length: number;
  /** P: masked-LM prediction slots per sequence (the cap on masked tokens). */
  max_predictions_per_seq: number;
  /** Fraction of non-special tokens chosen for masked-LM prediction. */
  masked_lm_prob: number;
  /** Probability that an instance gets a shorter random target length. */
  short_seq_prob: number;
  /** Mask `##` WordPiece continuations together with the word they belong to. */
  whole_word_masking: boolean;
  /** Fraction of documents kept out of training for evaluation. */
  heldout_fraction: number;
  /** Pad each batch to its longest sequence (`batch`) or always to max_seq_length (`max`). */
  pad_to: 'batch' | 'max';
  /** Batches the worker keeps ready ahead of the trainer. */
  prefetch: number;
  /**
   * How many times each document is cut into instances per epoch, each time
   * with different random choices. Instances are rebuilt with a new seed every
   * epoch anyway (dynamic pairs as well as dynamic masks), so 1 is enough.
   */
  dupe_factor: number;
}

export const PRETRAIN_DATA_DEFAULTS: Omit<PretrainDataConfig, 'shards'> = {
  max_seq_length: 128,
  max_predictions_per_seq: 20,
  masked_lm_prob: 0.15,
  short_seq_prob: 0.1,
  whole_word_masking: false,
  heldout_fraction: 0.01,
  pad_to: 'batch',
  prefetch: 8,
  dupe_factor: 1,
};

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
