/**
 * What every training loop does between steps, in one place: give the event
 * loop a turn (key presses, signals, timers would otherwise wait while data
 * is ready), then honour a stop request or the wall-clock budget.
 */
import * as tf from '@tensorflow/tfjs-core';
import { now, type Reporter } from '../ui/events.js';
import { yieldToEventLoop } from '../ui/stop-signal.js';

export interface StopControl {
  stopRequested: () => boolean;
  /** The time source of the training clock (ms); performance.now unless a test drives it. */
  clock?: () => number;
}

/** Why the loop should stop before the next step: a stop request (Ctrl-C/q), the budget spent, or nothing. */
export async function stopReason(
  control: StopControl,
  budget: { spentMs: number; budgetMs: number | null },
  reporter: Reporter,
): Promise<'requested' | 'budget' | null> {
  await yieldToEventLoop();
  if (control.stopRequested()) return 'requested';
  if (budget.budgetMs !== null && budget.spentMs >= budget.budgetMs) {
    reporter.emit({
      type: 'log',
      time: now(),
      message: `time budget of ${budget.budgetMs / 60_000} min of training reached`,
    });
    return 'budget';
  }
  return null;
}

/** Memory fields of a step event: live tensors, their bytes, the process RSS. */
export function memoryFields(): { tensors: number; tensor_bytes: number; rss_bytes: number } {
  const mem = tf.memory();
  return {
    tensors: mem.numTensors,
    tensor_bytes: mem.numBytes,
    rss_bytes: process.memoryUsage.rss(),
  };
}
