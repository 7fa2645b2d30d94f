import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareMetrics,
  directionOf,
  formatComparison,
  parseTolerances,
  type Comparison,
  type Metrics,
  type Tolerances,
} from '../../src/ci/compare.js';
import { routeSets } from '../../src/ci/config.js';
import { UserError } from '../../src/errors.js';

const baseline = {
  'pretrain.heldout_mlm_loss': 6.0,
  'pretrain.heldout_mlm_accuracy': 0.1,
  'eval.dev_accuracy': 0.6,
};

/** The baseline compared with itself after `changed` metrics moved. */
function compareWithChanged(changed: Metrics, tolerances: Tolerances): Comparison {
  return compareMetrics(baseline, { ...baseline, ...changed }, tolerances);
}

test('losses are better lower, accuracies and other scores higher', () => {
  assert.equal(directionOf('pretrain.heldout_mlm_loss'), 'lower');
  assert.equal(directionOf('finetune.loss'), 'lower');
  assert.equal(directionOf('eval.dev_accuracy'), 'higher');
  assert.equal(directionOf('eval.dev_f1'), 'higher');
  assert.equal(directionOf('eval.dev_mcc'), 'higher');
  assert.equal(directionOf('timings.total_s'), 'lower');
});

test('identical metrics pass', () => {
  const c = compareMetrics(baseline, { ...baseline }, { 'pretrain.heldout_mlm_loss': 0 });
  assert.equal(c.verdict, 'pass');
  assert.deepEqual(
    c.rows.map((r) => r.verdict),
    ['ok'],
  );
});

test('a loss rising past its tolerance fails; rising within it passes', () => {
  const tol = { 'pretrain.heldout_mlm_loss': 0.05 };
  const within = compareWithChanged({ 'pretrain.heldout_mlm_loss': 6.04 }, tol);
  assert.equal(within.verdict, 'pass');
  const past = compareWithChanged({ 'pretrain.heldout_mlm_loss': 6.06 }, tol);
  assert.equal(past.verdict, 'fail');
  assert.deepEqual(past.regressed, ['pretrain.heldout_mlm_loss']);
  assert.equal(past.rows[0].allowed, 6.05);
});

test('direction matters: a falling loss and a rising accuracy are improvements, not failures', () => {
  const tol = { 'pretrain.heldout_mlm_loss': 0.05, 'eval.dev_accuracy': 0.02 };
  const c = compareWithChanged({ 'pretrain.heldout_mlm_loss': 5.0, 'eval.dev_accuracy': 0.7 }, tol);
  assert.equal(c.verdict, 'pass');
  assert.deepEqual(
    c.rows.map((r) => [r.metric, r.verdict]),
    [
      ['eval.dev_accuracy', 'improved'],
      ['pretrain.heldout_mlm_loss', 'improved'],
    ],
  );
});

test('an accuracy falling past its tolerance fails', () => {
  const c = compareWithChanged({ 'eval.dev_accuracy': 0.57 }, { 'eval.dev_accuracy': 0.02 });
  assert.equal(c.verdict, 'fail');
  const row = c.rows[0];
  assert.equal(row.verdict, 'REGRESSED');
  assert.ok(Math.abs((row.allowed ?? 0) - 0.58) < 1e-12);
});

test('a gated metric missing or NaN in the run fails; one new to the baseline passes', () => {
  const missing = compareMetrics(baseline, {}, { 'eval.dev_accuracy': 0.02 });
  assert.equal(missing.verdict, 'fail');
  assert.equal(missing.rows[0].verdict, 'MISSING');
  const nan = compareMetrics(
    baseline,
    { 'pretrain.heldout_mlm_loss': Number.NaN },
    { 'pretrain.heldout_mlm_loss': 1 },
  );
  assert.equal(nan.verdict, 'fail');
  const fresh = compareMetrics(baseline, { 'eval.dev_f1': 0.5 }, { 'eval.dev_f1': 0.02 });
  assert.equal(fresh.verdict, 'pass');
  assert.equal(fresh.rows[0].verdict, 'new');
});

test('ungated metrics are not compared', () => {
  const c = compareWithChanged(
    { 'pretrain.heldout_mlm_accuracy': 0 },
    { 'eval.dev_accuracy': 0.02 },
  );
  assert.equal(c.verdict, 'pass');
  assert.equal(c.rows.length, 1);
});

test('the table has metric / baseline / now / allowed / verdict columns and a summary', () => {
  const c = compareWithChanged(
    { 'pretrain.heldout_mlm_loss': 7.25 },
    { 'pretrain.heldout_mlm_loss': 0.05, 'eval.dev_accuracy': 0.02 },
  );
  const text = formatComparison(c);
  const lines = text.split('\n');
  assert.match(lines[0], /^metric\s+baseline\s+now\s+allowed\s+verdict$/);
  const row = lines.find((l) => l.startsWith('pretrain.heldout_mlm_loss'));
  assert.ok(row, text);
  assert.match(row, /6\.0+\s+7\.250+\s+<= 6\.050+\s+REGRESSED$/);
  assert.match(lines.find((l) => l.startsWith('eval.dev_accuracy')) ?? '', />= 0\.580+\s+ok$/);
  assert.match(
    lines[lines.length - 1],
    /^FAIL: 1 of 2 metrics regressed past tolerance: pretrain\.heldout_mlm_loss$/,
  );
});

test('--tolerance parses lists and repeats, later values win; malformed items are one-line errors', () => {
  assert.deepEqual(parseTolerances(['a.loss=0.1,b.accuracy=0.02', 'a.loss=0.3']), {
    'a.loss': 0.3,
    'b.accuracy': 0.02,
  });
  for (const bad of ['a.loss', 'a.loss=', '=0.1', 'a.loss=-1', 'a.loss=x']) {
    assert.throws(
      () => parseTolerances([bad]),
      (e: unknown) =>
        e instanceof UserError && e.message.startsWith('--tolerance ') && !e.message.includes('\n'),
      bad,
    );
  }
});

test('--set keys are routed to the stage they name, without the prefix', () => {
  assert.deepEqual(
    routeSets(['pretrain.train.lr=0.1', 'finetune.train.epochs=1', 'name=x', 'pretrain=p.yaml']),
    { ci: ['name=x', 'pretrain=p.yaml'], pretrain: ['train.lr=0.1'], finetune: ['train.epochs=1'] },
  );
});
