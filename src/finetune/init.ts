/**
 * Where a fine-tuned model starts: a pretrained checkpoint of ours, a
 * HuggingFace BERT directory (config.json + model.safetensors + vocab.txt),
 * or `none` (random init, the baseline that shows what pretraining buys).
 * The encoder and pooler come from the checkpoint; the classifier is fresh.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { FinetuneConfig } from '../config/types.js';
import { loadVocab } from '../tokenizer/vocab.js';
import { bertConfig, type BertConfig } from '../model/config.js';
import { createBertModel, bertModelFromParams, type BertModel } from '../model/bert.js';
import { fromHfTensors } from '../model/hf.js';
import { readBertDirectory } from '../export/load.js';
import { packageRoot } from '../paths.js';

export const DEFAULT_VOCAB = join(packageRoot, 'data/vocab/bert-base-uncased/vocab.txt');

export interface InitialModel {
  model: BertModel;
  config: BertConfig;
  vocabPath: string;
  lowercase: boolean;
  /** What the weights came from, for logs and run.json. */
  source: string;
  /** Parameters initialised fresh (the new head). */
  initialized: string[];
}

export async function initialClassifier(
  from: string | null,
  numLabels: number,
  config: FinetuneConfig,
  seed: number,
): Promise<InitialModel> {
  if (from === null) {
    throw new UserError(
      "--from: expected a pretrained checkpoint, a HuggingFace BERT directory, or 'none'",
    );
  }
  if (from === 'none') {
    const vocabPath = config.vocab ?? DEFAULT_VOCAB;
    const vocabSize = loadVocab(vocabPath).size;
    const m = config.model;
    const cfg = bertConfig(m.size, {
      vocab_size: vocabSize,
      hidden_act: m.hidden_act,
      hidden_dropout_prob: m.hidden_dropout_prob,
      attention_probs_dropout_prob: m.attention_probs_dropout_prob,
      ...(m.hidden_size
        ? {
            hidden_size: m.hidden_size,
            intermediate_size: m.intermediate_size ?? 4 * m.hidden_size,
          }
        : {}),
      ...(m.num_hidden_layers ? { num_hidden_layers: m.num_hidden_layers } : {}),
      ...(m.num_attention_heads ? { num_attention_heads: m.num_attention_heads } : {}),
    });
    const model = createBertModel(cfg, { heads: 'classification', numLabels, seed });
    return {
      model,
      config: cfg,
      vocabPath,
      lowercase: config.lowercase,
      source: 'none (random init)',
      initialized: [],
    };
  }
  const bert = await readBertDirectory(from, '--from');
  const cfg = bert.config;
  const loaded = fromHfTensors(bert.tensors, cfg, {
    heads: 'classification',
    numLabels,
    newHeads: { seed },
    source: join(bert.dir, 'model.safetensors'),
  });
  // transformers >= 5 saves tokenizer.json only: keep a vocab.txt for our checkpoints.
  let vocabPath = bert.vocabPath;
  if (vocabPath === null) {
    vocabPath = join(mkdtempSync(join(tmpdir(), 'bert-vocab-')), 'vocab.txt');
    writeFileSync(vocabPath, bert.vocab.toText());
  }
  const dir = bert.dir;
  return {
    model: bertModelFromParams(cfg, loaded.params, 'classification', numLabels),
    config: cfg,
    vocabPath,
    lowercase: bert.lowercase,
    source: dir,
    initialized: loaded.initialized,
  };
}
