/**
 * Load a whole BERT directory — one of our checkpoints (or a run directory,
 * meaning its latest) or a HuggingFace model directory (config.json +
 * model.safetensors + vocab.txt) — as a model, its config, vocabulary and
 * lower-casing. Shared by `bert export`, `bert embed` and `pretrain --init-from`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { fromHfConfigJson, type BertConfig } from '../model/config.js';
import { bertModelFromParams, type BertModel } from '../model/bert.js';
import { fromHfTensors, canonicalName } from '../model/hf.js';
import type { BertHeads } from '../model/params.js';
import type { TensorData } from '../io/safetensors.js';
import { loadVocab, type Vocab } from '../tokenizer/vocab.js';
import { checkpointLowercase } from '../finetune/init.js';
import { loadCheckpoint, resolveCheckpoint, type CheckpointDir } from '../train/checkpoint.js';

export interface LoadedBert {
  dir: CheckpointDir;
  model: BertModel;
  config: BertConfig;
  /** config.json as written (labels, task, our `bert` block). */
  configJson: Record<string, unknown>;
  vocab: Vocab;
  vocabPath: string;
  lowercase: boolean;
  heads: BertHeads;
  /** Parameters that were initialised fresh (only with `heads: 'any'` on a headless file). */
  initialized: string[];
}

export interface LoadBertOptions {
  /** Names the flag in error messages (--checkpoint, --from, --init-from). */
  flag: string;
  /**
   * 'exact': every parameter of the detected heads must be in the file (export).
   * 'encoder': only the encoder and pooler must be; missing heads get a fresh
   * init with `seed` (embeddings from a bare BertModel file).
   */
  require: 'exact' | 'encoder';
  seed?: number;
}

/**
 * Which task heads a checkpoint carries: a classifier → BertForSequenceClassification,
 * otherwise BertForPreTraining. Returns the label count for classification.
 */
export function detectHeads(
  tensors: ReadonlyMap<string, TensorData>,
  configJson: Record<string, unknown>,
): { heads: BertHeads; numLabels: number } {
  for (const [name, t] of tensors) {
    if (canonicalName(name) === 'classifier.weight')
      return { heads: 'classification', numLabels: t.shape[0] };
  }
  const archs = Array.isArray(configJson.architectures) ? configJson.architectures : [];
  if (archs.includes('BertForSequenceClassification')) {
    const labels = configJson.id2label as Record<string, string> | undefined;
    const n =
      typeof configJson.num_labels === 'number'
        ? configJson.num_labels
        : labels
          ? Object.keys(labels).length
          : 2;
    return { heads: 'classification', numLabels: n };
  }
  return { heads: 'pretraining', numLabels: 2 };
}

/** `data.lowercase` of the run a checkpoint belongs to (<run>/checkpoints/step-N), if recorded. */
function runLowercase(dir: string): boolean | undefined {
  const resolved = join(dirname(dirname(dir)), 'config.resolved.yaml');
  if (!existsSync(resolved)) return undefined;
  const cfg = parseYaml(readFileSync(resolved, 'utf8')) as { data?: { lowercase?: unknown } };
  return typeof cfg?.data?.lowercase === 'boolean' ? cfg.data.lowercase : undefined;
}

/** An uncased vocabulary has no upper-case letters outside its [SPECIAL] tokens. */
export function vocabLooksCased(vocab: Vocab): boolean {
  return vocab.tokens.some((t) => !/^\[.*\]$/.test(t) && t !== t.toLowerCase());
}

/**
 * Whether text is lower-cased for this model: our config.json's `bert.lowercase`,
 * HF's tokenizer_config.json `do_lower_case`, the run's data.lowercase, else
 * what the vocabulary says (any upper-case token → cased).
 */
export function modelLowercase(
  dir: string,
  configJson: Record<string, unknown>,
  vocab: Vocab,
): boolean {
  const fallback = runLowercase(dir) ?? !vocabLooksCased(vocab);
  return checkpointLowercase(dir, configJson, fallback);
}

export async function loadBertDirectory(
  pathArg: string,
  options: LoadBertOptions,
): Promise<LoadedBert> {
  const dir = resolveCheckpoint(pathArg, options.flag);
  if (!existsSync(join(dir, 'model.safetensors'))) {
    const hasBin = existsSync(join(dir, 'pytorch_model.bin'));
    throw new UserError(
      `${options.flag} ${pathArg}: no model.safetensors${hasBin ? ' (only pytorch_model.bin: re-save it with save_pretrained(safe_serialization=True))' : ''}`,
    );
  }
  const ckpt = await loadCheckpoint(dir);
  const configPath = join(dir, 'config.json');
  if (ckpt.config.model_type !== undefined && ckpt.config.model_type !== 'bert') {
    throw new UserError(
      `${configPath}: model_type is ${JSON.stringify(ckpt.config.model_type)}, expected "bert"`,
    );
  }
  const config = fromHfConfigJson(ckpt.config, configPath);
  const vocab = loadVocab(ckpt.vocabPath);
  if (vocab.size !== config.vocab_size) {
    throw new UserError(
      `${options.flag} ${pathArg}: vocab.txt has ${vocab.size} tokens but config.json says vocab_size ${config.vocab_size}`,
    );
  }
  const { heads, numLabels } = detectHeads(ckpt.model, ckpt.config);
  const loaded = fromHfTensors(ckpt.model, config, {
    heads,
    numLabels,
    source: join(dir, 'model.safetensors'),
    ...(options.require === 'encoder' ? { newHeads: { seed: options.seed ?? 0 } } : {}),
  });
  return {
    dir,
    model: bertModelFromParams(config, loaded.params, heads, numLabels),
    config,
    configJson: ckpt.config,
    vocab,
    vocabPath: ckpt.vocabPath,
    lowercase: modelLowercase(dir, ckpt.config, vocab),
    heads,
    initialized: loaded.initialized,
  };
}
