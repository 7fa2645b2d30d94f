/**
 * `pretrain --init-from`: pretraining starts from a HuggingFace-style BertModel
 * directory (no `bert.` prefix, no heads): the checkpoint decides the model's
 * shape, the encoder starts at its weights, missing MLM/NSP heads start fresh,
 * a resumed run keeps the shape; a different vocabulary is refused. The
 * pretrained run's checkpoint then round-trips through `export --format hf`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PretrainConfig } from '../../src/config/types.js';
import { pretrain } from '../../src/tasks/pretrain/pretrain.js';
import { latestCheckpoint, loadCheckpoint } from '../../src/train/checkpoint.js';
import { selectBackend, type BackendChoice } from '../../src/backend/select.js';
import { toHfTensors } from '../../src/model/hf.js';
import { toHfConfigJson, type BertConfig } from '../../src/model/config.js';
import { disposeParams } from '../../src/model/params.js';
import { writeSafetensors, type TensorData } from '../../src/io/safetensors.js';
import { packageRoot } from '../../src/paths.js';
import { UserError } from '../../src/errors.js';
import type { BertEvent } from '../../src/ui/events.js';
import { loadPretrainingInit } from '../../src/export/init-from.js';
import { randomBatch, randomModel, smallConfig as modelConfig } from '../model/helpers.js';
import * as tf from '@tensorflow/tfjs-core';
import { bertForPreTraining } from '../../src/model/bert.js';
import { pretrainingTensors, disposeTensors } from '../../src/model/batch.js';
import { exportHf } from '../../src/export/hf.js';
import { loadBertDirectory } from '../../src/export/load.js';
import { TINY_VOCAB, maxAbsDiff } from './helpers.js';
import { tinyPretrainConfig } from '../helpers/tiny-pretrain.js';

const root = mkdtempSync(join(tmpdir(), 'bert-init-from-'));
const shards = join(root, 'shards');
const VOCAB = join(packageRoot, 'data/vocab/bert-base-uncased/vocab.txt');
let backend: BackendChoice;

/** The pretraining config asks for hidden 32, 1 layer: the --init-from checkpoint (hidden 24, 2 layers) wins. */
function pretrainConfig(extra: string[] = []): PretrainConfig {
  return tinyPretrainConfig(shards, [
    'train.log_every=1',
    'train.warmup_steps=0',
    'train.lr=1e-5',
    ...extra,
  ]);
}

function quiet(): { emit(e: BertEvent): void; close(): Promise<void>; events: BertEvent[] } {
  const events: BertEvent[] = [];
  return { events, emit: (e) => void events.push(e), close: async () => undefined };
}

const initConfig: BertConfig = modelConfig({
  vocab_size: 30522,
  hidden_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 3,
  intermediate_size: 48,
  max_position_embeddings: 64,
});
let encoder: Map<string, TensorData>;

/** A directory like transformers' BertModel.save_pretrained: encoder only, no `bert.` prefix. */
async function writeBareBertModel(
  dir: string,
  vocabPath: string,
  config: BertConfig,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const model = randomModel(config, { seed: 31 });
  const all = await toHfTensors(model.params);
  disposeParams(model.params);
  encoder = new Map(
    [...all].filter(([n]) => n.startsWith('bert.')).map(([n, t]) => [n.slice('bert.'.length), t]),
  );
  await writeSafetensors(join(dir, 'model.safetensors'), encoder, { format: 'pt' });
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({ ...toHfConfigJson(config), architectures: ['BertModel'] }),
  );
  copyFileSync(vocabPath, join(dir, 'vocab.txt'));
}

before(async () => {
  backend = await selectBackend((process.env.BERT_TEST_BACKEND as 'wasm') ?? 'wasm');
  const { ensureShards } = await import('../../src/train/shards.js');
  await ensureShards(pretrainConfig().data, quiet());
  await writeBareBertModel(join(root, 'bare'), VOCAB, initConfig);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('loading a bare BertModel for pretraining keeps its encoder and initialises the MLM/NSP heads', async () => {
  const r = await loadPretrainingInit(join(root, 'bare'), {
    vocabPath: VOCAB,
    maxSeqLength: 32,
    seed: 1,
  });
  assert.deepEqual(r.config, initConfig);
  assert.deepEqual(r.initialized.sort(), [
    'cls.predictions.bias',
    'cls.predictions.transform.LayerNorm.bias',
    'cls.predictions.transform.LayerNorm.weight',
    'cls.predictions.transform.dense.bias',
    'cls.predictions.transform.dense.weight',
    'cls.seq_relationship.bias',
    'cls.seq_relationship.weight',
  ]);
  const ours = await toHfTensors(r.model.params);
  for (const [name, t] of encoder) assert.deepEqual(ours.get(`bert.${name}`)!.data, t.data, name);
  disposeParams(r.model.params);
});

test('pretrain --init-from starts at the checkpoint (its shape, its weights) and resumes with that shape', async () => {
  const runDir = join(root, 'run');
  const config = pretrainConfig(['train.max_steps=2', 'train.save_every=1']);
  const r1 = await pretrain({
    config,
    runDir,
    resumeFrom: null,
    initFrom: join(root, 'bare'),
    stopAtStep: 1,
    reporter: quiet(),
    stopRequested: () => false,
    backend,
  });
  assert.equal(r1.step, 1);
  const ckpt = await loadCheckpoint(latestCheckpoint(runDir)!);
  assert.equal(ckpt.config.hidden_size, 24);
  assert.equal(ckpt.config.num_hidden_layers, 2);
  assert.equal((ckpt.config.bert as { init_from?: string }).init_from, join(root, 'bare'));
  // One Adam step at lr 1e-5 moves each weight by about 1e-5: the encoder is the checkpoint's.
  let moved = 0;
  for (const [name, t] of encoder)
    moved = Math.max(moved, maxAbsDiff(ckpt.model.get(`bert.${name}`)!.data, t.data));
  assert.ok(moved > 0 && moved < 1e-4, `encoder moved by ${moved}`);

  const r2 = await pretrain({
    config,
    runDir,
    resumeFrom: latestCheckpoint(runDir),
    stopAtStep: null,
    reporter: quiet(),
    stopRequested: () => false,
    backend,
  });
  assert.equal(r2.status, 'completed');
  assert.equal(r2.step, 2);
  const again = await loadCheckpoint(latestCheckpoint(runDir)!);
  assert.equal(again.config.hidden_size, 24);
});

test('pretrain --init-from refuses a checkpoint with another vocabulary, and too short position embeddings', async () => {
  const other = join(root, 'other-vocab');
  await writeFile(join(root, 'tiny-vocab.txt'), TINY_VOCAB.join('\n') + '\n');
  await writeBareBertModel(other, join(root, 'tiny-vocab.txt'), {
    ...initConfig,
    vocab_size: TINY_VOCAB.length,
  });
  await assert.rejects(
    loadPretrainingInit(other, { vocabPath: VOCAB, maxSeqLength: 32, seed: 1 }),
    (e: unknown) =>
      e instanceof UserError &&
      /--init-from .*: the checkpoint's vocabulary has 40 tokens, data\.vocab \(.*\) has 30522/.test(
        e.message,
      ),
  );
  await assert.rejects(
    loadPretrainingInit(join(root, 'bare'), { vocabPath: VOCAB, maxSeqLength: 128, seed: 1 }),
    (e: unknown) =>
      e instanceof UserError &&
      /data\.max_seq_length 128 exceeds the checkpoint's max_position_embeddings 64/.test(
        e.message,
      ),
  );
  // The token check compares ids, not just the count.
  const swapped = readFileSync(VOCAB, 'utf8').split('\n');
  [swapped[2000], swapped[2001]] = [swapped[2001], swapped[2000]];
  await writeFile(join(root, 'swapped.txt'), swapped.join('\n'));
  await assert.rejects(
    loadPretrainingInit(join(root, 'bare'), {
      vocabPath: join(root, 'swapped.txt'),
      maxSeqLength: 32,
      seed: 1,
    }),
    (e: unknown) =>
      e instanceof UserError &&
      /token 2000 is .* in the checkpoint's vocab\.txt but/.test(e.message),
  );
});

test('a pretrained checkpoint → export hf → import gives bitwise-identical MLM/NSP logits', async () => {
  const source = latestCheckpoint(join(root, 'run'))!;
  const out = join(root, 'run-hf');
  await exportHf({ checkpoint: join(root, 'run'), out, force: false });
  const a = await loadBertDirectory(source, { flag: '--checkpoint', require: 'exact' });
  const b = await loadBertDirectory(out, { flag: '--checkpoint', require: 'exact' });
  assert.deepEqual(b.config, a.config);
  assert.equal(b.lowercase, true);
  const batch = randomBatch(a.config, {
    seed: 3,
    batch: 2,
    seq: 12,
    predictions: 3,
    lengths: [12, 7],
  });
  const inputs = pretrainingTensors(batch);
  const oa = bertForPreTraining(a.model, inputs, { training: false });
  const ob = bertForPreTraining(b.model, inputs, { training: false });
  const bits = async (t: tf.Tensor): Promise<Uint32Array> =>
    new Uint32Array(Float32Array.from((await t.data()) as Float32Array).buffer);
  assert.deepEqual(await bits(ob.mlmLogits), await bits(oa.mlmLogits));
  assert.deepEqual(await bits(ob.nspLogits), await bits(oa.nspLogits));
  tf.dispose([oa, ob].flatMap((o) => [o.mlmLogits, o.nspLogits, o.pooledOutput, o.sequenceOutput]));
  disposeTensors(inputs);
  disposeParams(a.model.params);
  disposeParams(b.model.params);
});
