/** Checkpoint directories, vocabularies and the PyTorch reference for the export tests. */
import { after, before } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { toHfConfigJson, type BertConfig } from '../../src/model/config.js';
import { toHfTensors } from '../../src/model/hf.js';
import type { BertModel } from '../../src/model/bert.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { SPECIAL_TOKENS } from '../../src/tokenizer/vocab.js';
import { PYTHON, TORCH_REFERENCE, torchMissing } from '../helpers/torch-reference.js';
import { useTestBackend } from '../helpers/tf.js';

export { PYTHON, torchMissing };

/**
 * A temporary folder for the calling test file: made, on the test backend,
 * before its tests and removed after them. Read `.dir` inside a test.
 */
export function scratchOnTestBackend(prefix: string): { readonly dir: string } {
  const scratch = { dir: '' };
  before(async () => {
    await useTestBackend();
    scratch.dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await rm(scratch.dir, { recursive: true, force: true });
  });
  return scratch;
}

/** A 40-token uncased vocabulary: the five specials, then words and word pieces. */
export const TINY_VOCAB = [
  ...SPECIAL_TOKENS,
  ...'the a cat dog sat on mat ran fast slow red blue and is was he she it'.split(' '),
  ...'play ##ing ##ed ##s . , ! ? un ##like big small house tree good bad day'.split(' '),
];

export interface PeerInput {
  input_ids: number[];
  token_type_ids?: number[];
  attention_mask?: number[];
}

export interface PeerOutput {
  last_hidden_state_cls: number[];
  last_hidden_state_sum: number;
  pooled?: number[];
  nsp_logits?: number[];
  classifier_logits?: number[];
  mlm_logits_first?: number[][];
}

/** Run the PyTorch reference forward (test/fixtures/python/) on `dir` for these inputs. */
export async function runPeer(
  dir: string,
  inputs: PeerInput[],
  scratch: string,
): Promise<PeerOutput[]> {
  const path = join(scratch, `peer-inputs-${Date.now()}.jsonl`);
  await writeFile(path, inputs.map((i) => JSON.stringify(i)).join('\n') + '\n');
  const stdout = execFileSync(PYTHON, [TORCH_REFERENCE, dir, path], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const out = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as PeerOutput);
  assert.equal(out.length, inputs.length);
  return out;
}

/** Write `model` as one of our checkpoints (what pretrain/finetune save, minus optimizer state). */
export async function writeCheckpoint(
  dir: string,
  model: BertModel,
  config: BertConfig,
  extra: Record<string, unknown> = {},
  vocab: readonly string[] = TINY_VOCAB,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, 'model.safetensors'), await toHfTensors(model.params), {
    format: 'pt',
  });
  const arch =
    model.heads === 'classification' ? 'BertForSequenceClassification' : 'BertForPreTraining';
  await writeFile(join(dir, 'config.json'), JSON.stringify(toHfConfigJson(config, arch, extra)));
  await writeFile(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  // Optimizer state that an export must leave behind.
  await writeSafetensors(
    join(dir, 'optimizer.safetensors'),
    new Map([
      ['m.bert.pooler.dense.bias', { dtype: 'float32', shape: [1], data: new Float32Array(1) }],
    ]),
  );
  await writeFile(
    join(dir, 'trainer_state.json'),
    JSON.stringify({ step: 3, epoch: 0, total_steps: 3, data_cursor: null }),
  );
  return dir;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
