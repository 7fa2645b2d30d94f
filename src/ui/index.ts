/** The UI package's public surface: what the CLI and the trainer import. */
export type { BertEvent, Reporter } from './events.js';
export { now } from './events.js';
export {
  createReporter,
  resolveUiKind,
  withMetricsFile,
  type CreateReporterOptions,
  type UiRequest,
} from './reporter.js';
export { StopSignal, yieldToEventLoop } from './stop-signal.js';
export { MetricsFileReporter, METRICS_FILE } from './metrics-file.js';
export { TeeReporter } from './tee.js';
export { JsonReporter } from './json-reporter.js';
export { PlainReporter } from './plain-reporter.js';
export { InkReporter } from './ink-reporter.js';
export type { UiKind, UiReporter, OutStream } from './types.js';
