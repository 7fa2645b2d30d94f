/**
 * google-research/bert checkpoints in and out, without TensorFlow: the
 * committed fixture (written by real TensorFlow's tf.compat.v1.train.Saver,
 * see test/fixtures/python/google_bert_tf.py) loads and its outputs equal
 * the reference that transformers' BertForPreTraining computed from
 * tf.train.load_checkpoint; `--format tf` round-trips bitwise; a zip works;
 * bad inputs are one line with exit 1.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { packageRoot } from '../../src/paths.js';
import { bertForPreTraining } from '../../src/model/bert.js';
import { pretrainingTensors, disposeTensors } from '../../src/model/batch.js';
import { useTestBackend } from '../helpers/tf.js';
import { loadBertDirectory } from '../../src/export/load.js';
import { disposeParams } from '../../src/model/params.js';
import { readBundleIndex, readBundleTensors } from '../../src/io/tf-checkpoint/bundle.js';
import { isOptimizerState } from '../../src/google/names.js';
import { exportTf } from '../../src/export/google.js';
import { GOOGLE_FILES } from '../../src/google/checkpoint.js';
import { randomModel, smallConfig } from '../model/helpers.js';
import { TINY_VOCAB, writeCheckpoint } from '../export/helpers.js';
import { buildZip } from '../helpers/zip.js';
import {
  batchOf,
  compareWithReference,
  FIXTURE,
  INPUTS,
  jsonLines,
  REFERENCE,
  type InputRow,
  type ReferenceRow,
} from './helpers.js';

const bin = join(packageRoot, 'bin', 'bert.js');
function bert(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: packageRoot,
    env: { ...process.env, ...env },
  });
  const err = r.stderr
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('====') && !l.startsWith('Hi, looks like'));
  return { code: r.status, out: r.stdout, err };
}

let scratch = '';
let cacheEnv: NodeJS.ProcessEnv = {};
const savedCache = process.env.BERT_CACHE_DIR;
before(async () => {
  await useTestBackend();
  scratch = await mkdtemp(join(tmpdir(), 'bert-google-'));
  cacheEnv = { BERT_CACHE_DIR: join(scratch, 'cache') };
  process.env.BERT_CACHE_DIR = cacheEnv.BERT_CACHE_DIR;
});
after(async () => {
  if (savedCache === undefined) delete process.env.BERT_CACHE_DIR;
  else process.env.BERT_CACHE_DIR = savedCache;
  await rm(scratch, { recursive: true, force: true });
});

test('the TensorFlow-written fixture loads with Google’s config and equals the transformers reference to 1e-5', async (t) => {
  const loaded = await loadBertDirectory(FIXTURE, { flag: '--from', require: 'exact' });
  assert.equal(loaded.heads, 'pretraining');
  assert.equal(loaded.config.hidden_act, 'gelu_new');
  assert.equal(loaded.config.hidden_size, 32);
  assert.equal(loaded.vocab.size, 40);
  assert.equal(loaded.lowercase, true);
  const diff = compareWithReference(
    loaded,
    jsonLines<InputRow>(INPUTS),
    jsonLines<ReferenceRow>(REFERENCE),
  );
  t.diagnostic(`max |ours − reference|: ${JSON.stringify(diff)}`);
  for (const [k, v] of Object.entries(diff)) assert.ok(v <= 1e-5, `${k}: ${v}`);
  disposeParams(loaded.model.params);
});

/** Every model variable of a checkpoint prefix (no optimizer state), as bits. */
async function modelVariables(
  prefix: string,
): Promise<Map<string, { shape: number[]; bits: number[] }>> {
  const index = await readBundleIndex(prefix);
  const entries = index.entries.filter((e) => !isOptimizerState(e.name));
  const data = await readBundleTensors(index, entries);
  return new Map(
    entries.map((e) => [
      e.name,
      {
        shape: e.shape,
        bits: [...new Uint32Array(Float32Array.from(data.get(e.name)!.data).buffer)],
      },
    ]),
  );
}

test('TensorFlow → bert → --format tf is bitwise, and a second round writes identical files', async () => {
  const first = join(scratch, 'round1');
  const r = await exportTf({ checkpoint: FIXTURE, out: first, force: false });
  assert.deepEqual(readdirSync(first).sort(), [...GOOGLE_FILES].sort());
  const original = await modelVariables(join(FIXTURE, 'bert_model.ckpt'));
  const exported = await modelVariables(join(first, 'bert_model.ckpt'));
  assert.equal(r.variables, original.size);
  assert.deepEqual([...exported.keys()].sort(), [...original.keys()].sort());
  for (const [name, v] of original) assert.deepEqual(exported.get(name), v, name);
  // Optimizer slots and global_step stay behind.
  assert.ok(
    (await readBundleIndex(join(FIXTURE, 'bert_model.ckpt'))).entries.some((e) =>
      isOptimizerState(e.name),
    ),
  );
  assert.ok(
    !(await readBundleIndex(join(first, 'bert_model.ckpt'))).entries.some((e) =>
      isOptimizerState(e.name),
    ),
  );
  assert.deepEqual(
    JSON.parse(readFileSync(join(first, 'bert_config.json'), 'utf8')),
    JSON.parse(readFileSync(join(FIXTURE, 'bert_config.json'), 'utf8')),
  );
  assert.equal(
    readFileSync(join(first, 'vocab.txt'), 'utf8'),
    readFileSync(join(FIXTURE, 'vocab.txt'), 'utf8'),
  );
  const second = join(scratch, 'round2');
  await exportTf({ checkpoint: first, out: second, force: false });
  for (const f of GOOGLE_FILES)
    assert.ok(readFileSync(join(second, f)).equals(readFileSync(join(first, f))), f);
});

test('one of our models → --format tf → import gives bitwise-identical outputs (classifier heads too)', async () => {
  const config = smallConfig({ vocab_size: TINY_VOCAB.length, hidden_act: 'gelu_new' });
  for (const heads of ['pretraining', 'classification', 'question_answering'] as const) {
    const model = randomModel(config, { seed: 8, heads, numLabels: 3 });
    const ckpt = await writeCheckpoint(join(scratch, `ours-${heads}`), model, config);
    const out = join(scratch, `ours-${heads}-tf`);
    await exportTf({ checkpoint: ckpt, out, force: false });
    const names = [...(await modelVariables(join(out, 'bert_model.ckpt'))).keys()];
    if (heads === 'classification')
      assert.ok(names.includes('output_weights') && names.includes('output_bias'));
    if (heads === 'question_answering') assert.ok(names.includes('cls/squad/output_weights'));
    const loaded = await loadBertDirectory(out, { flag: '--checkpoint', require: 'exact' });
    assert.equal(loaded.heads, heads);
    assert.deepEqual(loaded.config, config);
    for (const [name, v] of model.params) {
      const a = new Uint32Array(Float32Array.from(v.dataSync()).buffer);
      const b = new Uint32Array(
        Float32Array.from(loaded.model.params.get(name)!.dataSync()).buffer,
      );
      assert.deepEqual(b, a, name);
    }
    disposeParams(model.params);
    disposeParams(loaded.model.params);
  }
  // An exact-GELU model has no Google equivalent: exported as "gelu" (tanh) with a note saying so.
  const erf = smallConfig({ vocab_size: TINY_VOCAB.length, hidden_act: 'gelu' });
  const model = randomModel(erf, { seed: 9 });
  const ckpt = await writeCheckpoint(join(scratch, 'ours-erf'), model, erf);
  disposeParams(model.params);
  const r = await exportTf({ checkpoint: ckpt, out: join(scratch, 'ours-erf-tf'), force: false });
  assert.equal(r.notes.length, 1);
  assert.match(r.notes[0], /exact \(erf\) GELU/);
  const written = JSON.parse(
    readFileSync(join(scratch, 'ours-erf-tf', 'bert_config.json'), 'utf8'),
  ) as Record<string, unknown>;
  assert.equal(written.hidden_act, 'gelu');
});

test('the zip as Google publishes it (a folder inside) loads through the cache, unpacked once', async () => {
  const zip = join(scratch, 'uncased_L-2_H-32_A-4.zip');
  const members = readdirSync(FIXTURE).map((f) => ({
    name: `uncased_L-2_H-32_A-4/${f}`,
    data: readFileSync(join(FIXTURE, f)),
  }));
  writeFileSync(zip, buildZip([{ name: 'uncased_L-2_H-32_A-4/' }, ...members]));
  const a = await loadBertDirectory(zip, { flag: '--from', require: 'exact' });
  assert.ok(a.dir.startsWith(join(scratch, 'cache', 'models', 'unpacked')), a.dir);
  const b = await loadBertDirectory(zip, { flag: '--from', require: 'exact' });
  assert.equal(b.dir, a.dir);
  assert.deepEqual(
    [...b.model.params.get('bert.pooler.dense.weight')!.dataSync()],
    [...a.model.params.get('bert.pooler.dense.weight')!.dataSync()],
  );
  disposeParams(a.model.params);
  disposeParams(b.model.params);
});

test('bad inputs: truncated .data, corrupted index, zip without a checkpoint, vocab/config mismatch, unknown variable → one line, exit 1', async () => {
  const copy = (name: string): string => {
    const dir = join(scratch, name);
    cpSync(FIXTURE, dir, { recursive: true });
    return dir;
  };
  const truncated = copy('bad-truncated');
  await truncate(join(truncated, 'bert_model.ckpt.data-00000-of-00001'), 1000);
  const corrupt = copy('bad-index');
  const idx = readFileSync(join(corrupt, 'bert_model.ckpt.index'));
  idx[100] ^= 0x20;
  writeFileSync(join(corrupt, 'bert_model.ckpt.index'), idx);
  const noCkpt = join(scratch, 'bad.zip');
  writeFileSync(
    noCkpt,
    buildZip([{ name: 'vocab.txt', data: readFileSync(join(FIXTURE, 'vocab.txt')) }]),
  );
  const vocab = copy('bad-vocab');
  writeFileSync(join(vocab, 'vocab.txt'), TINY_VOCAB.slice(0, 30).join('\n') + '\n');
  const data = copy('bad-data');
  const d = readFileSync(join(data, 'bert_model.ckpt.data-00000-of-00001'));
  // A model variable's bytes (optimizer slots are never read).
  const pooler = (await readBundleIndex(join(FIXTURE, 'bert_model.ckpt'))).entries.find(
    (e) => e.name === 'bert/pooler/dense/kernel',
  )!;
  d[pooler.offset + 5] ^= 0x01;
  writeFileSync(join(data, 'bert_model.ckpt.data-00000-of-00001'), d);
  const shapes = copy('bad-config');
  const cfg = JSON.parse(readFileSync(join(shapes, 'bert_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  writeFileSync(
    join(shapes, 'bert_config.json'),
    JSON.stringify({ ...cfg, intermediate_size: 48 }),
  );
  /** `bert export --format tf` from `source`, to a folder that must never be written. */
  const exportTf = (source: string) =>
    bert(
      cacheEnv,
      'export',
      '--checkpoint',
      source,
      '--format',
      'tf',
      '--out',
      join(scratch, 'never'),
      '--backend',
      'cpu',
    );
  const expected: Array<[string, RegExp]> = [
    [
      shapes,
      /bert_model\.ckpt\.index: bert\/encoder\/layer_0\/intermediate\/dense\/kernel is float32 \[32,64\], expected float32 \[32,48\], .* \(does bert_config\.json belong to this checkpoint\?\)/,
    ],
    [
      truncated,
      /bert_model\.ckpt\.data-00000-of-00001: truncated \(1000 bytes, the index needs 273920\)/,
    ],
    [corrupt, /bert_model\.ckpt\.index: corrupted checkpoint index \(.*checksum mismatch\)/],
    [
      noCkpt,
      /--checkpoint .*bad\.zip: no bert_config\.json with a \*\.ckpt\.index beside it in the zip/,
    ],
    [vocab, /vocab\.txt: 30 tokens but bert_config\.json says vocab_size 40/],
    [data, /bert\/pooler\/dense\/kernel fails its CRC-32C check \(corrupted data\)/],
  ];
  for (const [source, message] of expected) {
    const r = exportTf(source);
    assert.equal(r.code, 1, `${source}: ${r.err.join(' | ')}`);
    assert.equal(r.err.length, 1, r.err.join('\n'));
    assert.match(r.err[0], message);
  }
  // A variable google-research/bert does not have.
  const { writeBundle } = await import('../../src/io/tf-checkpoint/bundle.js');
  const odd = copy('bad-unknown');
  const index = await readBundleIndex(join(FIXTURE, 'bert_model.ckpt'));
  const tensors = await readBundleTensors(
    index,
    index.entries.filter((e) => !isOptimizerState(e.name)),
  );
  await writeBundle(join(odd, 'bert_model.ckpt'), [
    ...[...tensors].map(([name, v]) => ({
      name,
      dtype: 'float32' as const,
      shape: v.shape,
      data: v.data as Float32Array,
    })),
    {
      name: 'bert/encoder/layer_0/attention/self/rotary/kernel',
      dtype: 'float32',
      shape: [1],
      data: new Float32Array(1),
    },
  ]);
  copyFileSync(join(FIXTURE, 'vocab.txt'), join(odd, 'vocab.txt'));
  const r = exportTf(odd);
  assert.equal(r.code, 1);
  assert.deepEqual(r.err.length, 1);
  assert.match(
    r.err[0],
    /unknown variable\(s\) bert\/encoder\/layer_0\/attention\/self\/rotary\/kernel/,
  );
});

test('a Google checkpoint (tanh GELU) trains: every parameter gets a finite gradient', async () => {
  const loaded = await loadBertDirectory(FIXTURE, { flag: '--from', require: 'exact' });
  const rows = jsonLines<InputRow>(INPUTS);
  const inputs = pretrainingTensors(batchOf(rows));
  const { value, grads } = tf.variableGrads(() => {
    const out = bertForPreTraining(loaded.model, inputs, { training: false });
    return tf.add(tf.sum(tf.square(out.mlmLogits)), tf.sum(out.nspLogits)) as tf.Scalar;
  }, [...loaded.model.params.values()]);
  assert.equal(Object.keys(grads).length, loaded.model.params.size);
  for (const [name, g] of Object.entries(grads)) {
    const d = g.dataSync();
    assert.ok(d.every(Number.isFinite), name);
  }
  const layer0 =
    grads[
      loaded.model.params.get('bert.encoder.layer.0.intermediate.dense.weight')!.name
    ].dataSync();
  assert.ok(layer0.some((v) => v !== 0));
  tf.dispose([value, ...Object.values(grads)]);
  disposeTensors(inputs);
  disposeParams(loaded.model.params);
});

test('a run_pretraining.py output_dir: the checkpoint its `checkpoint` file names; without it, a line asking for one', async () => {
  const dir = join(scratch, 'run-pretraining-out');
  cpSync(FIXTURE, dir, { recursive: true });
  for (const step of [10, 20]) {
    for (const ext of ['index', 'data-00000-of-00001']) {
      copyFileSync(join(FIXTURE, `bert_model.ckpt.${ext}`), join(dir, `model.ckpt-${step}.${ext}`));
    }
  }
  rmSync(join(dir, 'bert_model.ckpt.index'));
  rmSync(join(dir, 'bert_model.ckpt.data-00000-of-00001'));
  // The older one is damaged: loading works only if the latest is picked.
  await truncate(join(dir, 'model.ckpt-10.data-00000-of-00001'), 10);
  writeFileSync(
    join(dir, 'checkpoint'),
    'model_checkpoint_path: "model.ckpt-20"\nall_model_checkpoint_paths: "model.ckpt-10"\nall_model_checkpoint_paths: "model.ckpt-20"\n',
  );
  const loaded = await loadBertDirectory(dir, { flag: '--from', require: 'exact' });
  assert.equal(loaded.config.hidden_size, 32);
  disposeParams(loaded.model.params);
  const prefix = await loadBertDirectory(join(dir, 'model.ckpt-20'), {
    flag: '--from',
    require: 'exact',
  });
  disposeParams(prefix.model.params);
  rmSync(join(dir, 'checkpoint'));
  await assert.rejects(
    loadBertDirectory(dir, { flag: '--from', require: 'exact' }),
    /no bert_config\.json \+ \*\.index checkpoint \(with several checkpoints, name one: .*model\.ckpt-N\)/,
  );
});
