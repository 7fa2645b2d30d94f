import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { render, cleanup } from 'ink-testing-library';
import { Dashboard } from '../../src/ui/dashboard.js';
import { initialState, reduce, type DashboardState } from '../../src/ui/state.js';
import type { BertEvent } from '../../src/ui/events.js';
import { T0, checkpoint, evalEvent, step, runStart, progress } from './helpers.js';
import { stripAnsi } from '../../src/ui/format.js';

afterEach(() => cleanup());

const fold = (events: BertEvent[], from = initialState()): DashboardState =>
  events.reduce(reduce, from);
const steps = (from: number, to: number, over = {}): BertEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) => step(from + i, over));

function frameOf(state: DashboardState, nowMs: number, columns = 80, rows = 24): string {
  const { lastFrame } = render(
    <Dashboard state={state} nowMs={nowMs} columns={columns} rows={rows} />,
  );
  return stripAnsi(lastFrame() ?? '');
}

test('the frame shows run, backend, model, progress, loss, lr, throughput, eval, checkpoint, health', () => {
  const state = fold([
    runStart(),
    ...steps(1, 420),
    evalEvent(400, { loss: 6.9, mlm_accuracy: 0.13 }),
    checkpoint(400, true),
  ]);
  const frame = frameOf(state, T0 + 42_000);
  for (const expected of [
    'bert pretrain',
    'run runs/tiny-demo',
    'backend wasm',
    'tiny L2 H128 A2 4.39M params',
    'data/corpus/sample.txt',
    '42.0% 420/1,000',
    'elapsed 42s',
    'ETA 58s',
    '10.0 steps/s',
    'mlm acc 12.3%',
    'nsp acc 51.0%',
    'lr 1.00e-4',
    '12.3k tok/s',
    '96 ex/s',
    'queue 8',
    'wait 0.2 ms',
    'rss 512 MiB',
    'tensors 1,234 (53.4 MiB)',
    'dev @400',
    'mlm_acc 13.0%',
    'runs/tiny-demo/checkpoints/step-400',
    '★ best',
    'q / Ctrl-C',
  ]) {
    assert.ok(frame.includes(expected), `missing "${expected}" in\n${frame}`);
  }
  // Current loss at step 420 and its smoothed value are shown.
  assert.match(
    frame,
    new RegExp(`loss\\s+${(1 + 9 * Math.exp(-420 / 200)).toFixed(4)}\\s+ema \\d+\\.\\d{4}`),
  );
});

test('the ETA is the remaining steps at the measured rate', () => {
  // 4 steps/s (250 ms per step), 600 of 1000 steps done: 100 s left.
  const state = fold([runStart(), ...Array.from({ length: 600 }, (_, i) => step(i + 1, {}, 250))]);
  const frame = frameOf(state, T0 + 600 * 250);
  assert.match(frame, /ETA 1m 40s/);
  assert.match(frame, /4\.00 steps\/s/);
  // Ten seconds without a new step: the ETA keeps counting down.
  assert.match(frameOf(state, T0 + 600 * 250 + 10_000), /ETA 1m 30s/);
});

test('the sparkline changes as the loss curve moves', () => {
  const curve = (f: string): string => f.split('\n').find((l) => l.includes('curve')) ?? '';
  const early = fold([runStart(), ...steps(1, 50, { loss: 5 })]);
  const flat = curve(frameOf(early, T0 + 5000));
  // A constant loss draws a flat line of one block.
  assert.equal(new Set([...flat.replace(/[^▁▂▃▄▅▆▇█]/g, '')]).size, 1);
  const later = fold(steps(51, 100, { loss: 1 }), early);
  const fallen = curve(frameOf(later, T0 + 10_000));
  const blocks = fallen.replace(/[^▁▂▃▄▅▆▇█]/g, '');
  assert.notEqual(fallen, flat);
  assert.equal(blocks[0], '█');
  assert.equal(blocks[blocks.length - 1], '▁');
});

test('the frame fits 80x24 with every section shown', () => {
  const state = fold([
    runStart({
      run: 'runs/a-rather-long-run-name-that-goes-on',
      data: 'data/corpus/a/very/long/path/to/the/corpus.txt',
    }),
    progress('tokenize', 10_000, 10_000, 0),
    progress('encode', 512, 10_000, 0),
    ...steps(1, 300),
    evalEvent(300, { loss: 6.9, mlm_accuracy: 0.13, nsp_accuracy: 0.61, perplexity: 991.2 }),
    checkpoint(300),
    { type: 'warning', time: new Date(T0).toISOString(), message: 'x'.repeat(200) },
    { type: 'log', time: new Date(T0).toISOString(), message: 'one' },
    { type: 'log', time: new Date(T0).toISOString(), message: 'two' },
  ]);
  const frame = frameOf(state, T0 + 30_000, 80, 24);
  const lines = frame.split('\n');
  assert.ok(lines.length <= 24, `${lines.length} rows`);
  for (const line of lines) assert.ok([...line].length <= 80, `too wide: "${line}"`);
});

test('a narrower terminal gives a narrower frame', () => {
  const state = fold([runStart(), ...steps(1, 10)]);
  const lines = frameOf(state, T0 + 1000, 60, 24).split('\n');
  assert.equal([...lines[0]].length, 60);
});

test('q asks to stop', async () => {
  const reasons: string[] = [];
  const state = fold([runStart(), ...steps(1, 3)]);
  const { stdin } = render(
    <Dashboard state={state} nowMs={T0} columns={80} rows={24} onStop={(r) => reasons.push(r)} />,
  );
  await new Promise((r) => setTimeout(r, 20));
  stdin.write('q');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(reasons, ['q pressed']);
});
