import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonReporter } from '../../src/ui/json-reporter.js';
import type { BertEvent } from '../../src/ui/events.js';
import {
  FakeStream,
  T0,
  checkpoint,
  evalEvent,
  progress,
  runEnd,
  runStart,
  step,
} from './helpers.js';

test('every stdout line is one JSON event, in order, and nothing else', async () => {
  const out = new FakeStream();
  const err = new FakeStream();
  const r = new JsonReporter(out, err);
  const events: BertEvent[] = [
    runStart(),
    progress('encode', 10, 100, 0),
    step(1),
    step(2),
    evalEvent(2, { loss: 3.5, mlm_accuracy: 0.2 }),
    checkpoint(2, true),
    { type: 'log', time: new Date(T0).toISOString(), message: 'hello' },
    { type: 'warning', time: new Date(T0).toISOString(), message: 'careful' },
    runEnd(2),
  ];
  for (const e of events) r.emit(e);
  await r.close();
  const text = out.text();
  assert.ok(text.endsWith('\n'));
  const lines = text.slice(0, -1).split('\n');
  assert.equal(lines.length, events.length);
  assert.deepEqual(
    lines.map((l) => JSON.parse(l) as BertEvent),
    events,
  );
  // The warning is echoed for humans on stderr, never on stdout.
  assert.equal(err.text(), 'warning: careful\n');
});

test('a NaN loss is written as null, keeping the line valid JSON', async () => {
  const out = new FakeStream();
  const r = new JsonReporter(out, new FakeStream());
  r.emit(step(7, { loss: Number.NaN }));
  await r.close();
  const parsed = JSON.parse(out.text()) as { loss: unknown; step: number };
  assert.equal(parsed.loss, null);
  assert.equal(parsed.step, 7);
});
