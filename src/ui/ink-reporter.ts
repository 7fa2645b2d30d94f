/**
 * `--ui ink`: the live dashboard. Every event is folded into the state at
 * once (cheap, pure), but React renders at most `fps` times a second: a
 * render happens inside `emit` when the last one is old enough (so a
 * training loop that never yields still refreshes), otherwise a trailing
 * timer catches the latest state. A 1 s tick keeps elapsed/ETA moving
 * through slow steps; terminal resizes re-render at the new size.
 */
// First: React reads NODE_ENV when it loads. (A .ts file, not .tsx: the compiler would hoist
// the JSX runtime import, and with it React, above this line.)
import './react-env.js';
import { createElement } from 'react';
import { render, type Instance } from 'ink';
import { Dashboard } from './dashboard.js';
import type { BertEvent } from './events.js';
import { initialState, reduce, type DashboardState } from './state.js';
import type { OutStream, UiReporter } from './types.js';

export interface InkReporterOptions {
  stdout: OutStream;
  stderr: OutStream;
  /** Keys (q / Ctrl-C) are read from here when it is a terminal. */
  stdin?: NodeJS.ReadStream;
  /** Most renders per second. */
  fps?: number;
  /** Ink's debug mode: every frame written in full (tests read the frames). */
  debug?: boolean;
  /** Route console.* above the dashboard instead of through it. */
  patchConsole?: boolean;
  /** Clock and RSS probe; injectable for tests. */
  now?: () => number;
  rss?: () => number;
}

export class InkReporter implements UiReporter {
  readonly kind = 'ink' as const;
  private state: DashboardState = initialState();
  private readonly instance: Instance;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private readonly rss: () => number;
  private lastRenderMs = -Infinity;
  private trailing: NodeJS.Timeout | null = null;
  private readonly ticker: NodeJS.Timeout;
  private readonly stopListeners: ((reason: string) => void)[] = [];
  private closed = false;
  /** How many times React was asked to render (the bench reports it). */
  renders = 0;

  constructor(private readonly opts: InkReporterOptions) {
    this.minIntervalMs = 1000 / (opts.fps ?? 10);
    this.now = opts.now ?? Date.now;
    this.rss = opts.rss ?? (() => process.memoryUsage.rss());
    this.instance = render(this.element(), {
      stdout: opts.stdout as unknown as NodeJS.WriteStream,
      stderr: opts.stderr as unknown as NodeJS.WriteStream,
      // Ink spreads these over its defaults: an explicit undefined would erase process.stdin.
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
      debug: opts.debug ?? false,
      exitOnCtrlC: false,
      patchConsole: opts.patchConsole ?? false,
      // Our own throttle already limits renders; Ink's should never delay one.
      maxFps: (opts.fps ?? 10) * 4,
    });
    this.lastRenderMs = this.now();
    this.ticker = setInterval(() => this.render(), 1000);
    this.ticker.unref();
    opts.stdout.on?.('resize', this.onResize);
  }

  emit(event: BertEvent): void {
    if (this.closed) return;
    this.state = reduce(this.state, event);
    // Rare events that change what a reader looks for show up at once.
    const urgent =
      event.type === 'run_start' || event.type === 'run_end' || event.type === 'warning';
    if (urgent || this.now() - this.lastRenderMs >= this.minIntervalMs) {
      this.render();
    } else if (this.trailing === null) {
      this.trailing = setTimeout(() => this.render(), this.minIntervalMs);
      this.trailing.unref();
    }
  }

  onStop(cb: (reason: string) => void): void {
    this.stopListeners.push(cb);
  }

  /** The current state (for tests and the bench). */
  get snapshot(): DashboardState {
    return this.state;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.render();
    this.closed = true;
    clearInterval(this.ticker);
    if (this.trailing !== null) clearTimeout(this.trailing);
    this.opts.stdout.off?.('resize', this.onResize);
    this.instance.unmount();
    await this.instance.waitUntilExit();
  }

  private readonly onResize = (): void => this.render();

  private readonly requestStop = (reason: string): void => {
    // Every press is passed on: a second one is how a user insists (StopSignal forces the exit).
    if (!this.state.stopping) {
      this.state = { ...this.state, stopping: true };
      this.render();
    }
    for (const cb of this.stopListeners) cb(reason);
  };

  private render(): void {
    if (this.closed) return;
    if (this.trailing !== null) {
      clearTimeout(this.trailing);
      this.trailing = null;
    }
    this.lastRenderMs = this.now();
    this.renders += 1;
    this.instance.rerender(this.element());
  }

  private element() {
    return createElement(Dashboard, {
      state: this.state,
      nowMs: this.now(),
      columns: this.opts.stdout.columns || 80,
      rows: this.opts.stdout.rows || 24,
      rssBytes: this.rss(),
      onStop: this.requestStop,
    });
  }
}
