/**
 * The `bert tokenize --config configs/tokenizer.yaml` config
 * (schemas/tokenizer.schema.json validates it; defaults there).
 */
import { schemaDefaults } from '../config/schemas.js';
import type { InputFormat } from './encode-block.js';

export interface VocabTrainConfig {
  vocab_size: number;
  min_frequency: number;
  limit_alphabet: number;
}

export interface TokenizerConfig {
  /** Text files: one sentence per line, blank line between documents (or paragraphs). */
  input: string[];
  input_format: InputFormat;
  /** Where vocab.txt, tokenizer.json, shards.json and the shards go. */
  output_dir: string;
  /** An existing vocab.txt (`path`), else a vocabulary trained with `train`. */
  vocab: { path?: string; train: VocabTrainConfig };
  /** Uncased (lower-case + strip accents) or cased. */
  lowercase: boolean;
  /** Encoding threads; auto = one per core. */
  workers: number | 'auto';
}

/**
 * The schema's `vocab.train` defaults (HF BertWordPieceTokenizer.train's,
 * with BERT's vocabulary size), for `bert tokenize train` without a config.
 */
export const DEFAULT_VOCAB_TRAIN = schemaDefaults('tokenizer', [
  'vocab',
  'train',
]) as unknown as VocabTrainConfig;
