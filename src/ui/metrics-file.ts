/**
 * `runs/<run>/metrics.jsonl`: every event, one JSON object per line,
 * appended (a resumed run continues the same file), whatever the UI. Step
 * lines are buffered and written in batches (at 10+ steps/s one write per
 * step is wasted syscalls); anything rarer (eval, checkpoint, run end) and
 * the buffer after `flushMs` are written at once, and the buffer is flushed
 * on close and on process exit, so a crash loses at most a second of steps.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BertEvent, Reporter } from './events.js';

export const METRICS_FILE = 'metrics.jsonl';

export interface MetricsFileOptions {
  /** Longest a step line waits in memory before it is written. */
  flushMs?: number;
  /** Buffer size that triggers a write regardless of time. */
  maxBufferBytes?: number;
}

export class MetricsFileReporter implements Reporter {
  readonly path: string;
  private fd: number | null;
  private buffer: string[] = [];
  private bufferBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastFlushMs = performance.now();
  private readonly flushMs: number;
  private readonly maxBufferBytes: number;
  private readonly onExit = (): void => this.flush();

  /** `path` is the metrics file itself; see `forRunDir` for the usual name. */
  constructor(path: string, options: MetricsFileOptions = {}) {
    this.path = path;
    this.flushMs = options.flushMs ?? 1000;
    this.maxBufferBytes = options.maxBufferBytes ?? 64 * 1024;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
    process.on('exit', this.onExit);
  }

  static forRunDir(runDir: string, options?: MetricsFileOptions): MetricsFileReporter {
    return new MetricsFileReporter(join(runDir, METRICS_FILE), options);
  }

  emit(event: BertEvent): void {
    if (this.fd === null) return;
    const line = JSON.stringify(event) + '\n';
    this.buffer.push(line);
    this.bufferBytes += line.length;
    // The age check runs here, not only in the timer: a training loop that never
    // yields to the event loop would otherwise starve the timer and keep the lines.
    if (
      event.type !== 'step' ||
      this.bufferBytes >= this.maxBufferBytes ||
      performance.now() - this.lastFlushMs >= this.flushMs
    ) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Write buffered lines now. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.lastFlushMs = performance.now();
    if (this.fd === null || this.buffer.length === 0) return;
    const data = this.buffer.join('');
    this.buffer = [];
    this.bufferBytes = 0;
    const bytes = Buffer.from(data, 'utf8');
    // writeSync may write less than asked; loop so no line is ever torn.
    for (let off = 0; off < bytes.length;) off += writeSync(this.fd, bytes, off);
  }

  async close(): Promise<void> {
    this.flush();
    process.off('exit', this.onExit);
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
