/** Event factories and a fake terminal stream shared by the UI tests and bench. */
import { EventEmitter } from 'node:events';
import type {
  CheckpointEvent,
  EvalEvent,
  ProgressEvent,
  RunEndEvent,
  RunStartEvent,
  StepEvent,
} from '../../src/ui/events.js';

export const T0 = Date.parse('2026-01-01T00:00:00.000Z');
export const iso = (ms: number): string => new Date(ms).toISOString();

/** A writable "terminal" that keeps what was written. */
export class FakeStream extends EventEmitter {
  chunks: string[] = [];
  isTTY: boolean;
  columns: number;
  rows: number;
  constructor(opts: { isTTY?: boolean; columns?: number; rows?: number } = {}) {
    super();
    this.isTTY = opts.isTTY ?? false;
    this.columns = opts.columns ?? 80;
    this.rows = opts.rows ?? 24;
  }
  write(chunk: string, cb?: (err?: Error | null) => void): boolean {
    this.chunks.push(chunk);
    cb?.();
    return true;
  }
  text(): string {
    return this.chunks.join('');
  }
  /** Non-empty writes (Ink's debug mode writes each frame whole). */
  frames(): string[] {
    return this.chunks.filter((c) => c.trim() !== '');
  }
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

export function runStart(over: Partial<RunStartEvent> = {}): RunStartEvent {
  return {
    type: 'run_start',
    time: iso(T0),
    command: 'pretrain',
    run: 'runs/tiny-demo',
    backend: 'wasm',
    model: { size: 'tiny', layers: 2, hidden: 128, heads: 2, parameters: 4_385_920 },
    data: 'data/corpus/sample.txt',
    totalSteps: 1000,
    ...over,
  };
}

/** Step `step` at `step * msPerStep` after T0, with a decaying loss. */
export function step(n: number, over: Partial<StepEvent> = {}, msPerStep = 100): StepEvent {
  return {
    type: 'step',
    time: iso(T0 + n * msPerStep),
    step: n,
    totalSteps: 1000,
    epoch: 0,
    loss: 1 + 9 * Math.exp(-n / 200),
    mlm_loss: 0.5 + 8 * Math.exp(-n / 200),
    nsp_loss: 0.69,
    mlm_accuracy: 0.123,
    nsp_accuracy: 0.51,
    lr: 1e-4,
    grad_norm: 1.25,
    tokens_per_s: 12_345,
    examples_per_s: 96,
    step_ms: msPerStep,
    queue_depth: 8,
    data_wait_ms: 0.2,
    tensors: 1234,
    tensor_bytes: 56_000_000,
    rss_bytes: 512 * 1024 * 1024,
    ...over,
  };
}

export function evalEvent(n: number, metrics: Record<string, number>): EvalEvent {
  return { type: 'eval', time: iso(T0 + n * 100), step: n, split: 'dev', metrics };
}

export function checkpoint(n: number, best = false): CheckpointEvent {
  return {
    type: 'checkpoint',
    time: iso(T0 + n * 100),
    step: n,
    path: `runs/tiny-demo/checkpoints/step-${n}`,
    best,
  };
}

export function progress(
  stage: string,
  done: number,
  total: number | null,
  atMs: number,
): ProgressEvent {
  return { type: 'progress', time: iso(T0 + atMs), stage, done, total, unit: 'lines' };
}

export function runEnd(n: number, status: RunEndEvent['status'] = 'completed'): RunEndEvent {
  return {
    type: 'run_end',
    time: iso(T0 + n * 100),
    status,
    step: n,
    elapsed_s: n / 10,
    summary: { loss: 1.2345, mlm_accuracy: 0.45 },
    outputs: {
      checkpoint: `runs/tiny-demo/checkpoints/step-${n}`,
      metrics: 'runs/tiny-demo/metrics.jsonl',
    },
  };
}

/** Any ANSI escape (CSI, OSC, or a bare ESC). */
// eslint-disable-next-line no-control-regex
export const ANSI = /\u001b/;

/** Enough of a TTY stdin for Ink's useInput: `press` delivers keys. */
export class FakeStdin extends EventEmitter {
  isTTY = true;
  private pending: string | null = null;
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
  read(): string | null {
    const p = this.pending;
    this.pending = null;
    return p;
  }
  press(data: string): void {
    this.pending = data;
    this.emit('readable');
    this.emit('data', data);
  }
}
