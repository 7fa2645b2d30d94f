import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ciOutcome } from '../../src/ci/outcome.js';
import {
  BASELINE_FORMAT,
  readBaseline,
  writeBaseline,
  type RegressionReport,
} from '../../src/ci/report.js';
import { prepareCiRunDir } from '../../src/ci/regression.js';
import { UserError } from '../../src/errors.js';

function report(
  metrics: Record<string, number>,
  over: Partial<RegressionReport> = {},
): RegressionReport {
  return {
    format: BASELINE_FORMAT,
    name: 'ci-test',
    config: 'configs/ci/regression.yaml',
    status: 'completed',
    backend: 'wasm',
    versions: { node: '20' },
    git_sha: null,
    host: { platform: 'linux', arch: 'x64', cpus: 2 },
    started: '2026-01-01T00:00:00.000Z',
    metrics,
    timings: { pretrain_s: 1, total_s: 2 },
    ...over,
  };
}

const tol = { 'pretrain.heldout_mlm_loss': 0.05 };

/** ciOutcome for `current` against `baseline` (b.json) with the tolerances above. */
function outcome(current: RegressionReport, baseline: RegressionReport | null, update = false) {
  return ciOutcome({ report: current, baseline, baselinePath: 'b.json', tolerances: tol, update });
}

test('a regression exits 1 and the output says fail', () => {
  const o = outcome(
    report({ 'pretrain.heldout_mlm_loss': 7 }),
    report({ 'pretrain.heldout_mlm_loss': 6 }),
  );
  assert.equal(o.exitCode, 1);
  assert.equal(o.output.verdict, 'fail');
  assert.match(o.text, /REGRESSED/);
});

test('a pass exits 0; the JSON output carries metrics, timings, backend, versions and verdict', () => {
  const o = outcome(
    report({ 'pretrain.heldout_mlm_loss': 6 }),
    report({ 'pretrain.heldout_mlm_loss': 6 }),
  );
  assert.equal(o.exitCode, 0);
  const json = JSON.parse(JSON.stringify(o.output)) as Record<string, unknown>;
  for (const k of ['metrics', 'timings', 'backend', 'versions', 'verdict', 'comparison']) {
    assert.ok(k in json, k);
  }
  assert.equal(json.verdict, 'pass');
});

test('no baseline fails unless the baseline is being written', () => {
  const none = outcome(report({ a: 1 }), null);
  assert.equal(none.exitCode, 1);
  assert.equal(none.output.verdict, 'no-baseline');
  assert.match(none.text, /--update-baseline/);
  const update = outcome(report({ a: 1 }), null, true);
  assert.equal(update.exitCode, 0);
  assert.equal(update.output.verdict, 'updated');
});

test('a failed run fails even when asked to update the baseline', () => {
  const o = outcome(report({}, { status: 'failed' }), null, true);
  assert.equal(o.exitCode, 1);
  assert.equal(o.output.verdict, 'fail');
});

test('a baseline from another backend is compared but warned about', () => {
  const o = outcome(
    report({ 'pretrain.heldout_mlm_loss': 6 }),
    report({ 'pretrain.heldout_mlm_loss': 6 }, { backend: 'tensorflow' }),
  );
  assert.equal(o.exitCode, 0);
  assert.equal(o.warnings.length, 1);
  assert.match(o.warnings[0], /tensorflow/);
});

test('baselines round-trip; a malformed one is a one-line error naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bert-ci-'));
  const path = join(dir, 'baseline.wasm.json');
  assert.equal(readBaseline(path), null);
  const r = report({ 'eval.dev_accuracy': 0.5 });
  await writeBaseline(path, r);
  assert.deepEqual(readBaseline(path), r);
  writeFileSync(path, '{"metrics": {"a": "x"}}');
  assert.throws(
    () => readBaseline(path),
    (e: unknown) => e instanceof UserError && e.message.startsWith(`${path}: metrics:`),
  );
  writeFileSync(path, '{');
  assert.throws(
    () => readBaseline(path),
    (e: unknown) => e instanceof UserError && e.message.startsWith(`${path}: not valid JSON`),
  );
});

test('the run directory of a previous bert ci run is replaced; anything else needs --force', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bert-ci-'));
  const run = join(dir, 'run');
  mkdirSync(join(run, 'pretrain'), { recursive: true });
  writeFileSync(join(run, 'report.json'), '{}');
  await prepareCiRunDir(run, false);
  assert.equal(existsSync(join(run, 'report.json')), false);
  const other = join(dir, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'precious.txt'), 'keep me');
  await assert.rejects(prepareCiRunDir(other, false), /not a bert ci run directory; pass --force/);
  assert.equal(readFileSync(join(other, 'precious.txt'), 'utf8'), 'keep me');
  await prepareCiRunDir(other, true);
  assert.equal(existsSync(join(other, 'precious.txt')), false);
});
