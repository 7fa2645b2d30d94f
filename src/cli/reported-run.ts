/**
 * A command that reports progress but writes no run directory (`tokenize`,
 * `embed`): its run_start, its work, and its run_end.
 */
import { performance } from 'node:perf_hooks';
import { errorLine } from '../errors.js';
import { describeFsError } from '../io/fs-errors.js';
import { now } from '../ui/events.js';
import type { UiReporter } from '../ui/types.js';

/** What a command's work reports when it completes. */
export interface ReportedEnd {
  summary: Record<string, number | string>;
  outputs: Record<string, string>;
}

/**
 * Emit run_start, run `work`, then emit run_end: completed with the work's
 * summary and outputs, or failed with the error line (and the error rethrown).
 * The reporter is closed either way.
 */
export async function runReported(
  reporter: UiReporter,
  start: { command: string; backend: string; config: Record<string, unknown> },
  work: () => Promise<ReportedEnd>,
): Promise<void> {
  const started = performance.now();
  reporter.emit({
    type: 'run_start',
    time: now(),
    command: start.command,
    run: null,
    backend: start.backend,
    totalSteps: null,
    config: start.config,
  });
  let status: 'completed' | 'failed' = 'failed';
  let error: string | undefined;
  try {
    const end = await work();
    status = 'completed';
    reporter.emit({
      type: 'run_end',
      time: now(),
      status,
      elapsed_s: (performance.now() - started) / 1000,
      summary: end.summary,
      outputs: end.outputs,
    });
  } catch (err) {
    error = errorLine(describeFsError(err) ?? err);
    throw err;
  } finally {
    if (status === 'failed') {
      reporter.emit({
        type: 'run_end',
        time: now(),
        status,
        elapsed_s: (performance.now() - started) / 1000,
        summary: {},
        outputs: {},
        ...(error ? { error } : {}),
      });
    }
    await reporter.close();
  }
}
