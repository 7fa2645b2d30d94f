/**
 * `runs/<run>/metrics.jsonl`: every event, one JSON object per line,
 * appended (a resumed run continues the same file), whatever the UI. Step
 * lines are buffered and written in batches (at 10+ steps/s one write per
 * step is wasted syscalls); anything rarer (eval, checkpoint, run end) and
 * the buffer after `flushMs` are written at once, and the buffer is flushed
 * on close and on process exit, so a crash loses at most a second of steps.
 * A failed write (a full disk) is cut back to the last whole line and thrown
 * from the next `emit`/`close`, on the training loop's path, never from a
 * timer, where it would crash the process.
 */
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeFsError } from '../io/fs-errors.js';
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
  private failure: unknown = null;
  private readonly onExit = (): void => this.flushQuietly();

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
    this.throwFailure();
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
      this.timer = setTimeout(() => this.flushQuietly(), this.flushMs);
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
    const size = fstatSync(this.fd).size;
    try {
      // writeSync may write less than asked; loop so no line is ever torn.
      for (let off = 0; off < bytes.length;) off += writeSync(this.fd, bytes, off);
    } catch (err) {
      // Cut a partly written line off, so the file stays whole lines (a resume appends to it).
      try {
        ftruncateSync(this.fd, size);
      } catch {
        // the error below is the one to report
      }
      throw describeFsError(err, { fallbackPath: this.path }) ?? err;
    }
  }

  /** Flush from a timer or the exit handler: keep a failure for the next emit/close. */
  private flushQuietly(): void {
    try {
      this.flush();
    } catch (err) {
      this.failure ??= err;
    }
  }

  private throwFailure(): void {
    if (this.failure === null) return;
    const err = this.failure;
    this.failure = null;
    throw err;
  }

  async close(): Promise<void> {
    process.off('exit', this.onExit);
    try {
      this.throwFailure();
      this.flush();
    } finally {
      if (this.fd !== null) {
        closeSync(this.fd);
        this.fd = null;
      }
    }
  }
}
