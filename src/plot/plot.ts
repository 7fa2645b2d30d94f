/**
 * `bert plot runs/<run>`: loss, accuracy and learning-rate curves (with eval
 * points) from metrics.jsonl as an SVG, drawn by Vega-Lite rendered
 * headless by Vega (no browser, no canvas).
 */
import { basename, extname, join, resolve } from 'node:path';
import { parse as parseVega, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { METRICS_FILE } from '../ui/metrics-file.js';
import {
  collectSeries,
  downsample,
  readMetricsFile,
  type Panel,
  type RunMetrics,
} from './metrics.js';

export const DEFAULT_PLOT_FILE = 'plot.svg';
const MAX_POINTS = 2000;

const PANELS: { panel: Panel; title: string; axis: string; format?: string }[] = [
  { panel: 'loss', title: 'Loss', axis: 'loss' },
  { panel: 'accuracy', title: 'Accuracy and eval scores', axis: 'score', format: '.2f' },
  { panel: 'lr', title: 'Learning rate', axis: 'lr', format: '.1e' },
];

interface Row {
  step: number;
  value: number;
  series: string;
}

/** The Vega-Lite spec: one panel per kind of curve, train series as lines, eval series as points. */
export function buildSpec(metrics: RunMetrics, title: string): TopLevelSpec {
  const charts = PANELS.flatMap(({ panel, title: panelTitle, axis, format }) => {
    const series = metrics.series.filter((s) => s.panel === panel);
    if (series.length === 0) return [];
    const rows = (kind: 'train' | 'eval'): Row[] =>
      series
        .filter((s) => s.kind === kind)
        .flatMap((s) =>
          downsample(s.points, MAX_POINTS).map((p) => ({
            step: p.step,
            value: p.value,
            series: s.name,
          })),
        );
    const x = {
      field: 'step',
      type: 'quantitative' as const,
      title: 'step',
      scale: { domainMin: 0 },
    };
    const y = {
      field: 'value',
      type: 'quantitative' as const,
      title: axis,
      axis: format ? { format } : {},
    };
    const color = {
      field: 'series',
      type: 'nominal' as const,
      title: null,
      legend: { orient: 'right' as const },
    };
    const layers = [];
    const train = rows('train');
    const evals = rows('eval');
    if (train.length > 0) {
      layers.push({
        data: { values: train },
        mark: { type: 'line' as const, strokeWidth: 1.5, clip: true },
        encoding: { x, y, color },
      });
    }
    if (evals.length > 0) {
      layers.push({
        data: { values: evals },
        mark: {
          type: 'line' as const,
          point: { filled: true, size: 50 },
          strokeDash: [4, 3],
          clip: true,
        },
        encoding: { x, y, color },
      });
    }
    return [{ title: panelTitle, width: 640, height: 170, layer: layers }];
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start' },
    background: 'white',
    padding: 12,
    vconcat: charts,
    resolve: { scale: { color: 'independent', x: 'shared' } },
    config: {
      font: 'sans-serif',
      view: { stroke: '#ddd' },
      axis: { grid: true, gridColor: '#eee' },
    },
  } as TopLevelSpec;
}

/** Render a Vega-Lite spec to an SVG string, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = compile(spec).spec;
  const view = new View(parseVega(vega), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Title line: the run's name, model and backend when the run_start event says them. */
function runTitle(runDir: string, metrics: RunMetrics): string {
  const s = metrics.start;
  const parts = [s?.run ?? basename(resolve(runDir))];
  if (s?.command) parts.push(s.command);
  if (s?.model) parts.push(`${s.model.size} (L${s.model.layers}/H${s.model.hidden})`);
  if (s?.backend) parts.push(s.backend);
  return parts.join(' · ');
}

/**
 * Plot `runDir/metrics.jsonl` into `outPath` (default `runDir/plot.svg`).
 * Returns the path written.
 */
export async function plotRun(runDir: string, outPath?: string): Promise<string> {
  const out = outPath ?? join(runDir, DEFAULT_PLOT_FILE);
  const ext = extname(out).toLowerCase();
  if (ext !== '.svg') {
    throw new UserError(`--out ${out}: only SVG output is supported (use a .svg file name)`);
  }
  const metricsPath = join(runDir, METRICS_FILE);
  const metrics = collectSeries(await readMetricsFile(metricsPath));
  if (metrics.series.length === 0) {
    throw new UserError(
      `${metricsPath}: no step or eval events to plot (has the run taken a step yet?)`,
    );
  }
  const svg = await renderSvg(buildSpec(metrics, runTitle(runDir, metrics)));
  await writeFileAtomic(out, svg);
  return out;
}
