/**
 * The regression verdict: a run's metrics against a baseline's, each gated
 * metric with an absolute tolerance, direction-aware (a loss may not rise by
 * more than its tolerance, an accuracy may not fall by more). Pure: the CLI
 * prints `formatComparison` and turns `verdict` into an exit code.
 */
import { UserError } from '../errors.js';

/** Metric name → value, e.g. `pretrain.heldout_mlm_loss` → 6.21. */
export type Metrics = Record<string, number>;

/** Metric name → the largest change in the bad direction that still passes. */
export type Tolerances = Record<string, number>;

export type Direction = 'lower' | 'higher';

export type RowVerdict = 'ok' | 'improved' | 'REGRESSED' | 'MISSING' | 'new';

export interface ComparisonRow {
  metric: string;
  direction: Direction;
  baseline: number | null;
  now: number | null;
  tolerance: number;
  /** The worst value that still passes (baseline ± tolerance), or null without a baseline. */
  allowed: number | null;
  verdict: RowVerdict;
}

export interface Comparison {
  rows: ComparisonRow[];
  verdict: 'pass' | 'fail';
  /** The gated metrics that failed, in table order. */
  regressed: string[];
}

/**
 * Which way is better, from the metric's name: losses, perplexities and
 * errors go down; everything else we gate (accuracy, F1, MCC, correlations) goes up.
 */
export function directionOf(metric: string): Direction {
  const leaf = metric.slice(metric.lastIndexOf('.') + 1);
  return /(loss|perplexity|error|_s$|_ms$)/.test(leaf) ? 'lower' : 'higher';
}

/** Parse `--tolerance a=0.02,b=0.1` (repeatable) into a map; one line per mistake. */
export function parseTolerances(args: readonly string[]): Tolerances {
  const out: Tolerances = {};
  for (const arg of args) {
    for (const part of arg.split(',')) {
      const item = part.trim();
      if (item === '') continue;
      const eq = item.indexOf('=');
      const name = eq > 0 ? item.slice(0, eq).trim() : '';
      const raw = eq > 0 ? item.slice(eq + 1).trim() : '';
      const value = Number(raw);
      if (name === '' || raw === '' || !Number.isFinite(value) || value < 0) {
        throw new UserError(
          `--tolerance ${item}: expected metric=number with number >= 0 (e.g. pretrain.heldout_mlm_loss=0.05)`,
        );
      }
      out[name] = value;
    }
  }
  return out;
}

function rowFor(
  metric: string,
  baseline: number | undefined,
  now: number | undefined,
  tolerance: number,
): ComparisonRow {
  const direction = directionOf(metric);
  const b = baseline ?? null;
  const n = now ?? null;
  const allowed = b === null ? null : direction === 'lower' ? b + tolerance : b - tolerance;
  let verdict: RowVerdict;
  if (n === null || !Number.isFinite(n)) verdict = 'MISSING';
  else if (b === null || allowed === null) verdict = 'new';
  else if (direction === 'lower' ? n > allowed : n < allowed) verdict = 'REGRESSED';
  else if (direction === 'lower' ? n < b - tolerance : n > b + tolerance) verdict = 'improved';
  else verdict = 'ok';
  return { metric, direction, baseline: b, now: n, tolerance, allowed, verdict };
}

/**
 * Compare `now` with `baseline` on the metrics named in `tolerances`. A gated
 * metric the run did not produce (or produced as NaN) fails; one the baseline
 * lacks passes as 'new' (a baseline update will record it).
 */
export function compareMetrics(
  baseline: Metrics,
  now: Metrics,
  tolerances: Tolerances,
): Comparison {
  const rows = Object.keys(tolerances)
    .sort()
    .map((metric) => rowFor(metric, baseline[metric], now[metric], tolerances[metric]));
  const regressed = rows
    .filter((r) => r.verdict === 'REGRESSED' || r.verdict === 'MISSING')
    .map((r) => r.metric);
  return { rows, regressed, verdict: regressed.length > 0 ? 'fail' : 'pass' };
}

/** Enough digits to see a change of a tenth of the tolerance, at most 6 after the point. */
function fmt(v: number | null, tolerance: number): string {
  if (v === null) return '—';
  if (!Number.isFinite(v)) return String(v);
  const decimals =
    tolerance > 0 ? Math.min(6, Math.max(4, Math.ceil(-Math.log10(tolerance)) + 1)) : 6;
  return v.toFixed(decimals);
}

/** The table CI logs show: metric / baseline / now / allowed / verdict, then a one-line summary. */
export function formatComparison(c: Comparison): string {
  const header = ['metric', 'baseline', 'now', 'allowed', 'verdict'];
  const body = c.rows.map((r) => [
    r.metric,
    fmt(r.baseline, r.tolerance),
    fmt(r.now, r.tolerance),
    r.allowed === null
      ? '—'
      : `${r.direction === 'lower' ? '<=' : '>='} ${fmt(r.allowed, r.tolerance)}`,
    r.verdict,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === 0 || i === 4 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  out.push(
    '',
    c.verdict === 'pass'
      ? `PASS: ${c.rows.length} metrics within tolerance`
      : `FAIL: ${c.regressed.length} of ${c.rows.length} metrics regressed past tolerance: ${c.regressed.join(', ')}`,
  );
  return out.join('\n');
}
