/**
 * TypeScript views of the validated configs. The JSON Schemas in schemas/
 * are the source (keys, types, defaults); test/config/types.test.ts walks
 * each schema beside these types and fails on any drift. After `loadConfig`
 * every key with a schema default is present, so only keys without one are
 * optional here.
 */
import type { BertConfig, SizeName } from '../model/config.js';

/** The shape keys a named `size` fills in when the config leaves them out. */
type SizedKey = 'hidden_size' | 'num_hidden_layers' | 'num_attention_heads' | 'intermediate_size';

/** The model section: a named size, any of its keys overridden, and BertConfig's other keys. */
export interface ModelSection
  extends
    Partial<Pick<BertConfig, SizedKey>>,
    Omit<BertConfig, SizedKey | 'vocab_size' | 'tie_word_embeddings'> {
  size: SizeName;
  vocab_size: number | null;
}

/** A pretraining model section: also whether the MLM decoder shares the word embeddings. */
export interface PretrainModelSection extends ModelSection {
  tie_word_embeddings: boolean;
}

export interface PretrainDataSection {
  corpus: string[];
  input_format: 'lines' | 'paragraphs';
  vocab: string;
  lowercase: boolean;
  /** Directory of token shards (.bin/.idx) written by `bert tokenize`; null: a cache under runs/.shards/. */
  shards: string | null;
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
  /** Fraction of documents kept out of training for evaluation (ignored when heldout_corpus is set). */
  heldout_fraction: number;
  /** Text files that are the held-out set instead of heldout_fraction of the corpus; null: the fraction. */
  heldout_corpus: string[] | null;
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

export interface TrainSection {
  batch_size: number;
  micro_batch_size: number | null;
  max_steps: number | null;
  epochs: number | null;
  budget_minutes: number | null;
  optimizer: 'adamw' | 'lamb';
  lr: number;
  lr_schedule: 'linear' | 'cosine' | 'constant';
  warmup_steps: number | null;
  warmup_ratio: number;
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  bias_correction: boolean;
  max_grad_norm: number | null;
  seed: number;
  log_every: number;
  eval_every: number | null;
  save_every: number | null;
  /** Minutes of training time at which to evaluate and keep a checkpoint (checkpoints/minute-<m>). */
  save_at_minutes: number[];
  keep_last: number;
  threads: number | null;
}

/**
 * What pretraining learns from: `mlm+nsp` (BERT: masked LM + next-sentence
 * prediction on sentence pairs), `mlm+sop` (ALBERT: masked LM + sentence-order
 * prediction, through the same head), `mlm+nsp+sop` (NSP whose NotNext pairs are
 * half swapped pairs of one document) or `mlm` (RoBERTa's FULL-SENTENCES: masked
 * LM only, on sequences packed to max_seq_length).
 */
export type PretrainObjective = 'mlm+nsp' | 'mlm+sop' | 'mlm+nsp+sop' | 'mlm';

export interface PretrainConfig {
  name: string;
  model: PretrainModelSection;
  data: PretrainDataSection;
  train: TrainSection & { eval_batches: number; objective: PretrainObjective };
}

/** `squad:` options of a fine-tuning config (squad, squad2). */
export interface SquadSection {
  doc_stride: number;
  max_query_length: number;
  max_answer_length: number;
  n_best_size: number;
  held_out_every: number;
  null_score_diff_threshold: number;
}

export interface FinetuneConfig {
  name: string | null;
  task: string | null;
  from: string | null;
  /** null: the task's own default directory (data/glue, data/squad, data/conll2003). */
  data_dir: string | null;
  max_seq_length: number;
  max_train_examples: number | null;
  max_eval_examples: number | null;
  skip_bad_rows: boolean;
  vocab: string | null;
  lowercase: boolean;
  squad: SquadSection;
  model: ModelSection;
  train: TrainSection & { eval_batch_size: number };
}
