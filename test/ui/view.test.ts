import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, reduce, type DashboardState } from '../../src/ui/state.js';
import { dashboardLines, lineText, lineWidth } from '../../src/ui/view.js';
import type { BertEvent } from '../../src/ui/events.js';
import { T0, checkpoint, evalEvent, progress, runEnd, runStart, step } from './helpers.js';

function fold(events: BertEvent[]): DashboardState {
  return events.reduce(reduce, initialState());
}

const busyRun = (): BertEvent[] => [
  runStart(),
  progress('tokenize', 5000, 10_000, 0),
  ...Array.from({ length: 420 }, (_, i) => step(i + 1)),
  evalEvent(400, { loss: 6.9, mlm_accuracy: 0.13 }),
  checkpoint(400, true),
  { type: 'warning', time: new Date(T0).toISOString(), message: 'data queue ran dry' },
  { type: 'log', time: new Date(T0).toISOString(), message: 'eval done' },
];

test('every line fits the width, however narrow', () => {
  const state = fold(busyRun());
  for (const width of [30, 56, 76, 116]) {
    const lines = dashboardLines(state, { nowMs: T0 + 42_000, width, height: 40 });
    for (const line of lines) assert.ok(lineWidth(line) <= width, `${width}: "${lineText(line)}"`);
  }
});

test('a short terminal drops messages and stages before progress and loss', () => {
  const state = fold(busyRun());
  const tall = dashboardLines(state, { nowMs: T0 + 42_000, width: 76, height: 40 }).map(lineText);
  const short = dashboardLines(state, { nowMs: T0 + 42_000, width: 76, height: 9 }).map(lineText);
  assert.ok(tall.some((l) => l.includes('data queue ran dry')));
  assert.ok(tall.some((l) => l.startsWith('tokenize')));
  assert.equal(short.length, 9);
  assert.ok(!short.some((l) => l.includes('data queue ran dry')));
  assert.ok(short.some((l) => l.startsWith('progress')));
  assert.ok(short.some((l) => l.startsWith('loss')));
  assert.ok(short.some((l) => l.startsWith('q / Ctrl-C')));
});

test('before any step only the header and the stage view show (tokenize)', () => {
  const state = fold([
    runStart({ command: 'tokenize', model: undefined, totalSteps: null }),
    progress('tokenize', 2500, 10_000, 1000),
    progress('tokenize', 5000, 10_000, 2000),
  ]);
  const lines = dashboardLines(state, { nowMs: T0 + 2000, width: 76, height: 22 }).map(lineText);
  assert.ok(!lines.some((l) => l.startsWith('progress') || l.startsWith('loss')));
  const stage = lines.find((l) => l.startsWith('tokenize'));
  assert.ok(stage, lines.join('\n'));
  assert.match(stage, /50\.0% 5,000\/10,000 lines/);
  // 2,500 lines in the second after the first report.
  assert.match(stage, /2\.50k\/s/);
  // Nothing to checkpoint outside training.
  assert.equal(lines.at(-1), 'q / Ctrl-C: stop');
});

test('long stage names get a wider column rather than being cut', () => {
  const state = fold([
    runStart({ command: 'tokenize', model: undefined, totalSteps: null }),
    progress('count-words', 10, 10, 0),
    progress('train-vocab', 5, 10, 0),
  ]);
  const lines = dashboardLines(state, { nowMs: T0, width: 76, height: 22 }).map(lineText);
  assert.ok(
    lines.some((l) => l.startsWith('count-words ')),
    lines.join('\n'),
  );
  assert.ok(lines.some((l) => l.startsWith('train-vocab ')));
});

test('the end of the run shows its status and outputs', () => {
  const state = fold([runStart(), step(1), step(2), runEnd(2)]);
  const lines = dashboardLines(state, { nowMs: T0, width: 76, height: 22 }).map(lineText);
  assert.ok(lines.some((l) => l.startsWith('completed after 0s')));
  assert.ok(lines.some((l) => l.includes('runs/tiny-demo/checkpoints/step-2')));
});

test('a resumed run keeps the first step it saw and counts ETA from there', () => {
  const state = fold([runStart(), step(501), step(502), step(503)]);
  assert.equal(state.firstStepNumber, 501);
  const lines = dashboardLines(state, { nowMs: T0 + 50_300, width: 76, height: 22 }).map(lineText);
  // 10 steps/s, 497 steps left.
  assert.ok(
    lines.some((l) => l.includes('ETA 50s')),
    lines.join('\n'),
  );
});

test('a wall-clock budget shows the training time left, and fits the width', () => {
  const events = [
    runStart({ totalSteps: null }),
    ...Array.from({ length: 10 }, (_, i) =>
      step(i + 1, { totalSteps: null, elapsed_train_s: 60 * (i + 1), budget_s: 1800 }),
    ),
  ];
  const state = fold(events);
  for (const width of [30, 56, 76, 116]) {
    const lines = dashboardLines(state, { nowMs: T0 + 42_000, width, height: 40 });
    for (const line of lines) assert.ok(lineWidth(line) <= width, `${width}: "${lineText(line)}"`);
  }
  const wide = dashboardLines(state, { nowMs: T0 + 42_000, width: 116, height: 40 }).map(lineText);
  const budget = wide.find((l) => l.startsWith('budget'));
  assert.match(budget ?? '', / 20m 00s left of 30m 00s$/);
  const unbudgeted = fold([runStart(), step(1)]);
  const plain = dashboardLines(unbudgeted, { nowMs: T0, width: 116, height: 40 }).map(lineText);
  assert.ok(!plain.some((l) => l.startsWith('budget')));
});

test('a held-out evaluation shows MLM loss, accuracy and distinct predictions first, within 76 columns', () => {
  const state = fold([
    runStart(),
    step(1),
    {
      type: 'eval',
      time: new Date(T0).toISOString(),
      step: 200,
      split: 'heldout',
      metrics: {
        mlm_loss: 6.5432,
        mlm_accuracy: 0.118,
        nsp_loss: 0.6931,
        nsp_accuracy: 0.5,
        loss: 7.2363,
        distinct_top_predictions: 1,
      },
    },
  ]);
  const lines = dashboardLines(state, { nowMs: T0, width: 76, height: 30 }).map(lineText);
  const line = lines.find((l) => l.startsWith('eval'));
  assert.ok(line, lines.join('\n'));
  assert.match(
    line,
    /^eval {6}heldout @200 {2}mlm_loss 6\.5432 mlm_acc 11\.8% distinct 1 nsp_loss/,
  );
  // The rest follow (cut with an ellipsis where the terminal ends).
  assert.ok(line.includes('nsp_loss'));
});
