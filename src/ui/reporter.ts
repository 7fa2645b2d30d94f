/**
 * Choosing and wiring reporters: `--ui ink|plain|json|auto` plus
 * metrics.jsonl in the run directory whatever the UI.
 *
 *   const { signal, dispose } = StopSignal.forProcess();
 *   const reporter = createReporter(ui, { runDir, stdout: process.stdout, stderr: process.stderr,
 *     stdin: process.stdin, isTTY: process.stdout.isTTY === true, env: process.env });
 *   signal.attach(reporter);            // q / Ctrl-C in the dashboard
 *   ... trainer polls signal.stopRequested() between steps ...
 *   await reporter.close(); dispose();
 */
import { InkReporter } from './ink-reporter.js';
import { JsonReporter } from './json-reporter.js';
import { MetricsFileReporter } from './metrics-file.js';
import { PlainReporter } from './plain-reporter.js';
import { TeeReporter } from './tee.js';
import type { BertEvent, Reporter } from './events.js';
import { isCI, type OutStream, type UiKind, type UiReporter } from './types.js';

export type UiRequest = UiKind | 'auto';

export interface CreateReporterOptions {
  /** Where metrics.jsonl goes; null/undefined for commands without a run directory. */
  runDir?: string | null;
  stdout: OutStream;
  stderr: OutStream;
  stdin?: NodeJS.ReadStream;
  /** Whether stdout is a terminal. */
  isTTY: boolean;
  env: Record<string, string | undefined>;
  /** Seconds between plain summary lines (no terminal / CI). */
  plainIntervalS?: number;
}

/** 'auto': the dashboard on a terminal unless CI=true; plain lines otherwise. */
export function resolveUiKind(
  kind: UiRequest,
  isTTY: boolean,
  env: Record<string, string | undefined>,
): UiKind {
  if (kind !== 'auto') return kind;
  return isTTY && !isCI(env) ? 'ink' : 'plain';
}

export function createReporter(kind: UiRequest, opts: CreateReporterOptions): UiReporter {
  const resolved = resolveUiKind(kind, opts.isTTY, opts.env);
  const ui = createUi(resolved, opts);
  if (!opts.runDir) return ui;
  return withMetricsFile(ui, MetricsFileReporter.forRunDir(opts.runDir));
}

function createUi(kind: UiKind, opts: CreateReporterOptions): UiReporter {
  switch (kind) {
    case 'json':
      return new JsonReporter(opts.stdout, opts.stderr);
    case 'plain':
      return new PlainReporter({
        stdout: opts.stdout,
        stderr: opts.stderr,
        bar: opts.isTTY && !isCI(opts.env),
        intervalS: opts.plainIntervalS,
      });
    case 'ink':
      return new InkReporter({
        stdout: opts.stdout,
        stderr: opts.stderr,
        stdin: opts.stdin,
        patchConsole: true,
        color: opts.env.NO_COLOR === undefined,
        stats: opts.env.BERT_UI_STATS === '1',
      });
  }
}

/** The UI reporter with every event also appended to `metrics`. */
export function withMetricsFile(ui: UiReporter, metrics: Reporter): UiReporter {
  const tee = new TeeReporter([metrics, ui]);
  return {
    kind: ui.kind,
    emit: (event: BertEvent) => tee.emit(event),
    flush: () => tee.flush(),
    close: () => tee.close(),
    onStop: (cb) => ui.onStop(cb),
  };
}
