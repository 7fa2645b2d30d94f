/**
 * `bert export --format hf`: the directory's files, names and shapes, the
 * round trip checkpoint → export → import with bitwise-identical logits, and
 * the refusals (existing --out, wrong hidden_act, vocab size, missing tensors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { randomBatch, randomModel, smallConfig } from '../model/helpers.js';
import { bertForPreTraining, bertForSequenceClassification } from '../../src/model/bert.js';
import { pretrainingTensors, disposeTensors } from '../../src/model/batch.js';
import { disposeParams } from '../../src/model/params.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { UserError } from '../../src/errors.js';
import { exportHf, HF_FILES } from '../../src/export/hf.js';
import { loadBertDirectory } from '../../src/export/load.js';
import { TINY_VOCAB, scratchOnTestBackend, writeCheckpoint } from './helpers.js';
import { Vocab } from '../../src/tokenizer/vocab.js';
import { tokenizerJsonText } from '../../src/tokenizer/tokenizer-json.js';

const scratch = scratchOnTestBackend('bert-export-');

const config = smallConfig({ vocab_size: TINY_VOCAB.length });

async function bitsOf(t: tf.Tensor): Promise<Uint32Array> {
  return new Uint32Array(Float32Array.from((await t.data()) as Float32Array).buffer);
}

test('export → import gives bitwise-identical MLM, NSP and pooled outputs (BertForPreTraining)', async () => {
  const model = randomModel(config, { seed: 3 });
  const ckpt = await writeCheckpoint(join(scratch.dir, 'pt-ckpt'), model, config);
  const out = join(scratch.dir, 'pt-hf');
  const r = await exportHf({ checkpoint: ckpt, out, force: false });
  assert.equal(r.architecture, 'BertForPreTraining');
  const loaded = await loadBertDirectory(out, { flag: '--checkpoint', require: 'exact' });
  assert.equal(loaded.heads, 'pretraining');
  assert.deepEqual(loaded.config, config);
  const batch = randomBatch(config, {
    seed: 9,
    batch: 3,
    seq: 10,
    predictions: 4,
    lengths: [10, 6, 8],
  });
  const inputs = pretrainingTensors(batch);
  const a = bertForPreTraining(model, inputs, { training: false });
  const b = bertForPreTraining(loaded.model, inputs, { training: false });
  for (const k of ['mlmLogits', 'nspLogits', 'pooledOutput', 'sequenceOutput'] as const) {
    assert.deepEqual(await bitsOf(b[k]), await bitsOf(a[k]), `${k} differs after the round trip`);
  }
  tf.dispose([a, b].flatMap((o) => [o.mlmLogits, o.nspLogits, o.pooledOutput, o.sequenceOutput]));
  disposeTensors(inputs);
  disposeParams(model.params);
  disposeParams(loaded.model.params);
});

test('export → import of a fine-tuned classifier gives bitwise-identical logits and keeps the labels', async () => {
  const model = randomModel(config, { seed: 4, heads: 'classification', numLabels: 3 });
  const labels = ['entailment', 'neutral', 'contradiction'];
  const ckpt = await writeCheckpoint(join(scratch.dir, 'cls-ckpt'), model, config, {
    num_labels: 3,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    finetuning_task: 'mnli',
    problem_type: 'single_label_classification',
    bert: { task: 'mnli', data_dir: '/data/glue', max_seq_length: 128, lowercase: true },
  });
  const out = join(scratch.dir, 'cls-hf');
  const r = await exportHf({ checkpoint: ckpt, out, force: false });
  assert.equal(r.architecture, 'BertForSequenceClassification');
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(cfg.architectures, ['BertForSequenceClassification']);
  assert.equal(cfg.num_labels, 3);
  assert.deepEqual(cfg.id2label, { '0': 'entailment', '1': 'neutral', '2': 'contradiction' });
  assert.deepEqual(cfg.label2id, { entailment: 0, neutral: 1, contradiction: 2 });
  assert.equal(cfg.finetuning_task, 'mnli');
  const loaded = await loadBertDirectory(out, { flag: '--checkpoint', require: 'exact' });
  assert.equal(loaded.heads, 'classification');
  assert.equal(loaded.model.numLabels, 3);
  const batch = randomBatch(config, { seed: 2, batch: 2, seq: 9, predictions: 2, lengths: [9, 5] });
  const inputs = pretrainingTensors(batch);
  const a = bertForSequenceClassification(model, inputs, { training: false });
  const b = bertForSequenceClassification(loaded.model, inputs, { training: false });
  assert.deepEqual(await bitsOf(b.logits), await bitsOf(a.logits));
  tf.dispose([
    a.logits,
    b.logits,
    a.pooledOutput,
    b.pooledOutput,
    a.sequenceOutput,
    b.sequenceOutput,
  ]);
  disposeTensors(inputs);
  disposeParams(model.params);
  disposeParams(loaded.model.params);
});

test('the exported directory holds exactly the HF files, HF names and [out, in] shapes, no optimizer state', async () => {
  const out = join(scratch.dir, 'pt-hf');
  assert.deepEqual(readdirSync(out).sort(), [...HF_FILES].sort());
  const st = await readSafetensors(join(out, 'model.safetensors'));
  assert.equal(st.metadata.format, 'pt');
  const names = [...st.tensors.keys()];
  // The decoder is tied (transformers re-ties it on load), position_ids is a buffer: neither is written.
  assert.ok(!names.includes('cls.predictions.decoder.weight'));
  assert.ok(!names.includes('bert.embeddings.position_ids'));
  assert.ok(names.every((n) => n.startsWith('bert.') || n.startsWith('cls.')));
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const shape = (n: string): number[] => st.tensors.get(n)!.shape;
  assert.deepEqual(shape('bert.embeddings.word_embeddings.weight'), [config.vocab_size, H]);
  assert.deepEqual(shape('bert.encoder.layer.1.intermediate.dense.weight'), [I, H]);
  assert.deepEqual(shape('bert.encoder.layer.1.output.dense.weight'), [H, I]);
  assert.deepEqual(shape('cls.predictions.bias'), [config.vocab_size]);
  assert.deepEqual(shape('cls.seq_relationship.weight'), [2, H]);
  assert.equal(names.length, 5 + 16 * config.num_hidden_layers + 2 + 7);

  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(cfg.model_type, 'bert');
  assert.deepEqual(cfg.architectures, ['BertForPreTraining']);
  // layer_norm is what model_type says ("bert": post-LN), not a key of its own.
  for (const k of Object.keys(config))
    if (k !== 'layer_norm') assert.equal(cfg[k], config[k as keyof typeof config], k);
  assert.equal(cfg.layer_norm, undefined);
  assert.equal(cfg.id2label, undefined);

  const tc = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(tc.tokenizer_class, 'BertTokenizer');
  assert.equal(tc.do_lower_case, true);
  assert.equal(tc.model_max_length, config.max_position_embeddings);
  const sm = JSON.parse(readFileSync(join(out, 'special_tokens_map.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.deepEqual(sm, {
    unk_token: '[UNK]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
  });
  const tj = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')) as {
    normalizer: { lowercase: boolean };
    model: { vocab: Record<string, number> };
  };
  assert.equal(tj.normalizer.lowercase, true);
  assert.equal(Object.keys(tj.model.vocab).length, TINY_VOCAB.length);
  assert.equal(readFileSync(join(out, 'vocab.txt'), 'utf8'), TINY_VOCAB.join('\n') + '\n');
});

test('a cased vocabulary exports do_lower_case false', async () => {
  const cased = [...TINY_VOCAB.slice(0, -2), 'House', 'Tree'];
  const model = randomModel(config, { seed: 8 });
  const ckpt = await writeCheckpoint(join(scratch.dir, 'cased-ckpt'), model, config, {}, cased);
  disposeParams(model.params);
  const out = join(scratch.dir, 'cased-hf');
  await exportHf({ checkpoint: ckpt, out, force: false });
  const tc = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(tc.do_lower_case, false);
});

test('export refuses an existing --out without --force, and replaces it whole with --force', async () => {
  const model = randomModel(config, { seed: 5 });
  const ckpt = await writeCheckpoint(join(scratch.dir, 'force-ckpt'), model, config);
  disposeParams(model.params);
  const out = join(scratch.dir, 'force-hf');
  await writeFile(join(scratch.dir, 'placeholder'), '');
  await exportHf({ checkpoint: ckpt, out, force: false });
  await writeFile(join(out, 'stale.txt'), 'old');
  await assert.rejects(
    exportHf({ checkpoint: ckpt, out, force: false }),
    (e: unknown) => e instanceof UserError && /already exists.*--force/.test(e.message),
  );
  assert.ok(existsSync(join(out, 'stale.txt')), 'a refused export must not touch --out');
  await exportHf({ checkpoint: ckpt, out, force: true });
  assert.deepEqual(readdirSync(out).sort(), [...HF_FILES].sort());
  // No temporary directories are left beside it.
  assert.deepEqual(
    readdirSync(scratch.dir).filter((n) => n.includes('.tmp-')),
    [],
  );
});

async function brokenCheckpoint(
  name: string,
  edit: (cfg: Record<string, unknown>) => void,
  vocab = TINY_VOCAB,
) {
  const model = randomModel(config, { seed: 6 });
  const dir = await writeCheckpoint(join(scratch.dir, name), model, config, {}, vocab);
  disposeParams(model.params);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(cfg);
  await writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}

test('import refuses a hidden_act it does not implement, naming the file and the value', async () => {
  const dir = await brokenCheckpoint('relu', (c) => {
    c.hidden_act = 'relu';
  });
  await assert.rejects(
    loadBertDirectory(dir, { flag: '--from', require: 'exact' }),
    (e: unknown) =>
      e instanceof UserError &&
      /config\.json: hidden_act must be "gelu" or "gelu_new", got "relu"/.test(e.message),
  );
});

test('import refuses a vocab.txt whose size differs from vocab_size', async () => {
  const dir = await brokenCheckpoint('short-vocab', () => undefined, TINY_VOCAB.slice(0, -1));
  await assert.rejects(
    loadBertDirectory(dir, { flag: '--from', require: 'exact' }),
    (e: unknown) =>
      e instanceof UserError &&
      /vocab\.txt has 39 tokens but config\.json says vocab_size 40/.test(e.message),
  );
});

test('import lists the missing tensors and the shape mismatches', async () => {
  // A config that asks for more layers and a wider vocabulary than the weights have.
  const dir = await brokenCheckpoint(
    'missing',
    (c) => {
      c.num_hidden_layers = 3;
      c.vocab_size = 41;
    },
    [...TINY_VOCAB, 'extra'],
  );
  await assert.rejects(
    loadBertDirectory(dir, { flag: '--from', require: 'exact' }),
    (e: unknown) =>
      e instanceof UserError &&
      /missing bert\.encoder\.layer\.2\.attention\.self\.query\.weight, .*\(16 in all\)/.test(
        e.message,
      ) &&
      /shape mismatch: bert\.embeddings\.word_embeddings\.weight is float32 \[40,16\], expected float32 \[41,16\]/.test(
        e.message,
      ),
  );
});

test('export refuses a directory that is not a checkpoint, and a model_type other than bert', async () => {
  await assert.rejects(
    exportHf({
      checkpoint: join(scratch.dir, 'nope'),
      out: join(scratch.dir, 'nope-out'),
      force: false,
    }),
    (e: unknown) =>
      e instanceof UserError && /--checkpoint .*nope: no such directory/.test(e.message),
  );
  const dir = await brokenCheckpoint('roberta', (c) => {
    c.model_type = 'roberta';
  });
  await assert.rejects(
    exportHf({ checkpoint: dir, out: join(scratch.dir, 'roberta-out'), force: false }),
    (e: unknown) =>
      e instanceof UserError && /model_type is "roberta", expected "bert"/.test(e.message),
  );
  assert.ok(!existsSync(join(scratch.dir, 'roberta-out')));
});

test('a directory with tokenizer.json but no vocab.txt (transformers ≥ 5 save_pretrained) loads and exports a vocab.txt', async () => {
  const model = randomModel(config, { seed: 12 });
  const dir = await writeCheckpoint(join(scratch.dir, 'v5-style'), model, config);
  disposeParams(model.params);
  await rm(join(dir, 'vocab.txt'));
  await writeFile(
    join(dir, 'tokenizer.json'),
    tokenizerJsonText(new Vocab(TINY_VOCAB), { lowercase: true }),
  );
  const out = join(scratch.dir, 'v5-style-hf');
  await exportHf({ checkpoint: dir, out, force: false });
  assert.equal(readFileSync(join(out, 'vocab.txt'), 'utf8'), TINY_VOCAB.join('\n') + '\n');
  await rm(join(dir, 'tokenizer.json'));
  await assert.rejects(
    loadBertDirectory(dir, { flag: '--from', require: 'exact' }),
    (e: unknown) =>
      e instanceof UserError && /no vocab\.txt \(nor tokenizer\.json\)/.test(e.message),
  );
});
