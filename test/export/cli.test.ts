/**
 * `bert export` and `bert embed` as a user runs them: help with examples,
 * the result on stdout, progress on stderr, one-line refusals with exit 1.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { useTestBackend } from '../helpers/tf.js';
import { randomModel, smallConfig } from '../model/helpers.js';
import { disposeParams } from '../../src/model/params.js';
import { HF_FILES } from '../../src/export/hf.js';
import { parseNpy } from '../../src/export/npy.js';
import { TINY_VOCAB, writeCheckpoint } from './helpers.js';

const bin = join(packageRoot, 'bin', 'bert.js');
function bert(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: packageRoot });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** stderr without TF.js's "install our node backend" banner. */
const errLines = (err: string): string[] =>
  err
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('====') && !l.startsWith('Hi, looks like'));

let scratch = '';
let ckpt = '';
before(async () => {
  await useTestBackend();
  scratch = await mkdtemp(join(tmpdir(), 'bert-export-cli-'));
  const config = smallConfig({ vocab_size: TINY_VOCAB.length });
  const model = randomModel(config, { seed: 51 });
  ckpt = await writeCheckpoint(join(scratch, 'run', 'checkpoints', 'step-3'), model, config);
  disposeParams(model.params);
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('export and embed have --help with examples; export offers only --format hf', () => {
  for (const c of ['export', 'embed']) {
    const r = bert(c, '--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /Examples:/);
  }
  const r = bert('export', '--checkpoint', ckpt, '--out', join(scratch, 'x'), '--format', 'tfjs');
  assert.equal(r.code, 1);
  assert.match(r.err, /Invalid values:[\s\S]*format[\s\S]*"tfjs"/);
});

test('bert export of a run directory writes the HF files and says so; a second run without --force exits 1 with one line', () => {
  const out = join(scratch, 'hf');
  const r = bert('export', '--checkpoint', join(scratch, 'run'), '--out', out, '--backend', 'wasm');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /as BertForPreTraining .* to .*hf/);
  assert.deepEqual(readdirSync(out).sort(), [...HF_FILES].sort());
  const again = bert('export', '--checkpoint', ckpt, '--out', out, '--backend', 'wasm');
  assert.equal(again.code, 1);
  assert.deepEqual(errLines(again.err), [
    `bert: --out ${out}: already exists (pass --force to replace it)`,
  ]);
});

test('bert embed writes .npy, prints throughput on stdout and progress on stderr', async () => {
  const input = join(scratch, 'lines.txt');
  await writeFile(input, 'the cat sat on the mat .\nhe is playing\n\nred blue\n');
  const out = join(scratch, 'e.npy');
  const r = bert(
    'embed',
    '--checkpoint',
    ckpt,
    '--input',
    input,
    '--out',
    out,
    '--pooling',
    'pooler',
    '--batch-size',
    '2',
    '--backend',
    'wasm',
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /e\.npy: 4 × 16 \(pooler\), [\d.]+ sentences\/s, \d+ tokens\/s/);
  assert.match(r.err, /embed: 4\/4 sentences/);
  const { shape } = parseNpy(readFileSync(out));
  assert.deepEqual(shape, [4, 16]);
  const bad = bert(
    'embed',
    '--checkpoint',
    join(scratch, 'nope'),
    '--input',
    input,
    '--out',
    join(scratch, 'f.npy'),
  );
  assert.equal(bad.code, 1);
  assert.equal(errLines(bad.err).length, 1);
  assert.match(bad.err, /--checkpoint .*nope: no such directory/);
  assert.ok(!existsSync(join(scratch, 'f.npy')));
});
