import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GLUE_TASKS } from '../../../src/tasks/glue/tasks.js';
import {
  formatSubmission,
  submissionFileName,
  writeSubmission,
} from '../../../src/tasks/glue/submission.js';
import { parseGlueTsv, readGlueSplit } from '../../../src/tasks/glue/reader.js';
import { REPO_ROOT } from './data.js';

test('classification submissions write labels as in the task files, with the file index', () => {
  const text = formatSubmission(
    GLUE_TASKS.rte,
    [{ index: '0' }, { index: '1' }, { index: '2' }],
    [1, 0, 1],
  );
  assert.equal(text, 'index\tprediction\n0\tnot_entailment\n1\tentailment\n2\tnot_entailment\n');
  assert.equal(
    formatSubmission(GLUE_TASKS.sst2, [{ index: '7' }], [1]),
    'index\tprediction\n7\t1\n',
  );
});

test('STS-B submissions write scores as decimals', () => {
  const text = formatSubmission(GLUE_TASKS.stsb, [{ index: '0' }, { index: '1' }], [3.14159, 0]);
  assert.equal(text, 'index\tprediction\n0\t3.142\n1\t0.000\n');
});

test('submission file names follow the GLUE server (MNLI-m / MNLI-mm / AX)', () => {
  assert.equal(submissionFileName(GLUE_TASKS.mnli, 'test_matched'), 'MNLI-m.tsv');
  assert.equal(submissionFileName(GLUE_TASKS.mnli, 'dev_mismatched'), 'MNLI-mm.tsv');
  assert.equal(submissionFileName(GLUE_TASKS.ax, 'test'), 'AX.tsv');
  assert.equal(submissionFileName(GLUE_TASKS.stsb, 'dev'), 'STS-B.tsv');
  assert.throws(() => submissionFileName(GLUE_TASKS.sst2, 'train'), RangeError);
});

test('a class id outside the label set or a count mismatch is refused', () => {
  assert.throws(() => formatSubmission(GLUE_TASKS.sst2, [{ index: '0' }], [2]), RangeError);
  assert.throws(() => formatSubmission(GLUE_TASKS.sst2, [{ index: '0' }], [0, 1]), RangeError);
});

test('a dev submission re-read as a labelled file reproduces the gold labels (round trip on real SST-2 dev)', async () => {
  const task = GLUE_TASKS.sst2;
  // data/glue ships SST-2 dev complete.
  const dev = await readGlueSplit(join(REPO_ROOT, 'data/glue'), task, 'dev');
  const gold = dev.examples.map((e) => e.label!);
  const dir = await mkdtemp(join(tmpdir(), 'glue-sub-'));
  try {
    const path = await writeSubmission(dir, task, 'dev', dev.examples, gold);
    assert.equal(path, join(dir, 'SST-2.tsv'));
    const text = await readFile(path, 'utf8');
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 1 + 872);
    // Parse it back with the RTE-like layout (index, label) to check indices and labels.
    const back = parseGlueTsv(
      text,
      task,
      { name: 'dev', role: 'dev', file: 'x', header: true, columns: 2, textA: 0, label: 1 },
      path,
    );
    assert.deepEqual(
      back.examples.map((e) => e.label),
      gold,
    );
    assert.deepEqual(
      back.examples.map((e) => e.textA),
      dev.examples.map((_, i) => String(i)),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
