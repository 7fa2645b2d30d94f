/**
 * `--ui json`: every event as one JSON object per line on stdout and nothing
 * else there, so `bert pretrain --ui json | jq` and CI tooling can read it.
 * Warnings are also echoed to stderr for the human watching the job.
 * Field names are documented in docs/events.md. Non-finite numbers (a NaN
 * loss) become `null`, as JSON has no NaN.
 */
import type { BertEvent } from './events.js';
import type { OutStream, UiReporter } from './types.js';

export class JsonReporter implements UiReporter {
  readonly kind = 'json' as const;
  /** Whether a run_end went to the process's stdout (the CLI adds one for a failure otherwise). */
  static wroteRunEnd = false;

  constructor(
    private readonly stdout: OutStream,
    private readonly stderr: OutStream,
  ) {}

  emit(event: BertEvent): void {
    this.stdout.write(JSON.stringify(event) + '\n');
    if (event.type === 'run_end' && this.stdout === process.stdout) JsonReporter.wroteRunEnd = true;
    if (event.type === 'warning') this.stderr.write(`warning: ${event.message}\n`);
  }

  onStop(): void {
    // No interactive input: stops come from signals (StopSignal.forProcess).
  }

  close(): Promise<void> {
    // Resolves once everything written so far has been handed to the OS.
    return new Promise((resolve) => {
      this.stdout.write('', () => resolve());
    });
  }
}
