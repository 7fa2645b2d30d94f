import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createReporter, resolveUiKind, type UiRequest } from '../../src/ui/reporter.js';
import { MetricsFileReporter, METRICS_FILE } from '../../src/ui/metrics-file.js';
import { TeeReporter } from '../../src/ui/tee.js';
import type { BertEvent, Reporter } from '../../src/ui/events.js';
import { FakeStream, checkpoint, evalEvent, runEnd, runStart, step } from './helpers.js';
import { inTempDir } from '../helpers/temp-dir.js';

const events = (): BertEvent[] => [
  runStart(),
  step(1),
  step(2),
  evalEvent(2, { loss: 3 }),
  checkpoint(2),
  runEnd(2),
];

async function readLines(path: string): Promise<BertEvent[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as BertEvent);
}

for (const kind of ['ink', 'plain', 'json', 'auto'] as UiRequest[]) {
  test(`metrics.jsonl gets every event with --ui ${kind}`, async () => {
    await inTempDir('bert-ui-', async (dir) => {
      const r = createReporter(kind, {
        runDir: join(dir, 'run'),
        stdout: new FakeStream({ isTTY: kind === 'ink' }),
        stderr: new FakeStream(),
        isTTY: false,
        env: {},
      });
      for (const e of events()) r.emit(e);
      await r.close();
      assert.deepEqual(await readLines(join(dir, 'run', METRICS_FILE)), events());
    });
  });
}

test('metrics.jsonl is appended to, so a resumed run continues the file', async () => {
  await inTempDir('bert-ui-', async (dir) => {
    const first = MetricsFileReporter.forRunDir(dir);
    first.emit(step(1));
    await first.close();
    const second = MetricsFileReporter.forRunDir(dir);
    second.emit(step(2));
    await second.close();
    assert.deepEqual(
      (await readLines(join(dir, METRICS_FILE))).map((e) => (e.type === 'step' ? e.step : -1)),
      [1, 2],
    );
  });
});

test('step lines are batched, rarer events written at once, the rest on flush', async () => {
  await inTempDir('bert-ui-', async (dir) => {
    const path = join(dir, METRICS_FILE);
    const r = new MetricsFileReporter(path, { flushMs: 60_000 });
    r.emit(step(1));
    r.emit(step(2));
    assert.equal(await readFile(path, 'utf8'), '');
    r.emit(checkpoint(2));
    assert.equal((await readLines(path)).length, 3);
    r.emit(step(3));
    r.flush();
    assert.equal((await readLines(path)).length, 4);
    await r.close();
  });
});

test('a step line older than flushMs is written by the next emit, without the event loop', async () => {
  await inTempDir('bert-ui-', async (dir) => {
    const path = join(dir, METRICS_FILE);
    const r = new MetricsFileReporter(path, { flushMs: 20 });
    r.emit(step(1));
    // Busy for longer than flushMs without yielding, like a training step.
    const end = performance.now() + 30;
    while (performance.now() < end) {
      // spin
    }
    r.emit(step(2));
    assert.deepEqual(
      (await readLines(path)).map((e) => (e.type === 'step' ? e.step : -1)),
      [1, 2],
    );
    await r.close();
  });
});

test('TeeReporter fans out and closes every reporter even when one fails', async () => {
  const seen: string[] = [];
  let closed = 0;
  const ok = (name: string): Reporter => ({
    emit: (e) => seen.push(`${name}:${e.type}`),
    close: async () => {
      closed += 1;
    },
  });
  const failing: Reporter = {
    emit: () => {},
    close: async () => {
      throw new Error('disk full');
    },
  };
  const tee = new TeeReporter([ok('a'), failing, ok('b')]);
  tee.emit(step(1));
  assert.deepEqual(seen, ['a:step', 'b:step']);
  await assert.rejects(tee.close(), /disk full/);
  assert.equal(closed, 2);
});

test("'auto' picks the dashboard only on a terminal outside CI", () => {
  assert.equal(resolveUiKind('auto', true, {}), 'ink');
  assert.equal(resolveUiKind('auto', true, { CI: 'true' }), 'plain');
  assert.equal(resolveUiKind('auto', true, { CI: 'false' }), 'ink');
  assert.equal(resolveUiKind('auto', false, {}), 'plain');
  assert.equal(resolveUiKind('json', true, {}), 'json');
  assert.equal(resolveUiKind('ink', false, { CI: '1' }), 'ink');
});
