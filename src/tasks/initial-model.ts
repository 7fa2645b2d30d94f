/**
 * Where a fine-tuned model starts: a pretrained checkpoint of ours, a
 * HuggingFace BERT directory (config.json + model.safetensors + vocab.txt),
 * or `none` (random init, the baseline that shows what pretraining buys).
 * The encoder comes from the checkpoint; the task's head is built from its
 * description (model/load.ts). Dropout is a training setting, not a weight:
 * it always comes from the fine-tuning config (default 0.1), so a checkpoint
 * pretrained without dropout (configs/pretrain/tiny-30min.yaml) is still
 * fine-tuned with it, as the finetune schema documents.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { configKeyLocation } from '../config/load.js';
import type { FinetuneConfig } from '../config/types.js';
import { loadVocab } from '../tokenizer/vocab.js';
import { bertConfig, type BertConfig } from '../model/config.js';
import type { BertModel } from '../model/bert.js';
import { freshModel, type HeadSpec } from '../model/load.js';
import { loadBertDirectory } from '../export/load.js';
import { packageRoot } from '../paths.js';
import { disposeParams } from '../model/params.js';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.js';

export const DEFAULT_VOCAB = join(packageRoot, 'data/vocab/bert-base-uncased/vocab.txt');

export interface InitialModel {
  model: BertModel;
  /** The model's tokenizer (its vocab and lower-casing). */
  tokenizer: BertTokenizer;
  config: BertConfig;
  vocabPath: string;
  lowercase: boolean;
  /** What the weights came from, for logs and run.json. */
  source: string;
  /** Parameters initialised fresh (the new head). */
  initialized: string[];
}

/** Model config of `--from none`: the config's model section over the vocabulary's size. */
function randomInitConfig(config: FinetuneConfig, vocabSize: number): BertConfig {
  const m = config.model;
  return bertConfig(m.size, {
    vocab_size: vocabSize,
    hidden_act: m.hidden_act,
    hidden_dropout_prob: m.hidden_dropout_prob,
    attention_probs_dropout_prob: m.attention_probs_dropout_prob,
    layer_norm: m.layer_norm,
    ...(m.hidden_size
      ? {
          hidden_size: m.hidden_size,
          intermediate_size: m.intermediate_size ?? 4 * m.hidden_size,
        }
      : {}),
    ...(m.num_hidden_layers ? { num_hidden_layers: m.num_hidden_layers } : {}),
    ...(m.num_attention_heads ? { num_attention_heads: m.num_attention_heads } : {}),
  });
}

/**
 * The model a task fine-tunes: config.from's encoder (a pooler only where
 * the head uses one) with the task's head (`head`), taken from the file when
 * it is there and the same shape, fresh otherwise; or a random init (`none`).
 */
export async function initialModel(
  config: FinetuneConfig,
  head: HeadSpec,
  seed: number,
): Promise<InitialModel> {
  const start = await startingWeights(config, head, seed);
  if (config.max_seq_length > start.config.max_position_embeddings) {
    disposeParams(start.model.params);
    throw new UserError(
      `${configKeyLocation(config, ['max_seq_length'])}: ${config.max_seq_length} exceeds the model's max_position_embeddings (${start.config.max_position_embeddings})`,
    );
  }
  const tokenizer = new BertTokenizer(loadVocab(start.vocabPath), { lowercase: start.lowercase });
  return { ...start, tokenizer };
}

async function startingWeights(
  config: FinetuneConfig,
  head: HeadSpec,
  seed: number,
): Promise<Omit<InitialModel, 'tokenizer'>> {
  const from = config.from;
  if (from === null) {
    throw new UserError(
      "--from: expected a pretrained checkpoint, a HuggingFace BERT directory, or 'none'",
    );
  }
  if (from === 'none') {
    const vocabPath = config.vocab ?? DEFAULT_VOCAB;
    const cfg = randomInitConfig(config, loadVocab(vocabPath).size);
    return {
      model: freshModel(cfg, head, seed),
      config: cfg,
      vocabPath,
      lowercase: config.lowercase,
      source: 'none (random init)',
      initialized: [],
    };
  }
  const bert = await loadBertDirectory(from, { flag: '--from', require: 'encoder', seed, head });
  // transformers >= 5 saves tokenizer.json only: keep a vocab.txt for our checkpoints.
  let vocabPath = bert.vocabPath;
  if (vocabPath === null) {
    vocabPath = join(mkdtempSync(join(tmpdir(), 'bert-vocab-')), 'vocab.txt');
    writeFileSync(vocabPath, bert.vocab.toText());
  }
  const cfg: BertConfig = {
    ...bert.config,
    hidden_dropout_prob: config.model.hidden_dropout_prob,
    attention_probs_dropout_prob: config.model.attention_probs_dropout_prob,
  };
  bert.model.config = cfg;
  return {
    model: bert.model,
    config: cfg,
    vocabPath,
    lowercase: bert.lowercase,
    source: bert.dir,
    initialized: bert.initialized,
  };
}
