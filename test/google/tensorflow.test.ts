/**
 * Against real TensorFlow (skipped, with the reason, where the Python named by
 * BERT_TF_PYTHON (default python3) cannot import tensorflow, torch and
 * transformers): a fresh checkpoint written by tf.compat.v1.train.Saver loads
 * here and `bert embed` / MLM / NSP equal transformers' BertForPreTraining
 * loaded from tf.train.load_checkpoint to 1e-5; `bert export --format tf`
 * is read by tf.train.load_checkpoint with every Google name, shape and value.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { useTestBackend } from '../helpers/tf.js';
import { loadBertDirectory } from '../../src/export/load.js';
import { disposeParams } from '../../src/model/params.js';
import { readBundleIndex, readBundleTensors } from '../../src/io/tf-checkpoint/bundle.js';
import { isOptimizerState } from '../../src/google/names.js';
import { BertTokenizer } from '../../src/tokenizer/bert-tokenizer.js';
import { parseNpy } from '../../src/export/npy.js';
import { compareWithReference, PYTHON_TOOL, type InputRow, type ReferenceRow } from './helpers.js';

const PYTHON = process.env.BERT_TF_PYTHON ?? 'python3';

function tensorflowMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import tensorflow, torch, transformers'], {
    encoding: 'utf8',
  });
  if (r.error) return `${PYTHON}: ${r.error.message} (set BERT_TF_PYTHON)`;
  return r.status === 0
    ? null
    : `${PYTHON} cannot import tensorflow, torch and transformers: ${r.stderr.trim().split('\n').pop()}`;
}
const skip = tensorflowMissing();

const python = (...args: string[]): string =>
  execFileSync(PYTHON, [PYTHON_TOOL, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });

const bin = join(packageRoot, 'bin', 'bert.js');

let scratch = '';
let ckpt = '';
before(async () => {
  if (skip) return;
  await useTestBackend();
  scratch = await mkdtemp(join(tmpdir(), 'bert-google-tf-'));
  ckpt = join(scratch, 'fresh');
  python('write', ckpt, '--seed', '99');
});
after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const LINES = [
  'the cat sat on the mat .',
  'he ran fast !',
  'a big red house and a small tree , unlike the day',
];

test(
  'a fresh TensorFlow checkpoint: MLM, NSP, pooled and bert embed equal transformers from tf.train.load_checkpoint to 1e-5',
  { skip: skip ?? false },
  async (t) => {
    const loaded = await loadBertDirectory(ckpt, { flag: '--from', require: 'exact' });
    const tokenizer = new BertTokenizer(loaded.vocab, { lowercase: loaded.lowercase });
    const encodings = LINES.map((l) => tokenizer.encode(l));
    const T = Math.max(...encodings.map((e) => e.ids.length));
    const rows: InputRow[] = encodings.map((e) => {
      const pad = T - e.ids.length;
      return {
        input_ids: [...e.ids, ...new Array<number>(pad).fill(0)],
        token_type_ids: [...e.tokenTypeIds, ...new Array<number>(pad).fill(0)],
        attention_mask: [
          ...new Array<number>(e.ids.length).fill(1),
          ...new Array<number>(pad).fill(0),
        ],
      };
    });
    assert.ok(
      !rows.some((r) => r.input_ids.includes(1)),
      'no [UNK]: the lines use the fixture vocabulary',
    );
    const inputs = join(scratch, 'inputs.jsonl');
    writeFileSync(inputs, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const reference = python('forward', ckpt, inputs)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ReferenceRow);
    const diff = compareWithReference(loaded, rows, reference);
    t.diagnostic(`max |ours − transformers(tf.train.load_checkpoint)|: ${JSON.stringify(diff)}`);
    for (const [k, v] of Object.entries(diff)) assert.ok(v <= 1e-5, `${k}: ${v}`);
    disposeParams(loaded.model.params);

    const text = join(scratch, 'lines.txt');
    writeFileSync(text, LINES.join('\n') + '\n');
    for (const pooling of ['cls', 'pooler'] as const) {
      const out = join(scratch, `e-${pooling}.npy`);
      const r = spawnSync(
        process.execPath,
        [
          bin,
          'embed',
          '--checkpoint',
          ckpt,
          '--input',
          text,
          '--pooling',
          pooling,
          '--out',
          out,
          '--backend',
          'cpu',
        ],
        { encoding: 'utf8', cwd: packageRoot },
      );
      assert.equal(r.status, 0, r.stderr);
      const npy = parseNpy(readFileSync(out));
      const H = loaded.config.hidden_size;
      assert.deepEqual(npy.shape, [LINES.length, H]);
      let max = 0;
      reference.forEach((ref, b) => {
        const want = pooling === 'cls' ? ref.sequence_output[0] : ref.pooled;
        for (let h = 0; h < H; h++) max = Math.max(max, Math.abs(npy.data[b * H + h] - want[h]));
      });
      t.diagnostic(`bert embed --pooling ${pooling}: max diff ${max}`);
      assert.ok(max <= 1e-5, `embed ${pooling}: ${max}`);
    }
  },
);

test(
  'bert export --format tf: tf.train.load_checkpoint lists every variable with Google’s name and shape, values equal',
  { skip: skip ?? false },
  async (t) => {
    const out = join(scratch, 'exported');
    const r = spawnSync(
      process.execPath,
      [bin, 'export', '--checkpoint', ckpt, '--format', 'tf', '--out', out, '--backend', 'cpu'],
      { encoding: 'utf8', cwd: packageRoot },
    );
    assert.equal(r.status, 0, r.stderr);
    const dumped = JSON.parse(python('dump', join(out, 'bert_model.ckpt'))) as Record<
      string,
      { shape: number[]; dtype: string; values: number[] }
    >;
    const index = await readBundleIndex(join(ckpt, 'bert_model.ckpt'));
    const model = index.entries.filter((e) => !isOptimizerState(e.name));
    const original = await readBundleTensors(index, model);
    assert.deepEqual(Object.keys(dumped).sort(), model.map((e) => e.name).sort());
    for (const e of model) {
      const d = dumped[e.name];
      assert.deepEqual(d.shape, e.shape, e.name);
      assert.equal(d.dtype, 'float32', e.name);
      assert.deepEqual(d.values, [...original.get(e.name)!.data], e.name);
    }
    t.diagnostic(
      `${model.length} variables, names, shapes and values equal (TensorFlow's reader on our export)`,
    );
  },
);
