/**
 * A fine-tuned checkpoint read back for `bert eval` / `bert predict`: the
 * model with the task's heads (model/load.ts), its tokenizer, and the
 * `bert` block of config.json that says how the task made its inputs.
 */
import { join } from 'node:path';
import { loadCheckpoint, type CheckpointDir } from '../train/checkpoint.js';
import { fromHfConfigJson, type BertConfig } from '../model/config.js';
import { modelFromTensors, type HeadSpec } from '../model/load.js';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.js';
import { loadVocab } from '../tokenizer/vocab.js';
import type { TaskModel } from './task.js';

export async function loadTaskCheckpoint(
  dir: CheckpointDir,
  head: HeadSpec,
): Promise<TaskModel & { config: BertConfig }> {
  const ckpt = await loadCheckpoint(dir);
  const meta = (ckpt.config.bert ?? {}) as Record<string, unknown>;
  const config = fromHfConfigJson(ckpt.config, join(dir, 'config.json'));
  const { model } = modelFromTensors(ckpt.model, config, head, {
    source: join(dir, 'model.safetensors'),
  });
  const lowercase = typeof meta.lowercase === 'boolean' ? meta.lowercase : true;
  return {
    model,
    config,
    tokenizer: new BertTokenizer(loadVocab(ckpt.vocabPath), { lowercase }),
    meta,
  };
}
