import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../../src/errors.js';
import {
  GLUE_TASKS,
  getSplit,
  resolveSplits,
  findGlueTask,
  parseGlueTaskList,
} from '../../../src/tasks/glue/tasks.js';
import {
  glueTaskMissing,
  parseGlueTsv,
  readGlueSplit,
  labelName,
} from '../../../src/tasks/glue/reader.js';
import { GLUE_COPY, GLUE_DIR, HAVE_FULL_GLUE, SAMPLE_GLUE_ROWS } from './data.js';

/**
 * Row counts and label counts of the full GLUE files (the published GLUE
 * sizes), and label counts of the shipped sample (its first
 * SAMPLE_GLUE_ROWS rows of each file; test/fixtures/glue/README.md). Label
 * counts are keyed by the label as written in the file.
 */
interface Expected {
  task: keyof typeof GLUE_TASKS;
  split: string;
  rows: number;
  labels?: Record<string, number>;
  meanScore?: number;
  sample?: { labels?: Record<string, number>; meanScore?: number };
}
const EXPECTED: Expected[] = [
  {
    task: 'cola',
    split: 'train',
    rows: 8551,
    labels: { '1': 6023, '0': 2528 },
    sample: { labels: { '1': 10 } },
  },
  {
    task: 'cola',
    split: 'dev',
    rows: 1043,
    labels: { '1': 721, '0': 322 },
    sample: { labels: { '1': 7, '0': 3 } },
  },
  { task: 'cola', split: 'test', rows: 1063 },
  {
    task: 'sst2',
    split: 'train',
    rows: 67349,
    labels: { '1': 37569, '0': 29780 },
    sample: { labels: { '1': 4, '0': 6 } },
  },
  {
    task: 'sst2',
    split: 'dev',
    rows: 872,
    labels: { '1': 444, '0': 428 },
    sample: { labels: { '1': 5, '0': 5 } },
  },
  { task: 'sst2', split: 'test', rows: 1821 },
  {
    task: 'mrpc',
    split: 'train',
    rows: 3668,
    labels: { '1': 2474, '0': 1194 },
    sample: { labels: { '1': 5, '0': 5 } },
  },
  {
    task: 'mrpc',
    split: 'dev',
    rows: 408,
    labels: { '1': 279, '0': 129 },
    sample: { labels: { '1': 6, '0': 4 } },
  },
  { task: 'mrpc', split: 'test', rows: 1725 },
  { task: 'stsb', split: 'train', rows: 5749, meanScore: 2.701, sample: { meanScore: 3.3 } },
  { task: 'stsb', split: 'dev', rows: 1500, meanScore: 2.364, sample: { meanScore: 3.8598 } },
  { task: 'stsb', split: 'test', rows: 1379 },
  {
    task: 'qnli',
    split: 'dev',
    rows: 5463,
    labels: { entailment: 2702, not_entailment: 2761 },
    sample: { labels: { entailment: 3, not_entailment: 7 } },
  },
  { task: 'qnli', split: 'test', rows: 5463 },
  {
    task: 'rte',
    split: 'train',
    rows: 2490,
    sample: { labels: { entailment: 6, not_entailment: 4 } },
  },
  {
    task: 'rte',
    split: 'dev',
    rows: 277,
    labels: { entailment: 146, not_entailment: 131 },
    sample: { labels: { entailment: 7, not_entailment: 3 } },
  },
  { task: 'rte', split: 'test', rows: 3000 },
  { task: 'wnli', split: 'train', rows: 635, sample: { labels: { '1': 5, '0': 5 } } },
  {
    task: 'wnli',
    split: 'dev',
    rows: 71,
    labels: { '1': 31, '0': 40 },
    sample: { labels: { '1': 5, '0': 5 } },
  },
  { task: 'wnli', split: 'test', rows: 146 },
  { task: 'ax', split: 'test', rows: 1104 },
];

/** What the copy the tests read holds for one file: the full numbers, or the sample's. */
function expectedFor(e: Expected): Omit<Expected, 'sample'> {
  if (HAVE_FULL_GLUE) return e;
  return { task: e.task, split: e.split, rows: SAMPLE_GLUE_ROWS, ...e.sample };
}

function expectedRows(task: Expected['task'], split: string): number {
  return expectedFor(EXPECTED.find((x) => x.task === task && x.split === split)!).rows;
}

for (const full of EXPECTED) {
  const e = expectedFor(full);
  test(`glue/${e.task} ${e.split}: ${GLUE_COPY} has ${e.rows} rows and the expected label counts`, async () => {
    const task = GLUE_TASKS[e.task];
    const data = await readGlueSplit(GLUE_DIR, task, e.split);
    assert.equal(data.examples.length, e.rows);
    assert.equal(data.skipped.length, 0);
    const isTest = getSplit(task, e.split)!.role === 'test';
    for (const ex of data.examples) {
      assert.equal(ex.label === undefined, isTest, `line ${ex.line}: label presence`);
      assert.ok(ex.textA.length > 0, `line ${ex.line}: empty text_a`);
    }
    if (e.labels) {
      const counts: Record<string, number> = {};
      for (const ex of data.examples) {
        const name = labelName(task, ex.label!);
        counts[name] = (counts[name] ?? 0) + 1;
      }
      assert.deepEqual(counts, e.labels);
    }
    if (e.meanScore !== undefined) {
      const mean = data.examples.reduce((a, x) => a + x.label!, 0) / data.examples.length;
      assert.ok(Math.abs(mean - e.meanScore) < 0.0005, `mean score ${mean}`);
    }
    // Test files carry the GLUE index column; it must run 0..n-1 for the submission.
    if (isTest)
      assert.deepEqual(
        data.examples.map((x) => x.index),
        data.examples.map((_, i) => String(i)),
      );
  });
}

test('CoLA dev without header or final newline: the last line is read, rows start on line 1', async () => {
  const data = await readGlueSplit(GLUE_DIR, GLUE_TASKS.cola, 'dev');
  assert.equal(data.examples[0]!.line, 1);
  assert.equal(data.examples[0]!.textA, 'The sailors rode the breeze clear of the rocks.');
  assert.equal(data.examples.at(-1)!.line, expectedRows('cola', 'dev'));
  assert.equal(data.examples[0]!.index, '0');
});

test('MRPC dev: the BOM is dropped, sentences keep their literal quotes', async () => {
  const data = await readGlueSplit(GLUE_DIR, GLUE_TASKS.mrpc, 'dev');
  const first = data.examples[0]!;
  assert.equal(first.line, 2);
  assert.equal(first.label, 1);
  assert.equal(
    first.textB,
    '" The foodservice pie business does not fit our long-term growth strategy .',
  );
  assert.ok(first.textA.startsWith('He said the foodservice pie business'));
});

test('a task whose train split is missing is a clear UserError naming the file and directory', async () => {
  await assert.rejects(readGlueSplit(GLUE_DIR, GLUE_TASKS.qqp, 'train'), (err: Error) => {
    assert.ok(err instanceof UserError);
    assert.match(
      err.message,
      /^glue\/qqp: train\.tsv not found in .*QQP \(QQP is not in this GLUE copy/,
    );
    return true;
  });
  await assert.rejects(
    readGlueSplit(GLUE_DIR, GLUE_TASKS.qnli, 'train'),
    /has no QNLI train split/,
  );
});

test('a task directory that does not exist at all says the task is not in this copy', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'glue-empty-'));
  try {
    await assert.rejects(
      readGlueSplit(dir, GLUE_TASKS.mnli, 'dev_matched'),
      /glue\/mnli: dev_matched\.tsv not found in .*MNLI \(MNLI is not in this GLUE copy; `bert data fetch glue --tasks mnli`/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const rte = GLUE_TASKS.rte;
const rteDev = getSplit(rte, 'dev')!;
const RTE_HEADER = 'index\tsentence1\tsentence2\tlabel\n';

test('a row with the wrong column count throws naming file:line and the expected count', () => {
  const text = RTE_HEADER + '0\ta\tb\tentailment\n1\ta\tb\n';
  assert.throws(
    () => parseGlueTsv(text, rte, rteDev, 'RTE/dev.tsv'),
    (err: Error) =>
      err instanceof UserError &&
      /^RTE\/dev\.tsv:3: expected 4 tab-separated fields, found 3/.test(err.message),
  );
});

test('an unknown label throws naming the line and the allowed labels', () => {
  const text = RTE_HEADER + '0\ta\tb\tentailment\n1\ta\tb\tneutral\n';
  assert.throws(
    () => parseGlueTsv(text, rte, rteDev, 'RTE/dev.tsv'),
    /RTE\/dev\.tsv:3: unknown label "neutral" \(expected one of entailment, not_entailment\)/,
  );
});

test('a non-numeric or out-of-range STS-B score throws naming the line', () => {
  const stsb = GLUE_TASKS.stsb;
  const dev = getSplit(stsb, 'dev')!;
  const row = (i: number, score: string): string => `${i}\tg\tf\ty\to\tn\tn\ts1\ts2\t${score}\n`;
  const header =
    'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n';
  assert.throws(
    () => parseGlueTsv(header + row(0, '4.0') + row(1, 'abc'), stsb, dev, 'd.tsv'),
    /d\.tsv:3: score "abc" is not a number/,
  );
  assert.throws(
    () => parseGlueTsv(header + row(0, '7.5'), stsb, dev, 'd.tsv'),
    /d\.tsv:2: score "7\.5"/,
  );
  assert.throws(() => parseGlueTsv(header + row(0, ''), stsb, dev, 'd.tsv'), /d\.tsv:2: score ""/);
  assert.equal(parseGlueTsv(header + row(0, '3.800'), stsb, dev, 'd.tsv').examples[0]!.label, 3.8);
});

test('skipBadRows skips malformed rows, counts them with line and reason, keeps the rest', () => {
  const text =
    RTE_HEADER + '0\ta\tb\tentailment\n1\ta\tb\n2\tc\td\tmaybe\n3\te\tf\tnot_entailment\n\n';
  const { examples, skipped } = parseGlueTsv(text, rte, rteDev, 'x.tsv', { skipBadRows: true });
  assert.deepEqual(
    examples.map((e) => [e.index, e.label, e.line]),
    [
      ['0', 0, 2],
      ['3', 1, 5],
    ],
  );
  assert.deepEqual(
    skipped.map((s) => s.line),
    [3, 4, 6],
  );
  assert.match(skipped[1]!.reason, /unknown label "maybe"/);
});

test('a header of the wrong width is an error even with skipBadRows', () => {
  assert.throws(
    () => parseGlueTsv('index\tsentence\n0\tx\n', rte, rteDev, 'x.tsv', { skipBadRows: true }),
    /x\.tsv:1: header has 2 tab-separated fields, expected 4/,
  );
});

test('quotes are text, CRLF line ends and a BOM are tolerated', () => {
  const text = '\ufeff' + RTE_HEADER.replace('\n', '\r\n') + '0\t"a\tb "quoted\tentailment\r\n';
  const { examples } = parseGlueTsv(text, rte, rteDev, 'x.tsv');
  assert.equal(examples.length, 1);
  assert.equal(examples[0]!.textA, '"a');
  assert.equal(examples[0]!.textB, 'b "quoted');
  assert.equal(examples[0]!.label, 0);
});

test('MNLI layout: text from columns 8/9, gold label from the last column, two dev files', async () => {
  const mnli = GLUE_TASKS.mnli;
  const dir = await mkdtemp(join(tmpdir(), 'glue-mnli-'));
  try {
    await mkdir(join(dir, 'MNLI'));
    const cols = (n: number, tail: string[]): string =>
      [...Array.from({ length: n - tail.length }, (_, i) => `c${i}`), ...tail].join('\t');
    const dev =
      cols(16, []) +
      '\n' +
      [
        '0',
        'p',
        'q',
        'fiction',
        'b1',
        'b2',
        'p1',
        'p2',
        'The cat sat.',
        'A cat sat.',
        'entailment',
        'entailment',
        'neutral',
        'entailment',
        'entailment',
        'entailment',
      ].join('\t') +
      '\n';
    await writeFile(join(dir, 'MNLI', 'dev_mismatched.tsv'), dev);
    const data = await readGlueSplit(dir, mnli, 'dev_mismatched');
    assert.equal(data.examples[0]!.textA, 'The cat sat.');
    assert.equal(data.examples[0]!.textB, 'A cat sat.');
    assert.equal(labelName(mnli, data.examples[0]!.label!), 'entailment');
    assert.deepEqual(
      resolveSplits(mnli, 'dev').map((s) => s.name),
      ['dev_matched', 'dev_mismatched'],
    );
    assert.deepEqual(
      resolveSplits(mnli, 'test').map((s) => s.submissionFile),
      ['MNLI-m.tsv', 'MNLI-mm.tsv'],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('task lookup accepts CLI names, glue/ prefixes and display names', () => {
  assert.equal(findGlueTask('glue/sst2')?.name, 'sst2');
  assert.equal(findGlueTask('STS-B')?.name, 'stsb');
  assert.equal(findGlueTask('stsb')?.dir, 'STS-B');
  assert.equal(findGlueTask('squad'), undefined);
});

test('every eval split names its GLUE-server submission file', () => {
  const names = Object.values(GLUE_TASKS).flatMap((t) =>
    t.splits.filter((s) => s.role === 'test').map((s) => s.submissionFile),
  );
  assert.deepEqual(
    names.sort(),
    [
      'AX.tsv',
      'CoLA.tsv',
      'MNLI-m.tsv',
      'MNLI-mm.tsv',
      'MRPC.tsv',
      'QNLI.tsv',
      'QQP.tsv',
      'RTE.tsv',
      'STS-B.tsv',
      'SST-2.tsv',
      'WNLI.tsv',
    ].sort(),
  );
});

test('glueTaskMissing: present tasks pass, absent tasks and splits get the reader’s message', async () => {
  for (const name of ['cola', 'sst2', 'mrpc', 'stsb', 'rte', 'wnli', 'ax'] as const) {
    assert.equal(await glueTaskMissing(GLUE_DIR, GLUE_TASKS[name]), undefined, name);
  }
  assert.match(
    (await glueTaskMissing(GLUE_DIR, GLUE_TASKS.qqp))!,
    /^glue\/qqp: train\.tsv not found .*QQP is not in this GLUE copy/,
  );
  assert.match(
    (await glueTaskMissing(GLUE_DIR, GLUE_TASKS.mnli))!,
    /^glue\/mnli: train\.tsv not found/,
  );
  assert.match((await glueTaskMissing(GLUE_DIR, GLUE_TASKS.qnli))!, /has no QNLI train split/);
});

test('parseGlueTaskList: all = the nine tasks in leaderboard order; lists accept CLI and display names', () => {
  assert.deepEqual(parseGlueTaskList('all'), [
    'cola',
    'sst2',
    'mrpc',
    'stsb',
    'qqp',
    'mnli',
    'qnli',
    'rte',
    'wnli',
  ]);
  assert.deepEqual(parseGlueTaskList('wnli, SST-2,glue/mrpc,sst2,ax'), [
    'sst2',
    'mrpc',
    'wnli',
    'ax',
  ]);
  assert.throws(
    () => parseGlueTaskList('sst2,squad'),
    (err: Error) =>
      err instanceof UserError &&
      /--tasks: unknown GLUE task "squad" \(expected all or some of cola, sst2/.test(err.message),
  );
  assert.throws(() => parseGlueTaskList(' , '), UserError);
});
