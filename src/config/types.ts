/**
 * TypeScript views of the validated configs (schemas/*.schema.json). After
 * `loadConfig` every key with a schema default is present.
 */

export type SizeName = 'tiny' | 'mini' | 'small' | 'medium' | 'base' | 'large';

export interface ModelSection {
  size: SizeName;
  vocab_size: number | null;
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  intermediate_size?: number;
  hidden_act: 'gelu' | 'gelu_new';
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
}

export interface PretrainDataSection {
  corpus: string[];
  input_format: 'lines' | 'paragraphs';
  vocab: string;
  lowercase: boolean;
  shards: string | null;
  max_seq_length: number;
  max_predictions_per_seq: number;
  masked_lm_prob: number;
  short_seq_prob: number;
  whole_word_masking: boolean;
  heldout_fraction: number;
  pad_to: 'batch' | 'max';
  prefetch: number;
  dupe_factor: number;
}

export interface TrainSection {
  batch_size: number;
  micro_batch_size: number | null;
  max_steps: number | null;
  epochs: number | null;
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
  keep_last: number;
  threads: number | null;
}

export interface PretrainConfig {
  name: string;
  model: ModelSection;
  data: PretrainDataSection;
  train: TrainSection & { eval_batches: number };
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
