/**
 * Reading a run's metrics.jsonl back into plottable series: one point per
 * step per series (a resumed run that repeats steps keeps the later value),
 * training curves from `step` events and eval points from `eval` events.
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import type { BertEvent, EvalEvent, RunStartEvent, StepEvent } from '../ui/events.js';

/** Which panel a series belongs to. */
export type Panel = 'loss' | 'accuracy' | 'lr';

export interface Point {
  step: number;
  value: number;
}

export interface Series {
  /** `loss`, `dev loss`, …: unique per series. */
  name: string;
  /** The quantity (`loss`, `mlm_accuracy`): train and eval curves of one metric share a colour. */
  metric: string;
  /** `train`, or the eval split (`dev`). */
  source: string;
  panel: Panel;
  /** 'train' series are lines over every step; 'eval' series are points. */
  kind: 'train' | 'eval';
  points: Point[];
}

export interface RunMetrics {
  start: RunStartEvent | null;
  series: Series[];
  steps: number;
}

/** Parse metrics.jsonl. A torn last line (a crash mid-write) is skipped; any other bad line is an error. */
export async function readMetricsFile(path: string): Promise<BertEvent[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError(
        `${path}: no such file (is this a run directory? metrics.jsonl is written by pretrain/finetune)`,
      );
    }
    throw err;
  }
  return parseMetricsLines(text, path);
}

export function parseMetricsLines(text: string, path: string): BertEvent[] {
  const lines = text.split('\n');
  const events: BertEvent[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i].trim();
    if (line === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (isLast) break;
      throw new UserError(`${path}:${i + 1}: not a JSON object (expected one event per line)`);
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      typeof (parsed as { type?: unknown }).type !== 'string'
    ) {
      throw new UserError(`${path}:${i + 1}: expected an event object with a "type" field`);
    }
    events.push(parsed as BertEvent);
  }
  return events;
}

const STEP_SERIES: { key: keyof StepEvent; panel: Panel }[] = [
  { key: 'loss', panel: 'loss' },
  { key: 'mlm_loss', panel: 'loss' },
  { key: 'nsp_loss', panel: 'loss' },
  { key: 'mlm_accuracy', panel: 'accuracy' },
  { key: 'nsp_accuracy', panel: 'accuracy' },
  { key: 'lr', panel: 'lr' },
];

/**
 * Eval metrics named like a loss go with the losses; counts
 * (`distinct_top_predictions`, on no panel's scale) are not drawn; everything
 * else (accuracy, F1, MCC…) goes with the scores.
 */
export function evalPanel(metric: string): Panel | null {
  if (/^distinct_/.test(metric)) return null;
  return /loss|perplexity/i.test(metric) ? 'loss' : 'accuracy';
}

export function collectSeries(events: readonly BertEvent[]): RunMetrics {
  const byName = new Map<
    string,
    {
      metric: string;
      source: string;
      panel: Panel;
      kind: 'train' | 'eval';
      values: Map<number, number>;
    }
  >();
  const put = (
    metric: string,
    source: string,
    panel: Panel,
    step: number,
    value: unknown,
  ): void => {
    // JSON turns NaN into null: such points are left out rather than drawn at 0.
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    const kind = source === 'train' ? 'train' : 'eval';
    const name = kind === 'train' ? metric : `${source} ${metric}`;
    let s = byName.get(name);
    if (!s) {
      s = { metric, source, panel, kind, values: new Map() };
      byName.set(name, s);
    }
    s.values.set(step, value);
  };
  let start: RunStartEvent | null = null;
  let maxStep = 0;
  for (const e of events) {
    if (e.type === 'run_start' && start === null) start = e;
    if (e.type === 'step') {
      maxStep = Math.max(maxStep, e.step);
      for (const { key, panel } of STEP_SERIES) put(key, 'train', panel, e.step, e[key]);
    }
    if (e.type === 'eval') {
      const ev: EvalEvent = e;
      for (const [metric, value] of Object.entries(ev.metrics ?? {})) {
        const panel = evalPanel(metric);
        if (panel) put(metric, ev.split, panel, ev.step, value);
      }
    }
  }
  const series: Series[] = [...byName.entries()].map(([name, s]) => ({
    name,
    metric: s.metric,
    source: s.source,
    panel: s.panel,
    kind: s.kind,
    points: [...s.values.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([step, value]) => ({ step, value })),
  }));
  return { start, series, steps: maxStep };
}

/**
 * At most `maxPoints` points, each the mean of a run of consecutive steps,
 * so a 1M-step run still makes an SVG a browser opens quickly.
 */
export function downsample(points: readonly Point[], maxPoints: number): Point[] {
  if (points.length <= maxPoints) return [...points];
  const out: Point[] = [];
  for (let i = 0; i < maxPoints; i += 1) {
    const from = Math.floor((i * points.length) / maxPoints);
    const to = Math.floor(((i + 1) * points.length) / maxPoints);
    let step = 0;
    let value = 0;
    for (let j = from; j < to; j += 1) {
      step += points[j].step;
      value += points[j].value;
    }
    out.push({ step: step / (to - from), value: value / (to - from) });
  }
  return out;
}
