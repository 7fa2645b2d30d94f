/**
 * `bert pretrain --init-from <checkpoint|HF dir>`: continue pretraining from
 * existing weights (e.g. a downloaded bert-base-uncased, or one of our runs)
 * instead of a random init. The model's shape comes from the checkpoint; the
 * pretraining data must use the same vocabulary. MLM/NSP heads the file lacks
 * (a bare BertModel) start fresh; a fine-tuned classifier is ignored.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { BertModel } from '../model/bert.js';
import { fromHfConfigJson, type BertConfig } from '../model/config.js';
import { modelFromTensors } from '../model/load.js';
import { loadVocab } from '../tokenizer/vocab.js';
import type { CheckpointDir } from '../train/checkpoint.js';
import { readBertDirectory } from './load.js';

export interface InitFromOptions {
  /** data.vocab of the pretraining config: token ids must mean the same thing. */
  vocabPath: string;
  /** data.max_seq_length: must fit the checkpoint's position embeddings. */
  maxSeqLength: number;
  /** Seed for heads the checkpoint lacks. */
  seed: number;
}

export interface InitialPretrainingModel {
  model: BertModel;
  config: BertConfig;
  source: CheckpointDir;
  /** Head parameters initialised fresh. */
  initialized: string[];
  /** File tensors not used (another task's classifier, buffers). */
  ignored: string[];
}

export async function loadPretrainingInit(
  pathArg: string,
  options: InitFromOptions,
): Promise<InitialPretrainingModel> {
  const flag = '--init-from';
  const { dir, config, tensors, vocab: theirs } = await readBertDirectory(pathArg, flag);
  const ours = loadVocab(options.vocabPath);
  if (ours.size !== theirs.size) {
    throw new UserError(
      `${flag} ${pathArg}: the checkpoint's vocabulary has ${theirs.size} tokens, data.vocab (${options.vocabPath}) has ${ours.size}; pretrain with the checkpoint's vocab.txt`,
    );
  }
  const differs = ours.tokens.findIndex((t, i) => t !== theirs.tokens[i]);
  if (differs >= 0) {
    throw new UserError(
      `${flag} ${pathArg}: token ${differs} is ${JSON.stringify(theirs.tokens[differs])} in the checkpoint's vocab.txt but ${JSON.stringify(ours.tokens[differs])} in data.vocab (${options.vocabPath}); pretrain with the checkpoint's vocab.txt`,
    );
  }
  if (options.maxSeqLength > config.max_position_embeddings) {
    throw new UserError(
      `${flag} ${pathArg}: data.max_seq_length ${options.maxSeqLength} exceeds the checkpoint's max_position_embeddings ${config.max_position_embeddings}`,
    );
  }
  const loaded = modelFromTensors(
    tensors,
    config,
    { heads: 'pretraining' },
    { newHeads: { seed: options.seed }, source: join(dir, 'model.safetensors') },
  );
  return {
    model: loaded.model,
    config,
    source: dir,
    initialized: loaded.initialized,
    ignored: loaded.ignored,
  };
}

/**
 * The model config of a run started with --init-from, read back from a
 * checkpoint of that run when it is resumed (the YAML config does not
 * describe the model's size then). Null for runs started from scratch.
 */
export function initFromRecordOf(
  checkpoint: CheckpointDir,
): { config: BertConfig; initFrom: string } | null {
  const path = join(checkpoint, 'config.json');
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const meta = json.bert as { init_from?: unknown } | undefined;
  return typeof meta?.init_from === 'string'
    ? { config: fromHfConfigJson(json, path), initFrom: meta.init_from }
    : null;
}
