/** Fan one event stream out to several reporters (the UI and metrics.jsonl). */
import type { BertEvent, Reporter } from './events.js';

export class TeeReporter implements Reporter {
  constructor(private readonly reporters: readonly Reporter[]) {}

  /** Every reporter gets the event even if one fails (a full disk under metrics.jsonl); the first failure is rethrown. */
  emit(event: BertEvent): void {
    let failure: { error: unknown } | null = null;
    for (const r of this.reporters) {
      try {
        r.emit(event);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  flush(): void {
    for (const r of this.reporters) r.flush?.();
  }

  /** Closes every reporter even if one fails; the first failure is rethrown. */
  async close(): Promise<void> {
    const results = await Promise.allSettled(this.reporters.map((r) => r.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
