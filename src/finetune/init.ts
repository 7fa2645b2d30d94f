/**
 * Where a fine-tuned model starts: a pretrained checkpoint of ours, a
 * HuggingFace BERT directory (config.json + model.safetensors + vocab.txt),
 * or `none` (random init, the baseline that shows what pretraining buys).
 * The encoder and pooler come from the checkpoint; the classifier is fresh.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { FinetuneConfig } from '../config/types.js';
import { loadVocab } from '../tokenizer/vocab.js';
import { bertConfig, fromHfConfigJson, type BertConfig } from '../model/config.js';
import { createBertModel, bertModelFromParams, type BertModel } from '../model/bert.js';
import { fromHfTensors } from '../model/hf.js';
import { resolveCheckpoint, loadCheckpoint } from '../train/checkpoint.js';
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

/** Lower-casing as the checkpoint says (our config.json, or HF's tokenizer_config.json), else the fallback. */
export function checkpointLowercase(
  dir: string,
  config: Record<string, unknown>,
  fallback: boolean,
): boolean {
  const ours = config.bert as { lowercase?: unknown } | undefined;
  if (typeof ours?.lowercase === 'boolean') return ours.lowercase;
  const tc = join(dir, 'tokenizer_config.json');
  if (existsSync(tc)) {
    const v = (JSON.parse(readFileSync(tc, 'utf8')) as { do_lower_case?: unknown }).do_lower_case;
    if (typeof v === 'boolean') return v;
  }
  return fallback;
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
  const dir = resolveCheckpoint(from, '--from');
  if (!existsSync(join(dir, 'model.safetensors'))) {
    const hasBin = existsSync(join(dir, 'pytorch_model.bin'));
    throw new UserError(
      `--from ${from}: no model.safetensors${hasBin ? ' (only pytorch_model.bin: re-save it with safetensors, e.g. save_pretrained(safe_serialization=True))' : ''}`,
    );
  }
  const ckpt = await loadCheckpoint(dir);
  const cfg = fromHfConfigJson(ckpt.config, join(dir, 'config.json'));
  const vocabSize = loadVocab(ckpt.vocabPath).size;
  if (vocabSize !== cfg.vocab_size) {
    throw new UserError(
      `--from ${from}: vocab.txt has ${vocabSize} tokens but config.json says vocab_size ${cfg.vocab_size}`,
    );
  }
  const loaded = fromHfTensors(ckpt.model, cfg, {
    heads: 'classification',
    numLabels,
    newHeads: { seed },
    source: join(dir, 'model.safetensors'),
  });
  return {
    model: bertModelFromParams(cfg, loaded.params, 'classification', numLabels),
    config: cfg,
    vocabPath: ckpt.vocabPath,
    lowercase: checkpointLowercase(dir, ckpt.config, config.lowercase),
    source: dir,
    initialized: loaded.initialized,
  };
}
