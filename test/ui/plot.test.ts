import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { UserError } from '../../src/errors.js';
import { plotRun } from '../../src/plot/plot.js';
import { collectSeries, downsample, parseMetricsLines } from '../../src/plot/metrics.js';
import { step, evalEvent } from './helpers.js';

const FIXTURE = join(packageRoot, 'test', 'ui', 'fixtures', 'metrics.jsonl');

async function withRunDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'bert-plot-'));
  try {
    await copyFile(FIXTURE, join(dir, 'metrics.jsonl'));
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every tag closes in order: enough to catch a truncated or mangled SVG. */
function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else stack.push(name);
  }
  assert.deepEqual(stack, []);
}

test('plotRun writes a valid SVG with loss, accuracy and lr curves and the eval points', async () => {
  await withRunDir(async (dir) => {
    const out = await plotRun(dir);
    assert.equal(out, join(dir, 'plot.svg'));
    const svg = await readFile(out, 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    assertWellFormed(svg);
    for (const title of ['Loss', 'Accuracy and eval scores', 'Learning rate']) {
      assert.ok(svg.includes(`>${title}</text>`), title);
    }
    assert.ok(svg.includes('fixture-tiny · pretrain · tiny (L2/H128) · wasm'));
    const legends = [...svg.matchAll(/aria-label="Symbol legend for [^"]*"/g)].map((m) => m[0]);
    assert.deepEqual(legends, [
      'aria-label="Symbol legend for fill color and stroke color with 3 values: loss, mlm_loss, nsp_loss"',
      'aria-label="Symbol legend for strokeDash with 2 values: train, dev"',
      'aria-label="Symbol legend for fill color and stroke color with 2 values: mlm_accuracy, nsp_accuracy"',
      'aria-label="Symbol legend for strokeDash with 2 values: train, dev"',
      'aria-label="Symbol legend for stroke color with 1 value: lr"',
    ]);
    // Each train series is a line starting at the fixture's first step.
    assert.ok(svg.includes('aria-label="step: 1; loss: 12.1394; metric: loss; source: train"'));
    assert.ok(svg.includes('aria-label="step: 1; loss: 10.7623; metric: mlm_loss; source: train"'));
    assert.ok(
      svg.includes('aria-label="step: 1; score: 0.50; metric: nsp_accuracy; source: train"'),
    );
    // Eval points sit at the eval steps, with the fixture's values.
    const evalLoss = [
      ...svg.matchAll(/aria-label="step: (\d+); loss: ([\d.]+); metric: loss; source: dev"/g),
    ].map((m) => `${m[1]}=${m[2]}`);
    for (const p of ['20=7.5476', '40=4.7996', '60=3.3887']) assert.ok(evalLoss.includes(p), p);
  });
});

test('plotRun writes where --out says and refuses formats it cannot make', async () => {
  await withRunDir(async (dir) => {
    const out = join(dir, 'sub', 'curves.svg');
    assert.equal(await plotRun(dir, out), out);
    assert.match(await readFile(out, 'utf8'), /^<svg/);
    await assert.rejects(
      plotRun(dir, join(dir, 'curves.pdf')),
      (e: unknown) => e instanceof UserError && /\.svg or \.png/.test(e.message),
    );
  });
});

test('a .png name gives a PNG twice the SVG size (when the optional rasteriser is installed)', async (t) => {
  await withRunDir(async (dir) => {
    let out: string;
    try {
      out = await plotRun(dir, join(dir, 'plot.png'));
    } catch (e) {
      if (e instanceof UserError && /resvg/.test(e.message)) {
        t.skip('@resvg/resvg-js not installed');
        return;
      }
      throw e;
    }
    const png = await readFile(out);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const svg = await readFile(await plotRun(dir), 'utf8');
    const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg) ?? [];
    // IHDR: width and height as big-endian uint32 at bytes 16 and 20.
    assert.equal(png.readUInt32BE(16), 2 * Number(w));
    assert.equal(png.readUInt32BE(20), 2 * Number(h));
  });
});

test('a run directory without metrics.jsonl is a user error naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bert-plot-'));
  try {
    await assert.rejects(
      plotRun(dir),
      (e: unknown) => e instanceof UserError && e.message.startsWith(join(dir, 'metrics.jsonl')),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a torn last line is skipped; a bad line in the middle names file and line', () => {
  const good = JSON.stringify(step(1));
  assert.equal(parseMetricsLines(`${good}\n{"type":"st`, 'm.jsonl').length, 1);
  assert.throws(
    () => parseMetricsLines(`${good}\nnot json\n${good}\n`, 'm.jsonl'),
    (e: unknown) => e instanceof UserError && e.message.startsWith('m.jsonl:2:'),
  );
});

test('series keep the later value of a repeated step (resume) and skip NaN (null)', () => {
  const events = [
    step(1, { loss: 5 }),
    step(2, { loss: 4 }),
    step(3, { loss: 3 }),
    // Resumed from the step-2 checkpoint: step 3 again.
    step(3, { loss: 3.5 }),
    JSON.parse(JSON.stringify(step(4, { loss: Number.NaN }))),
    evalEvent(3, { loss: 3.6, accuracy: 0.7 }),
  ];
  const { series, steps } = collectSeries(events);
  assert.equal(steps, 4);
  const loss = series.find((s) => s.name === 'loss');
  assert.deepEqual(loss?.points, [
    { step: 1, value: 5 },
    { step: 2, value: 4 },
    { step: 3, value: 3.5 },
  ]);
  assert.equal(series.find((s) => s.name === 'dev loss')?.panel, 'loss');
  assert.equal(series.find((s) => s.name === 'dev accuracy')?.panel, 'accuracy');
  assert.equal(series.find((s) => s.name === 'lr')?.panel, 'lr');
});

test('downsample keeps at most maxPoints bucket means', () => {
  const points = Array.from({ length: 10_000 }, (_, i) => ({ step: i + 1, value: i % 2 }));
  const small = downsample(points, 100);
  assert.equal(small.length, 100);
  for (const p of small) assert.ok(Math.abs(p.value - 0.5) < 1e-9);
  assert.equal(small[0].step, 50.5);
});
