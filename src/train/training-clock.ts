/**
 * Elapsed training time, the clock a wall-clock budget (train.budget_minutes)
 * runs on: from the first optimizer step, plus what a resumed run had
 * already spent, minus the spans the engine pauses it for (evaluation,
 * writing checkpoints). Start-up (tokenizing shards, building the model and
 * the held-out batches) is before the first step and never counts. The time
 * source is injected, so tests drive it without waiting.
 */
export class TrainingClock {
  private startedAt: number | null = null;
  private pausedMs = 0;

  /** `now` in ms (performance.now in a real run); `priorMs`: training time spent before a resume. */
  constructor(
    private readonly now: () => number,
    private readonly priorMs = 0,
  ) {}

  /** Start counting (before the first step); later calls do nothing. */
  start(): void {
    this.startedAt ??= this.now();
  }

  /** Training time so far, in ms. */
  elapsedMs(): number {
    if (this.startedAt === null) return this.priorMs;
    return this.priorMs + this.now() - this.startedAt - this.pausedMs;
  }

  /** Stop the clock (evaluation, a checkpoint); the function returned starts it again. */
  pause(): () => void {
    const from = this.now();
    return () => {
      if (this.startedAt !== null) this.pausedMs += this.now() - from;
    };
  }
}
