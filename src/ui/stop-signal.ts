/**
 * A graceful-stop request the trainer polls between steps: set by the
 * dashboard's `q` / Ctrl-C (raw mode swallows SIGINT) and by SIGINT/SIGTERM.
 * The trainer then finishes the step, writes a checkpoint and exits. A second
 * request means the user is not willing to wait: `onForce` runs (the process
 * handlers exit with 130).
 */
export type StopListener = (reason: string) => void;

export interface StopSignalOptions {
  /** Runs on the second request; nothing by default (tests, library use). */
  onForce?: (reason: string) => void;
}

export class StopSignal {
  private requests = 0;
  private firstReason: string | null = null;
  private readonly listeners: StopListener[] = [];
  private readonly onForce: ((reason: string) => void) | undefined;

  constructor(options: StopSignalOptions = {}) {
    this.onForce = options.onForce;
  }

  stopRequested(): boolean {
    return this.requests > 0;
  }

  /** Why the first stop was asked for ('SIGINT', 'q pressed', ...), or null. */
  get reason(): string | null {
    return this.firstReason;
  }

  request(reason: string): void {
    this.requests += 1;
    if (this.requests === 1) {
      this.firstReason = reason;
      for (const listener of this.listeners) listener(reason);
    } else {
      this.onForce?.(reason);
    }
  }

  /** Called once, on the first request (e.g. to show "stopping…" or log it). */
  onStop(listener: StopListener): void {
    this.listeners.push(listener);
    if (this.firstReason !== null) listener(this.firstReason);
  }

  /** Route a reporter's stop requests (the dashboard's keys) here. */
  attach(reporter: { onStop(cb: StopListener): void }): this {
    reporter.onStop((reason) => this.request(reason));
    return this;
  }

  /**
   * Make SIGINT and SIGTERM request a graceful stop instead of killing the
   * process; a second signal exits with 130 (the shell's code for Ctrl-C).
   * Returns a function that removes the handlers.
   */
  static forProcess(proc: NodeJS.Process = process): { signal: StopSignal; dispose: () => void } {
    const signal = new StopSignal({
      onForce: (reason) => {
        proc.stderr.write(`\n${reason} again: exiting without a checkpoint\n`);
        proc.exit(130);
      },
    });
    const onSigint = (): void => signal.request('SIGINT');
    const onSigterm = (): void => signal.request('SIGTERM');
    proc.on('SIGINT', onSigint);
    proc.on('SIGTERM', onSigterm);
    return {
      signal,
      dispose: () => {
        proc.off('SIGINT', onSigint);
        proc.off('SIGTERM', onSigterm);
      },
    };
  }
}

/**
 * Let pending I/O callbacks run: key presses (q / Ctrl-C in the dashboard),
 * SIGINT/SIGTERM, worker messages, render timers. A training loop whose
 * awaits all resolve at once (a loader queue that is never empty) never
 * reaches them, so a stop request would wait until the queue runs dry. Call
 * it once per step, before polling `stopRequested()`; it costs microseconds.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
