import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildGlueTable,
  formatStat,
  glueTableToJson,
  referenceAverage,
  renderGlueTableMarkdown,
} from '../../../src/tasks/glue/table.js';
import { GLUE_REFERENCES } from '../../../src/tasks/glue/references.js';

const ONE_SEED = buildGlueTable({
  requested: ['cola', 'sst2', 'mrpc', 'stsb', 'qqp', 'mnli', 'rte', 'wnli'],
  results: [
    { task: 'cola', splits: { dev: [{ mcc: 0.2512 }] } },
    { task: 'sst2', splits: { dev: [{ accuracy: 0.832 }] } },
    { task: 'mrpc', splits: { dev: [{ f1: 0.811, accuracy: 0.711 }] } },
    { task: 'stsb', splits: { dev: [{ pearson: 0.743, spearman: 0.736 }] } },
    {
      task: 'mnli',
      splits: { dev_matched: [{ accuracy: 0.702 }], dev_mismatched: [{ accuracy: 0.703 }] },
    },
    { task: 'rte', splits: { dev: [{ accuracy: 0.572 }] } },
    { task: 'wnli', splits: { dev: [{ accuracy: 0.563 }] } },
  ],
  missingReasons: { qqp: 'QQP is not in this GLUE copy' },
});

test('cells use the paper format: F1/acc, Pearson/Spearman, m/mm, MCC ×100', () => {
  const cell = Object.fromEntries(ONE_SEED.tasks.map((t) => [t.task, t.cell]));
  assert.deepEqual(cell, {
    cola: '25.1',
    sst2: '83.2',
    mrpc: '81.1/71.1',
    stsb: '74.3/73.6',
    mnli: '70.2/70.3',
    rte: '57.2',
    wnli: '56.3',
  });
});

test('averages follow GLUE (two-number tasks averaged first) with and without WNLI', () => {
  const taskScores = [25.12, 83.2, (81.1 + 71.1) / 2, (74.3 + 73.6) / 2, (70.2 + 70.3) / 2, 57.2];
  const without = taskScores.reduce((a, b) => a + b) / taskScores.length;
  const withW = (without * taskScores.length + 56.3) / (taskScores.length + 1);
  assert.ok(Math.abs(ONE_SEED.average.withoutWnli.mean - without) < 1e-9);
  assert.ok(Math.abs(ONE_SEED.average.withWnli.mean - withW) < 1e-9);
  assert.deepEqual(ONE_SEED.average.tasks, ['cola', 'sst2', 'mrpc', 'stsb', 'mnli', 'rte', 'wnli']);
});

test('requested tasks without results are listed as missing in Markdown and JSON', () => {
  assert.deepEqual(ONE_SEED.missing, [{ task: 'qqp', reason: 'QQP is not in this GLUE copy' }]);
  const md = renderGlueTableMarkdown(ONE_SEED);
  const ourRow = md
    .split('\n')[2]!
    .split('|')
    .map((c) => c.trim());
  assert.equal(ourRow[8], 'missing'); // QQP column
  assert.equal(ourRow[10], ''); // QNLI was not requested
  assert.match(md, /Missing: QQP \(QQP is not in this GLUE copy\)/);
  const json = JSON.parse(JSON.stringify(glueTableToJson(ONE_SEED))) as {
    missing: { task: string }[];
  };
  assert.deepEqual(
    json.missing.map((m) => m.task),
    ['qqp'],
  );
});

test('Markdown has the header, our row, and every reference row', () => {
  const md = renderGlueTableMarkdown(ONE_SEED);
  const lines = md.split('\n');
  assert.equal(
    lines[0],
    '| Model | Avg | Avg w/o WNLI | CoLA | SST-2 | MRPC | STS-B | QQP | MNLI-m/mm | QNLI | RTE | WNLI |',
  );
  assert.match(lines[2]!, /^\| this run \(dev\) \| /);
  assert.match(
    md,
    /\| BERT-Base \(test\) \| {2}\| 79\.6† \| 52\.1 \| 93\.5 \| 88\.9\/– \| –\/85\.8 \| 71\.2\/– \| 84\.6\/83\.4 \| 90\.5 \| 66\.4 \| {2}\|/,
  );
  assert.match(
    md,
    /\| BERT-Tiny \(L2\/H128\) \(test\) \| 64\.2 \| .* \| 81\.1\/71\.1 \| 74\.3\/73\.6 \|/,
  );
  assert.ok(!renderGlueTableMarkdown(ONE_SEED, { references: false }).includes('BERT-Base'));
});

test('several seeds give mean±std cells and a seed-level spread of the average', () => {
  const t = buildGlueTable({
    requested: ['sst2', 'rte'],
    results: [
      { task: 'sst2', splits: { dev: [{ accuracy: 0.8 }, { accuracy: 0.9 }, { accuracy: 1.0 }] } },
      { task: 'rte', splits: { dev: [{ accuracy: 0.5 }, { accuracy: 0.6 }, { accuracy: 0.7 }] } },
    ],
  });
  assert.equal(t.seeds, 3);
  assert.equal(t.tasks[0]!.cell, '90.0±10.0');
  // per-seed averages 65, 75, 85 → mean 75, std 10
  assert.ok(Math.abs(t.average.withWnli.mean - 75) < 1e-9);
  assert.ok(Math.abs(t.average.withWnli.std - 10) < 1e-9);
  assert.match(
    renderGlueTableMarkdown(t),
    /this run \(dev, mean±std over 3 seeds\) \| 75\.0±10\.0/,
  );
});

test('an undefined STS-B correlation shows n/a, counts as 0 in the average, and is null in JSON', () => {
  const t = buildGlueTable({
    requested: ['stsb', 'sst2'],
    results: [
      { task: 'stsb', splits: { dev: [{ pearson: NaN, spearman: NaN }] } },
      { task: 'sst2', splits: { dev: [{ accuracy: 0.9 }] } },
    ],
  });
  assert.equal(t.tasks.find((x) => x.task === 'stsb')!.cell, 'n/a/n/a');
  assert.ok(Math.abs(t.average.withWnli.mean - 45) < 1e-9);
  const json = JSON.stringify(glueTableToJson(t));
  assert.ok(!json.includes('NaN'));
  assert.match(json, /"pearson":\{"mean":null/);
});

test('the GLUE averaging convention reproduces the published BERT-Tiny/Mini GLUE scores', () => {
  // Cells are rounded to 0.1, so the recomputed score may differ from the published one by < 0.1.
  for (const name of ['BERT-Tiny (L2/H128)', 'BERT-Mini (L4/H256)']) {
    const row = GLUE_REFERENCES.find((r) => r.name === name)!;
    const avg = referenceAverage(row, true)!;
    assert.ok(Math.abs(avg - row.publishedScore) < 0.1, `${name}: ${avg} vs ${row.publishedScore}`);
  }
});

test('the BERT paper rows: the mean of the nine printed columns is the published average', () => {
  for (const name of ['BERT-Base', 'BERT-Large']) {
    const row = GLUE_REFERENCES.find((r) => r.name === name)!;
    const values = Object.values(row.cells).flatMap((c) => Object.values(c!));
    assert.equal(values.length, 9);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    assert.ok(Math.abs(mean - row.publishedScore) < 0.05, `${name}: ${mean}`);
    assert.equal(referenceAverage(row, false), undefined); // F1-only MRPC: no GLUE-convention average
  }
});

test('formatStat: one decimal, n/a for NaN, – for absent', () => {
  assert.equal(formatStat(81.149), '81.1');
  assert.equal(formatStat(NaN), 'n/a');
  assert.equal(formatStat(undefined), '–');
  assert.equal(formatStat({ mean: 50, std: 2.25, n: 2, values: [] }), '50.0±2.3');
});
