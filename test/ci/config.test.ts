import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { loadRegressionConfig, baselinePathFor } from '../../src/ci/config.js';
import { readBaseline } from '../../src/ci/report.js';
import { UserError } from '../../src/errors.js';

const regression = 'configs/ci/regression.yaml';

test('the shipped regression config loads, with both stage configs validated', () => {
  const cwd = process.cwd();
  process.chdir(packageRoot);
  try {
    const c = loadRegressionConfig(regression, [
      'pretrain.train.lr=0.2',
      'finetune.train.epochs=1',
    ]);
    assert.equal(c.task.name, 'glue/sst2');
    assert.equal(c.pretrain.train.lr, 0.2);
    assert.equal(c.finetune.train.epochs, 1);
    assert.equal(c.pretrain.train.max_steps, 120);
    assert.equal(
      baselinePathFor(undefined, c, 'wasm'),
      join('configs', 'ci', 'baseline.wasm.json'),
    );
    assert.equal(baselinePathFor('b.json', c, 'wasm'), 'b.json');
  } finally {
    process.chdir(cwd);
  }
});

test('the committed WASM baseline has every metric the regression config gates', () => {
  const cwd = process.cwd();
  process.chdir(packageRoot);
  try {
    const c = loadRegressionConfig(regression);
    const baseline = readBaseline(baselinePathFor(undefined, c, 'wasm'));
    assert.ok(baseline, 'configs/ci/baseline.wasm.json is committed');
    assert.equal(baseline.backend, 'wasm');
    for (const metric of Object.keys(c.ci.tolerances)) {
      assert.equal(typeof baseline.metrics[metric], 'number', metric);
    }
  } finally {
    process.chdir(cwd);
  }
});

test('an unknown task or a missing stage config is a one-line error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bert-ci-cfg-'));
  const file = join(dir, 'ci.yaml');
  writeFileSync(file, 'pretrain: nowhere/p.yaml\nfinetune: nowhere/f.yaml\ntask: glue/sst3\n');
  assert.throws(
    () => loadRegressionConfig(file),
    (e: unknown) =>
      e instanceof UserError &&
      e.message.startsWith(`${file}: task: unknown task 'glue/sst3' (expected one of glue/cola,`),
  );
  writeFileSync(file, 'pretrain: nowhere/p.yaml\nfinetune: nowhere/f.yaml\n');
  assert.throws(
    () => loadRegressionConfig(file),
    (e: unknown) =>
      e instanceof UserError && e.message.startsWith('nowhere/p.yaml: cannot read config'),
  );
  writeFileSync(file, 'finetune: nowhere/f.yaml\n');
  assert.throws(
    () => loadRegressionConfig(file),
    (e: unknown) =>
      e instanceof UserError && /ci\.yaml(:\d+)?: pretrain: is required/.test(e.message),
  );
});
