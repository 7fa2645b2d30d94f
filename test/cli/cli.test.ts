import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

const bin = join(packageRoot, 'bin', 'bert.js');
function bert(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: packageRoot });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('--help lists every command', () => {
  const r = bert('--help');
  assert.equal(r.code, 0);
  for (const c of [
    'tokenize',
    'data',
    'pretrain',
    'finetune',
    'eval ',
    'eval-glue',
    'export',
    'env',
  ]) {
    assert.ok(r.out.includes(`bert ${c}`), `help lists ${c}`);
  }
});

test('--version prints the package version', async () => {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
  const r = bert('--version');
  assert.equal(r.code, 0);
  assert.equal(r.out.trim(), pkg.version);
});

test('every command has --help with examples', () => {
  for (const c of [
    'tokenize',
    'pretrain',
    'finetune',
    'eval',
    'eval-glue',
    'export',
    'env',
    'data inspect',
  ]) {
    const r = bert(...c.split(' '), '--help');
    assert.equal(r.code, 0, `${c} --help exits 0`);
    assert.match(r.out, /Examples:/, `${c} --help has examples`);
  }
});

test('a config error exits 1 with one line on stderr', () => {
  const r = bert('pretrain', '--set', 'train.lr_schedule=cosin');
  assert.equal(r.code, 1);
  assert.equal(r.err.trim().split('\n').length, 1);
  assert.match(r.err, /--set train\.lr_schedule: must be one of linear, cosine, constant/);
});

test('an unknown command or flag is an error, not ignored', () => {
  assert.equal(bert('pretrian').code, 1);
  const r = bert('env', '--bakend', 'wasm');
  assert.equal(r.code, 1);
  assert.match(r.err, /Unknown argument/);
});

test('env reports the chosen backend and why the others were skipped', () => {
  const r = bert('env', '--json');
  assert.equal(r.code, 0);
  const report = JSON.parse(r.out);
  assert.ok(['tensorflow', 'webgpu', 'wasm', 'cpu'].includes(report.chosen));
  assert.equal(report.cpus > 0, true);
  const tf = report.backends.find((b: { backend: string }) => b.backend === 'tensorflow');
  if (report.chosen !== 'tensorflow') {
    assert.equal(tf.available, false);
    assert.ok(tf.detail.length > 0);
  }
});

test('bert env --json reports the chosen backend and the native kernels; BERT_NATIVE_KERNELS=0 turns them off', () => {
  const r = spawnSync(process.execPath, [bin, 'env', '--backend', 'wasm', '--json'], {
    encoding: 'utf8',
    cwd: packageRoot,
    env: { ...process.env, BERT_NATIVE_KERNELS: '0' },
  });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    chosen: string;
    backends: { backend: string; available: boolean | null; detail: string }[];
    native_kernels: { available: boolean; detail: string };
  };
  assert.equal(report.chosen, 'wasm');
  assert.deepEqual(report.native_kernels, { available: false, detail: 'BERT_NATIVE_KERNELS=0' });
  const wasm = report.backends.find((b) => b.backend === 'wasm');
  assert.equal(wasm?.available, true);
  assert.match(
    wasm?.detail ?? '',
    /the WebAssembly kernel module \(1 thread; native matMul: BERT_NATIVE_KERNELS=0\)/,
  );
  assert.match(report.backends.find((b) => b.backend === 'cpu')?.detail ?? '', /--backend wasm/);
});
