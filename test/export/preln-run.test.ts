/**
 * A pre-LN model end to end: `model.layer_norm: pre` pretrains a few steps
 * and resumes (finite losses, roberta-prelayernorm checkpoints),
 * `finetune --from` that run fine-tunes SST-2 with the pretrained encoder,
 * `bert export` of the fine-tuned checkpoint reads back to the same logits,
 * and eval, predict's loading and embed accept the pre-LN checkpoints.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadConfig } from '../../src/config/load.js';
import type { FinetuneConfig } from '../../src/config/types.js';
import { pretrain } from '../../src/tasks/pretrain/pretrain.js';
import { finetune } from '../../src/tasks/glue/finetune.js';
import { findGlueTask } from '../../src/tasks/glue/tasks.js';
import { latestCheckpoint, loadCheckpoint } from '../../src/train/checkpoint.js';
import { selectBackend, type BackendChoice } from '../../src/backend/select.js';
import { exportHf } from '../../src/export/hf.js';
import { loadBertDirectory } from '../../src/export/load.js';
import { bertForSequenceClassification } from '../../src/model/bert.js';
import { encoderTensors, disposeTensors } from '../../src/model/batch.js';
import { disposeParams } from '../../src/model/params.js';
import { paddedBatch, runEmbed } from '../../src/export/embed.js';
import { evaluateCheckpoint, loadTaskModel } from '../../src/tasks/registry.js';
import { BertTokenizer } from '../../src/tokenizer/bert-tokenizer.js';
import { packageRoot } from '../../src/paths.js';
import type { BertEvent } from '../../src/ui/events.js';
import { tinyPretrainConfig } from '../helpers/tiny-pretrain.js';

const root = mkdtempSync(join(tmpdir(), 'bert-preln-run-'));
const shards = join(root, 'shards');
let backend: BackendChoice;

function quiet(): { emit(e: BertEvent): void; close(): Promise<void>; events: BertEvent[] } {
  const events: BertEvent[] = [];
  return { events, emit: (e) => void events.push(e), close: async () => undefined };
}

before(async () => {
  backend = await selectBackend((process.env.BERT_TEST_BACKEND as 'wasm') ?? 'wasm');
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('layer_norm: pre pretrains, fine-tunes from its checkpoint, and exports', async () => {
  const pretrainRun = join(root, 'pretrain');
  const pretrainConfig = tinyPretrainConfig(shards, [
    'model.layer_norm=pre',
    'train.max_steps=4',
    'train.save_every=2',
    'train.log_every=1',
    'train.lr=1e-3',
  ]);
  const run = async (resumeFrom: string | null, stopAtStep: number | null) => {
    const reporter = quiet();
    const result = await pretrain({
      config: pretrainConfig,
      runDir: pretrainRun,
      resumeFrom,
      stopAtStep,
      reporter,
      stopRequested: () => false,
      backend,
    });
    return { result, losses: reporter.events.flatMap((e) => (e.type === 'step' ? [e.loss] : [])) };
  };
  // Two steps, then a resume from that checkpoint to the end.
  const first = await run(null, 2);
  assert.equal(first.result.step, 2);
  const second = await run(latestCheckpoint(pretrainRun), null);
  assert.equal(second.result.status, 'completed');
  assert.equal(second.result.step, 4);
  const losses = [...first.losses, ...second.losses];
  assert.equal(losses.length, 4);
  assert.ok(
    losses.every((l) => Number.isFinite(l) && l > 0),
    `losses ${losses}`,
  );
  const ckptDir = latestCheckpoint(pretrainRun)!;
  const ckpt = await loadCheckpoint(ckptDir);
  assert.equal(ckpt.config.model_type, 'roberta-prelayernorm');
  assert.ok(ckpt.model.has('roberta_prelayernorm.LayerNorm.weight'));
  assert.ok(ckpt.model.has('roberta_prelayernorm.encoder.layer.0.intermediate.LayerNorm.weight'));

  const config = loadConfig<FinetuneConfig>(
    'finetune',
    join(packageRoot, 'configs/finetune/glue.yaml'),
    {
      sets: [
        `from=${pretrainRun}`,
        `data_dir=${join(packageRoot, 'data/glue')}`,
        'max_seq_length=32',
        'max_train_examples=32',
        'train.batch_size=8',
        'train.max_steps=2',
        'train.lr=1e-3',
      ],
    },
  ).config;
  const ft = await finetune({
    config,
    task: findGlueTask('glue/sst2')!,
    runDir: join(root, 'sst2'),
    stopAtStep: null,
    reporter: quiet(),
    stopRequested: () => false,
    backend,
  });
  assert.equal(ft.status, 'completed');
  const tuned = latestCheckpoint(join(root, 'sst2'))!;
  const cfg = JSON.parse(readFileSync(join(tuned, 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(cfg.model_type, 'roberta-prelayernorm');
  assert.deepEqual(cfg.architectures, ['RobertaPreLayerNormForSequenceClassification']);

  const out = join(root, 'sst2-hf');
  const ex = await exportHf({ checkpoint: tuned, out, force: false });
  assert.equal(ex.architecture, 'RobertaPreLayerNormForSequenceClassification');
  const a = await loadBertDirectory(tuned, { flag: '--checkpoint', require: 'exact' });
  const b = await loadBertDirectory(out, { flag: '--checkpoint', require: 'exact' });
  assert.equal(a.config.layer_norm, 'pre');
  assert.deepEqual(b.config, a.config);
  // The pretrained encoder was the starting point: its final LayerNorm is not a fresh one (ones).
  const gain = (await a.model.params.get('bert.LayerNorm.weight')!.data()) as Float32Array;
  assert.ok(gain.some((g) => g !== 1));
  const tokenizer = new BertTokenizer(a.vocab, { lowercase: a.lowercase });
  const batch = paddedBatch([tokenizer.encode('a fine film'), tokenizer.encode('dull and slow')]);
  const inputs = encoderTensors(batch);
  const la = bertForSequenceClassification(a.model, inputs, { training: false });
  const lb = bertForSequenceClassification(b.model, inputs, { training: false });
  assert.deepEqual(await lb.logits.data(), await la.logits.data());
  tf.dispose([la, lb].flatMap((o) => [o.logits, o.pooledOutput, o.sequenceOutput]));

  // bert eval, the checkpoint loading of bert predict, and bert embed read the pre-LN checkpoints too.
  const [dev] = await evaluateCheckpoint({
    checkpoint: tuned,
    split: 'dev',
    outDir: join(root, 'eval'),
  });
  assert.equal(dev.examples, 872);
  assert.ok(dev.metrics.accuracy! >= 0 && dev.metrics.accuracy! <= 1);
  const taskModel = await loadTaskModel(tuned);
  assert.equal(taskModel.model.config.layer_norm, 'pre');
  disposeParams(taskModel.model.params);
  await writeFile(join(root, 'lines.txt'), 'a fine film\ndull and slow\n');
  const embedded = await runEmbed({
    checkpoint: pretrainRun,
    input: join(root, 'lines.txt'),
    pooling: 'cls',
    out: join(root, 'emb.npy'),
    batchSize: 2,
    reporter: quiet(),
  });
  assert.equal(embedded.sentences, 2);
  assert.equal(embedded.dims, 32);
  disposeTensors(inputs);
  disposeParams(a.model.params);
  disposeParams(b.model.params);
});
