import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReporter } from '../../src/ui/reporter.js';
import { PlainReporter, summaryTable } from '../../src/ui/plain-reporter.js';
import {
  ANSI,
  FakeStream,
  T0,
  checkpoint,
  evalEvent,
  progress,
  runEnd,
  runStart,
  step,
} from './helpers.js';

function run(r: { emit: PlainReporter['emit'] }, steps: number, msPerStep = 100): void {
  r.emit(runStart({ totalSteps: steps }));
  r.emit(progress('encode', 0, 100, 0));
  r.emit(progress('encode', 100, 100, 10));
  for (let s = 1; s <= steps; s += 1) {
    r.emit(step(s, { totalSteps: steps, loss: s === 5 ? Number.NaN : 2 }, msPerStep));
    if (s % 50 === 0) r.emit(evalEvent(s, { loss: 2.5 }));
    if (s % 100 === 0) r.emit(checkpoint(s));
  }
  r.emit({
    type: 'log',
    time: new Date(T0).toISOString(),
    message: '\u001b[31mcoloured\u001b[0m log',
  });
  r.emit({ type: 'warning', time: new Date(T0).toISOString(), message: 'watch out' });
  r.emit(runEnd(steps));
}

test('with CI=true on a terminal: plain lines, no ANSI escape anywhere', async () => {
  const out = new FakeStream({ isTTY: true });
  const err = new FakeStream({ isTTY: true });
  const r = createReporter('auto', { stdout: out, stderr: err, isTTY: true, env: { CI: 'true' } });
  assert.equal(r.kind, 'plain');
  run(r, 300);
  await r.close();
  assert.ok(out.text().length > 0);
  assert.doesNotMatch(out.text(), ANSI);
  assert.doesNotMatch(err.text(), ANSI);
  assert.match(out.text(), /coloured log/);
  assert.equal(err.text(), 'warning: watch out\n');
});

test('without a terminal: a line every interval, first and last step always, then a summary', async () => {
  const out = new FakeStream();
  const r = createReporter('plain', {
    stdout: out,
    stderr: new FakeStream(),
    isTTY: false,
    env: {},
    plainIntervalS: 10,
  });
  // 300 steps at 100 ms: 30 s of event time.
  run(r, 300);
  await r.close();
  const text = out.text();
  assert.doesNotMatch(text, ANSI);
  const stepLines = text.split('\n').filter((l) => l.startsWith('step '));
  assert.deepEqual(
    stepLines.map((l) => l.split(' ')[1]),
    ['1/300', '101/300', '201/300', '300/300'],
  );
  assert.match(stepLines[0], /^step 1\/300 \(0\.3%\) · loss 2\.0000 \(ema 2\.0000\)/);
  assert.match(stepLines[3], /ETA 0s/);
  assert.match(text, /^bert pretrain · run runs\/tiny-demo · backend wasm · model tiny/);
  assert.match(text, /encode: 0\/100 lines \(0\.0%\)\nencode: 100\/100 lines \(100\.0%\)/);
  assert.match(text, /eval dev @ step 50: loss 2\.5000/);
  assert.match(text, /checkpoint @ step 100 → runs\/tiny-demo\/checkpoints\/step-100/);
  assert.ok(text.endsWith(summaryTable(runEnd(300)) + '\n'));
});

test('a run that stops early still prints its last step', async () => {
  const out = new FakeStream();
  const r = new PlainReporter({ stdout: out, stderr: new FakeStream(), bar: false, intervalS: 60 });
  r.emit(runStart());
  for (let s = 1; s <= 42; s += 1) r.emit(step(s));
  r.emit(runEnd(42, 'stopped'));
  await r.close();
  const stepLines = out
    .text()
    .split('\n')
    .filter((l) => l.startsWith('step '));
  assert.deepEqual(
    stepLines.map((l) => l.split(' ')[1]),
    ['1/1,000', '42/1,000'],
  );
  assert.match(out.text(), /run stopped after/);
});

test('on a terminal (not CI) a live bar is drawn', async () => {
  const out = new FakeStream({ isTTY: true });
  const r = createReporter('plain', {
    stdout: out,
    stderr: new FakeStream(),
    isTTY: true,
    env: {},
  });
  r.emit(runStart());
  for (let s = 1; s <= 20; s += 1) r.emit(step(s));
  r.emit(runEnd(20));
  await r.close();
  assert.match(out.text(), /░{20}/);
  assert.match(out.text(), /20\/1000 · ETA 1m 38s · loss/);
  assert.match(out.text(), /run completed/);
});

test('summaryTable lines up keys', () => {
  const table = summaryTable(runEnd(10));
  assert.equal(
    table,
    [
      'run completed after 1s at step 10',
      '  loss          1.2345',
      '  mlm_accuracy  0.4500',
      'outputs',
      '  checkpoint  runs/tiny-demo/checkpoints/step-10',
      '  metrics     runs/tiny-demo/metrics.jsonl',
    ].join('\n'),
  );
});
