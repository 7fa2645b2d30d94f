/**
 * The `bert tokenize --config configs/tokenizer.yaml` config
 * (schemas/tokenizer.schema.json validates it; defaults there).
 */
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
  vocab: { path?: string; train?: Partial<VocabTrainConfig> };
  /** Uncased (lower-case + strip accents) or cased. */
  lowercase: boolean;
  /** Encoding threads; auto = one per core. */
  workers: number | 'auto';
}

/** HF BertWordPieceTokenizer.train defaults, with BERT's vocabulary size. */
export const DEFAULT_VOCAB_TRAIN: VocabTrainConfig = {
  vocab_size: 30522,
  min_frequency: 2,
  limit_alphabet: 1000,
};
