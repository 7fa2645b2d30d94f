/**
 * What every training loop does between steps, in one place: give the event
 * loop a turn (key presses, signals, timers would otherwise wait while data
 * is ready), then honour a stop request or the time budget.
 */
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { now, type Reporter } from '../ui/events.js';
import { yieldToEventLoop } from '../ui/stop-signal.js';

export interface StopControl {
  stopRequested: () => boolean;
  /** --max-minutes, or null. */
  maxMinutes: number | null;
}

/** True when the loop should stop before the next step (Ctrl-C/q, or the time budget spent). */
export async function shouldStop(
  control: StopControl,
  startedMs: number,
  reporter: Reporter,
): Promise<boolean> {
  await yieldToEventLoop();
  if (control.stopRequested()) return true;
  if (control.maxMinutes !== null && performance.now() - startedMs > control.maxMinutes * 60_000) {
    reporter.emit({
      type: 'log',
      time: now(),
      message: `time budget of ${control.maxMinutes} min reached`,
    });
    return true;
  }
  return false;
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
