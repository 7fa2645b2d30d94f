/**
 * `--ui ink`: the live dashboard. Every event is folded into the state at
 * once (cheap, pure), but React renders at most `fps` times a second, and
 * less often when renders are slow (Ink repaints the whole frame character
 * by character: a few ms on a busy machine), so the dashboard never takes
 * more than `renderBudget` of the wall time from training. A
 * render happens inside `emit` when the last one is old enough (so a
 * training loop that never yields still refreshes), otherwise a trailing
 * timer catches the latest state. A 1 s tick keeps elapsed/ETA moving
 * through slow steps; terminal resizes re-render at the new size.
 *
 * React picks its development or production build from NODE_ENV when it
 * loads, and the development one makes every render several times slower:
 * react-env.js sets it first. The imports are static on purpose: a training
 * loop that seldom yields to the event loop would hold up a dynamic import
 * (each module read is an I/O callback) and the dashboard would never show.
 */
// First: React reads NODE_ENV when it loads. (A .ts file, not .tsx: the compiler would hoist
// the JSX runtime import, and with it React, above this line.)
import './react-env.js';
import { createElement, type ReactElement } from 'react';
import { render, type Instance, type RenderOptions } from 'ink';
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
  /** Largest share of wall time spent rendering (default 0.01 = 1%). */
  renderBudget?: number;
  /** Colour the text (a terminal, NO_COLOR unset). */
  color?: boolean;
  /** Ink's debug mode: every frame written in full (tests read the frames). */
  debug?: boolean;
  /** Route console.* above the dashboard instead of through it. */
  patchConsole?: boolean;
  /** On close, print render count and the dashboard's share of the wall time to stderr. */
  stats?: boolean;
  /** Clock and RSS probe; injectable for tests. */
  now?: () => number;
  rss?: () => number;
}

export class InkReporter implements UiReporter {
  readonly kind = 'ink' as const;
  private state: DashboardState = initialState();
  private readonly instance: Instance;
  /** Resolved: the dashboard mounts in the constructor (kept for callers that await it). */
  readonly ready: Promise<void> = Promise.resolve();
  private readonly minIntervalMs: number;
  private readonly renderBudget: number;
  /** Smoothed wall time of one render, ms. */
  private renderMs = 0;
  private readonly now: () => number;
  private readonly rss: () => number;
  private lastRenderMs = -Infinity;
  private trailing: NodeJS.Timeout | null = null;
  private readonly ticker: NodeJS.Timeout;
  private readonly stopListeners: ((reason: string) => void)[] = [];
  private closed = false;
  /** How many times React was asked to render, and the time spent in emit and renders (bench). */
  renders = 0;
  busyMs = 0;
  private readonly createdMs = performance.now();

  constructor(private readonly opts: InkReporterOptions) {
    this.minIntervalMs = 1000 / (opts.fps ?? 10);
    this.renderBudget = opts.renderBudget ?? 0.01;
    this.now = opts.now ?? Date.now;
    this.rss = opts.rss ?? (() => process.memoryUsage.rss());
    // Only when nothing else rendered for a second: slow steps still see elapsed/ETA move.
    this.ticker = setInterval(() => {
      if (this.now() - this.lastRenderMs >= 1000) this.timed(() => this.render());
    }, 1000);
    this.ticker.unref();
    opts.stdout.on?.('resize', this.onResize);
    const options: RenderOptions = {
      stdout: opts.stdout as unknown as NodeJS.WriteStream,
      stderr: opts.stderr as unknown as NodeJS.WriteStream,
      // Ink spreads these over its defaults: an explicit undefined would erase process.stdin.
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
      debug: opts.debug ?? false,
      exitOnCtrlC: false,
      patchConsole: opts.patchConsole ?? false,
      // Our own throttle already limits renders; Ink's should never delay one.
      maxFps: (opts.fps ?? 10) * 4,
    };
    const t0 = performance.now();
    this.instance = render(this.element(), options);
    this.renders += 1;
    // Counted, but not the render-cost estimate: the first render pays for warm-up.
    this.busyMs += performance.now() - t0;
    this.lastRenderMs = this.now();
  }

  emit(event: BertEvent): void {
    if (this.closed) return;
    this.timed(() => this.apply(event));
  }

  private apply(event: BertEvent): void {
    this.state = reduce(this.state, event);
    // Rare events that change what a reader looks for show up at once.
    const urgent =
      event.type === 'run_start' || event.type === 'run_end' || event.type === 'warning';
    const interval = renderInterval(this.minIntervalMs, this.renderMs, this.renderBudget);
    if (urgent || this.now() - this.lastRenderMs >= interval) {
      this.render();
    } else if (this.trailing === null) {
      this.trailing = setTimeout(() => this.timed(() => this.render()), interval);
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
    if (this.opts.stats) {
      const wallMs = performance.now() - this.createdMs;
      this.opts.stderr.write(
        `ui: ${this.renders} renders in ${(wallMs / 1000).toFixed(1)} s, ` +
          `${this.busyMs.toFixed(0)} ms in the dashboard (${((100 * this.busyMs) / wallMs).toFixed(2)}% of the wall time)\n`,
      );
    }
  }

  private readonly onResize = (): void => this.timed(() => this.render());

  private timed(work: () => void): void {
    const t0 = performance.now();
    work();
    this.busyMs += performance.now() - t0;
  }

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
    const t0 = performance.now();
    this.renders += 1;
    this.instance.rerender(this.element());
    const took = performance.now() - t0;
    this.renderMs = this.renderMs === 0 ? took : 0.8 * this.renderMs + 0.2 * took;
    this.lastRenderMs = this.now();
  }

  private element(): ReactElement {
    return createElement(Dashboard, {
      state: this.state,
      nowMs: this.now(),
      columns: this.opts.stdout.columns || 80,
      rows: this.opts.stdout.rows || 24,
      rssBytes: this.rss(),
      color: this.opts.color ?? false,
      onStop: this.requestStop,
    });
  }
}

/**
 * Milliseconds between renders: the fps cap, stretched so that renders of
 * `renderMs` take at most `budget` of the time (2 ms at 1% → every 200 ms).
 */
export function renderInterval(minIntervalMs: number, renderMs: number, budget: number): number {
  // However slow renders get, the screen still updates every few seconds.
  return Math.min(MAX_RENDER_INTERVAL_MS, Math.max(minIntervalMs, renderMs / budget));
}

/** The longest the dashboard goes without a redraw while events arrive. */
export const MAX_RENDER_INTERVAL_MS = 5000;
