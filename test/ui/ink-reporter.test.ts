import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InkReporter, renderInterval } from '../../src/ui/ink-reporter.js';
import { stripAnsi } from '../../src/ui/format.js';
import { FakeStdin, FakeStream, T0, runEnd, runStart, step } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An InkReporter writing to `out`, on a fake clock at T0, with run_start emitted. */
async function startedReporter(
  out: FakeStream,
  renderBudget = 1,
): Promise<{ r: InkReporter; clock: { t: number } }> {
  const clock = { t: T0 };
  const r = new InkReporter({
    stdout: out,
    stderr: new FakeStream(),
    debug: true,
    now: () => clock.t,
    rss: () => 1024,
    // Budget 1 = no slowdown for slow renders: these tests count renders against the fps cap.
    renderBudget,
  });
  await r.ready;
  r.emit(runStart());
  return { r, clock };
}

/** Steps 1..count, `dtMs` apart on the fake clock (each step event says it took that long). */
function emitTimedSteps(r: InkReporter, clock: { t: number }, count: number, dtMs: number): void {
  for (let s = 1; s <= count; s += 1) {
    clock.t += dtMs;
    r.emit(step(s, {}, dtMs));
  }
}

const lastFrame = (out: FakeStream): string => stripAnsi(out.frames().at(-1) ?? '');

test('a burst of steps renders a handful of frames, the last one current', async () => {
  const out = new FakeStream({ columns: 80, rows: 24 });
  const { r } = await startedReporter(out);
  for (let s = 1; s <= 1000; s += 1) r.emit(step(s));
  // All 1000 steps arrived within one render interval: only run_start rendered so far.
  assert.ok(r.renders <= 2, `${r.renders} renders`);
  assert.equal(r.snapshot.lastStep?.step, 1000);
  await sleep(150);
  assert.ok(r.renders <= 3, `${r.renders} renders`);
  assert.match(lastFrame(out), /1,000\/1,000/);
  await r.close();
});

test('renders at most fps times per second of clock time', async () => {
  const { r, clock } = await startedReporter(new FakeStream());
  // 50 steps/s for 3 simulated seconds: 10 renders a second.
  emitTimedSteps(r, clock, 150, 20);
  assert.ok(r.renders >= 28 && r.renders <= 32, `${r.renders} renders`);
  await r.close();
});

test('slow renders stretch the interval to stay within the render budget', async () => {
  assert.equal(renderInterval(100, 0.5, 0.015), 100);
  assert.ok(Math.abs(renderInterval(100, 3, 0.015) - 200) < 1e-9);
  assert.equal(renderInterval(100, 1e9, 0.015), 5000, 'capped: the screen still updates');
  // A budget no real render can meet: after the first frames the steps wait.
  const { r, clock } = await startedReporter(new FakeStream(), 1e-9);
  const before = r.renders;
  emitTimedSteps(r, clock, 150, 20);
  assert.equal(r.renders, before);
  await r.close();
});

test('frames fit the terminal and follow a resize', async () => {
  const out = new FakeStream({ columns: 80, rows: 24 });
  const { r } = await startedReporter(out);
  r.emit(step(1));
  let lines = lastFrame(out).split('\n');
  assert.ok(lines.length <= 24);
  assert.equal([...lines[0]].length, 80);
  out.resize(64, 20);
  lines = lastFrame(out).split('\n');
  assert.equal([...lines[0]].length, 64);
  assert.ok(lines.length <= 20);
  await r.close();
});

test('close renders the final state with the run status', async () => {
  const out = new FakeStream();
  const { r } = await startedReporter(out);
  r.emit(step(1));
  r.emit(step(2));
  r.emit(runEnd(2, 'stopped'));
  await r.close();
  assert.match(lastFrame(out), /stopped after 0s/);
  // Nothing is rendered after close.
  const n = out.chunks.length;
  r.emit(step(3));
  assert.equal(out.chunks.length, n);
});

test('a stop request from the dashboard reaches onStop listeners and shows "stopping"', async () => {
  const out = new FakeStream();
  const clock = { t: T0 };
  const stdin = new FakeStdin();
  const r = new InkReporter({
    stdout: out,
    stderr: new FakeStream(),
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    now: () => clock.t,
  });
  await r.ready;
  const reasons: string[] = [];
  r.onStop((reason) => reasons.push(reason));
  r.emit(runStart());
  r.emit(step(1));
  await sleep(20);
  stdin.press('q');
  await sleep(20);
  assert.deepEqual(reasons, ['q pressed']);
  assert.match(lastFrame(out), /stopping/);
  stdin.press('\u0003');
  await sleep(20);
  assert.deepEqual(reasons, ['q pressed', 'Ctrl-C']);
  await r.close();
});
