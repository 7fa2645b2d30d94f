/**
 * From a finished regression run to what `bert ci` prints and its exit code.
 * Pure: the command does the file writes and the printing.
 *
 *   run failed                 → exit 1
 *   no baseline, no update     → exit 1 (CI must not pass silently)
 *   a gated metric regressed   → exit 1, the table says which
 *   --update-baseline          → exit 0, the caller writes the report as the baseline
 */
import { compareMetrics, formatComparison, type Tolerances } from './compare.js';
import type { CiOutput, RegressionReport } from './report.js';

export interface Outcome {
  output: CiOutput;
  exitCode: number;
  /** Human-readable lines for stdout (without --json). */
  text: string;
  /** Lines for stderr: warnings a reader of the table should see. */
  warnings: string[];
}

export interface OutcomeInput {
  report: RegressionReport;
  baseline: RegressionReport | null;
  baselinePath: string;
  /** The config's tolerances with --tolerance applied. */
  tolerances: Tolerances;
  update: boolean;
}

export function ciOutcome(i: OutcomeInput): Outcome {
  const { report, baseline } = i;
  const warnings: string[] = [];
  const comparison = baseline
    ? compareMetrics(baseline.metrics, report.metrics, i.tolerances)
    : null;
  if (baseline && baseline.backend !== report.backend) {
    warnings.push(
      `warning: ${i.baselinePath} was recorded on ${baseline.backend}, this run used ${report.backend}; numbers may differ by more than float noise`,
    );
  }
  const lines = [
    `bert ci: ${report.name} on ${report.backend}, ${report.status} in ${report.timings.total_s ?? '?'} s (${Object.entries(
      report.timings,
    )
      .filter(([k]) => k !== 'total_s')
      .map(([k, v]) => `${k.replace(/_s$/, '')} ${v} s`)
      .join(', ')})`,
    `baseline: ${i.baselinePath}${baseline ? ` (${baseline.backend}, ${baseline.started})` : ' (none)'}`,
    '',
  ];
  if (comparison) lines.push(formatComparison(comparison));
  let verdict: CiOutput['verdict'];
  let exitCode: number;
  if (report.status !== 'completed') {
    verdict = 'fail';
    exitCode = 1;
    lines.push('', `FAIL: the run ${report.status}; no baseline was written`);
  } else if (i.update) {
    verdict = 'updated';
    exitCode = 0;
    lines.push('', `baseline written: ${i.baselinePath}`);
  } else if (!comparison) {
    verdict = 'no-baseline';
    exitCode = 1;
    lines.push(
      `FAIL: no baseline at ${i.baselinePath}; create it deliberately with --update-baseline`,
    );
  } else {
    verdict = comparison.verdict;
    exitCode = comparison.verdict === 'pass' ? 0 : 1;
  }
  const output: CiOutput = {
    ...report,
    baseline: i.baselinePath,
    baseline_backend: baseline?.backend ?? null,
    comparison,
    verdict,
  };
  return { output, exitCode, text: lines.join('\n'), warnings };
}
