/**
 * What a regression run produces and what a baseline stores: the metrics,
 * timings, backend and versions of one run. A baseline is a report written
 * deliberately (`bert ci --update-baseline`); the comparison reads only its
 * `metrics`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../io/atomic.js';
import { UserError } from '../errors.js';
import type { Comparison, Metrics } from './compare.js';

export const BASELINE_FORMAT = 'bert-ci/1';

export interface RegressionReport {
  format: typeof BASELINE_FORMAT;
  name: string;
  config: string;
  status: 'completed' | 'stopped' | 'failed';
  backend: string;
  versions: Record<string, string>;
  git_sha: string | null;
  host: { platform: string; arch: string; cpus: number };
  started: string;
  /** Gated or not, every number the run produced, named `<stage>.<metric>`. */
  metrics: Metrics;
  /** Wall seconds per stage and in all (never gated by default: machines differ). */
  timings: Record<string, number>;
}

/** The one JSON object `bert ci --json` prints. */
export interface CiOutput extends RegressionReport {
  baseline: string;
  baseline_backend: string | null;
  comparison: Comparison | null;
  verdict: 'pass' | 'fail' | 'updated' | 'no-baseline';
}

function isMetrics(v: unknown): v is Metrics {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'number')
  );
}

/** Read a baseline file; null when it does not exist. */
export function readBaseline(path: string): RegressionReport | null {
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const obj = parsed as Partial<RegressionReport> | null;
  if (typeof obj !== 'object' || obj === null || !isMetrics(obj.metrics)) {
    throw new UserError(
      `${path}: metrics: expected an object of numbers (a file written by bert ci --update-baseline)`,
    );
  }
  return obj as RegressionReport;
}

/** Write `report` as the new baseline, atomically (the old one survives a crash mid-write). */
export async function writeBaseline(path: string, report: RegressionReport): Promise<void> {
  await writeJsonAtomic(path, report);
}
