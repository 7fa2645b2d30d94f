/** How the CLI reports errors: one line, exit 1, and a run_end for --ui json consumers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { wantsJsonUi } from '../../src/cli/main.js';

const bin = join(packageRoot, 'bin', 'bert.js');
const root = mkdtempSync(join(tmpdir(), 'bert-cli-errors-'));

function bert(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: packageRoot });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function lastEvent(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

test('--ui json: a config error before the run starts still ends with one run_end failed on stdout', () => {
  const r = bert('pretrain', '--set', 'train.lr=1e999', '--ui', 'json');
  assert.equal(r.code, 1);
  assert.equal(r.err, 'bert: --set train.lr: must be a finite number, got Infinity\n');
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 1, r.out);
  const end = lastEvent(r.out);
  assert.equal(end.type, 'run_end');
  assert.equal(end.status, 'failed');
  assert.equal(end.error, '--set train.lr: must be a finite number, got Infinity');
  assert.equal(typeof end.elapsed_s, 'number');
});

test('--ui=json and a yargs error (unknown flag) get the run_end too; without json, stdout stays empty', () => {
  const json = bert('finetune', 'glue/sst2', '--ui=json', '--bogus');
  assert.equal(json.code, 1);
  assert.equal(lastEvent(json.out).status, 'failed');
  assert.match(String(lastEvent(json.out).error), /Unknown argument: bogus/);
  const plain = bert('finetune', 'glue/sst2', '--ui', 'plain', '--bogus');
  assert.equal(plain.code, 1);
  assert.equal(plain.out, '');
});

test('wantsJsonUi reads both spellings and nothing else', () => {
  assert.equal(wantsJsonUi(['pretrain', '--ui', 'json']), true);
  assert.equal(wantsJsonUi(['pretrain', '--ui=json']), true);
  assert.equal(wantsJsonUi(['pretrain', '--ui', 'plain', 'json']), false);
  assert.equal(wantsJsonUi(['pretrain']), false);
});

test('a run directory under a file: one line naming the path and the cause, exit 1 (not a stack trace, not exit 7)', () => {
  const file = join(root, 'a-file');
  writeFileSync(file, 'x\n');
  const run = join(file, 'run');
  const r = bert('pretrain', '--run', run, '--max-steps', '1', '--backend', 'wasm', '--ui', 'json');
  assert.equal(r.code, 1, r.err);
  assert.equal(
    r.err,
    `bert: ${run}: cannot create directory: a parent path is not a directory (ENOTDIR)\n`,
  );
  assert.equal(lastEvent(r.out).status, 'failed');
});

test('an empty config file is refused, naming the file', () => {
  const empty = join(root, 'empty.yaml');
  writeFileSync(empty, '# only a comment\n');
  const r = bert('pretrain', '-c', empty);
  assert.equal(r.code, 1);
  assert.equal(
    r.err,
    `bert: ${empty}: the config file is empty (expected a mapping of config keys)\n`,
  );
});
