/**
 * `bert plot runs/<run>`: loss, accuracy and learning-rate curves (with eval
 * points) from metrics.jsonl as an SVG, drawn by Vega-Lite rendered
 * headless by Vega (no browser, no canvas). PNG is the same SVG rasterised by
 * resvg, an optional dependency (a prebuilt binary in its npm package).
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
  metric: string;
  source: string;
}

/**
 * The Vega-Lite spec: one panel per kind of curve. Colour is the metric and
 * the dash is where it was measured, so `loss` (train, solid) and `dev loss`
 * (eval, dashed with a point per evaluation) read as one quantity.
 */
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
            metric: s.metric,
            source: s.source,
          })),
        );
    const sources = [...new Set(series.map((s) => s.source))].sort((a, b) =>
      a === 'train' ? -1 : b === 'train' ? 1 : a.localeCompare(b),
    );
    const dashes = [
      [1, 0],
      [5, 3],
      [2, 2],
      [8, 2, 2, 2],
    ];
    const encoding = {
      x: { field: 'step', type: 'quantitative' as const, title: 'step', scale: { domainMin: 0 } },
      y: {
        field: 'value',
        type: 'quantitative' as const,
        title: axis,
        axis: format ? { format } : {},
      },
      color: { field: 'metric', type: 'nominal' as const, title: null },
      strokeDash: {
        field: 'source',
        type: 'nominal' as const,
        title: null,
        scale: { domain: sources, range: sources.map((_, i) => dashes[i % dashes.length]) },
        // Drawn as line samples so the dash shows; no legend when everything is train.
        legend: sources.length > 1 ? { symbolType: 'stroke', symbolStrokeWidth: 2 } : null,
      },
    };
    const layers = [];
    const train = rows('train');
    const evals = rows('eval');
    if (train.length > 0) {
      layers.push({
        data: { values: train },
        mark: { type: 'line' as const, strokeWidth: 1.5, clip: true },
        encoding,
      });
    }
    if (evals.length > 0) {
      layers.push({
        data: { values: evals },
        mark: { type: 'line' as const, point: { filled: true, size: 50 }, clip: true },
        encoding,
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
    resolve: { scale: { color: 'independent', strokeDash: 'independent', x: 'shared' } },
    config: {
      font: 'Helvetica, Arial, DejaVu Sans, Liberation Sans, sans-serif',
      view: { stroke: '#ddd' },
      axis: { grid: true, gridColor: '#eee' },
      legend: { orient: 'right' },
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

/** The part of @resvg/resvg-js used here (typed locally: the package is optional). */
interface ResvgModule {
  Resvg: new (
    svg: string,
    options?: { fitTo?: { mode: 'zoom'; value: number }; font?: { loadSystemFonts?: boolean } },
  ) => { render(): { asPng(): Uint8Array } };
}

/** Rasterise an SVG at `zoom`× its size. Needs the optional @resvg/resvg-js. */
export async function renderPng(svg: string, zoom = 2): Promise<Uint8Array> {
  // A variable name keeps the compiler from requiring the optional package's types.
  const name = '@resvg/resvg-js';
  let resvg: ResvgModule;
  try {
    resvg = (await import(name)) as ResvgModule;
  } catch {
    throw new UserError(
      'PNG output needs the optional package @resvg/resvg-js, which is not installed here; write .svg instead',
    );
  }
  const image = new resvg.Resvg(svg, { fitTo: { mode: 'zoom', value: zoom } }).render();
  return image.asPng();
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
 * Plot `runDir/metrics.jsonl` into `outPath` (default `runDir/plot.svg`;
 * a `.png` name gives a PNG). Returns the path written.
 */
export async function plotRun(runDir: string, outPath?: string): Promise<string> {
  const out = outPath ?? join(runDir, DEFAULT_PLOT_FILE);
  const ext = extname(out).toLowerCase();
  if (ext !== '.svg' && ext !== '.png') {
    throw new UserError(`--out ${out}: expected a .svg or .png file name`);
  }
  const metricsPath = join(runDir, METRICS_FILE);
  const metrics = collectSeries(await readMetricsFile(metricsPath));
  if (metrics.series.length === 0) {
    throw new UserError(
      `${metricsPath}: no step or eval events to plot (has the run taken a step yet?)`,
    );
  }
  const svg = await renderSvg(buildSpec(metrics, runTitle(runDir, metrics)));
  await writeFileAtomic(out, ext === '.png' ? await renderPng(svg) : svg);
  return out;
}
