import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { StopSignal, yieldToEventLoop } from '../../src/ui/stop-signal.js';
import { FakeStream } from './helpers.js';

test('the first request sets stopRequested and tells listeners once; the second forces', () => {
  const forced: string[] = [];
  const heard: string[] = [];
  const s = new StopSignal({ onForce: (r) => forced.push(r) });
  s.onStop((r) => heard.push(r));
  assert.equal(s.stopRequested(), false);
  s.request('q pressed');
  assert.equal(s.stopRequested(), true);
  assert.equal(s.reason, 'q pressed');
  s.request('Ctrl-C');
  assert.deepEqual(heard, ['q pressed']);
  assert.deepEqual(forced, ['Ctrl-C']);
});

test('a listener added after the request hears it at once', () => {
  const s = new StopSignal();
  s.request('SIGTERM');
  const heard: string[] = [];
  s.onStop((r) => heard.push(r));
  assert.deepEqual(heard, ['SIGTERM']);
});

test('attach routes a reporter’s stop requests', () => {
  let cb: ((reason: string) => void) | null = null;
  const s = new StopSignal().attach({ onStop: (f) => (cb = f) });
  assert.ok(cb);
  (cb as (reason: string) => void)('q pressed');
  assert.equal(s.stopRequested(), true);
});

test('SIGINT/SIGTERM request a stop; a second signal exits 130; dispose removes the handlers', () => {
  const proc = new EventEmitter() as EventEmitter & {
    stderr: FakeStream;
    exit: (code: number) => void;
  };
  const exits: number[] = [];
  proc.stderr = new FakeStream();
  proc.exit = (code) => exits.push(code);
  const { signal, dispose } = StopSignal.forProcess(proc as unknown as NodeJS.Process);
  proc.emit('SIGTERM');
  assert.equal(signal.stopRequested(), true);
  assert.equal(signal.reason, 'SIGTERM');
  assert.deepEqual(exits, []);
  proc.emit('SIGINT');
  assert.deepEqual(exits, [130]);
  dispose();
  assert.equal(proc.listenerCount('SIGINT'), 0);
  assert.equal(proc.listenerCount('SIGTERM'), 0);
});

test('a loop that only awaits resolved promises sees a signal once it yields to the event loop', async () => {
  const proc = new EventEmitter() as EventEmitter & {
    stderr: FakeStream;
    exit: (code: number) => void;
  };
  proc.stderr = new FakeStream();
  proc.exit = () => {};
  const { signal, dispose } = StopSignal.forProcess(proc as unknown as NodeJS.Process);
  // Stands in for a key press or a signal: delivered by the event loop, not synchronously.
  setImmediate(() => proc.emit('SIGINT'));
  let steps = 0;
  while (!signal.stopRequested() && steps < 1000) {
    await Promise.resolve();
    steps += 1;
  }
  assert.equal(steps, 1000, 'microtask-only awaits never let the signal in');
  steps = 0;
  while (!signal.stopRequested() && steps < 1000) {
    await yieldToEventLoop();
    steps += 1;
  }
  assert.ok(steps <= 2, `stopped after ${steps} steps`);
  dispose();
});
