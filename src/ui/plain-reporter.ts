/**
 * `--ui plain`: a cli-progress bar on a terminal; without one (or with
 * CI=true) a one-line summary every `intervalS` seconds of event time, the
 * first and last step always, and a summary table at the end. Output
 * without a terminal never contains an ANSI escape sequence.
 */
import cliProgress from 'cli-progress';
import type {
  BertEvent,
  CheckpointEvent,
  EvalEvent,
  ProgressEvent,
  RunEndEvent,
  RunStartEvent,
  StepEvent,
} from './events.js';
import {
  emaValue,
  etaSeconds,
  budgetLeftSeconds,
  formatCount,
  formatDuration,
  formatInt,
  formatLoss,
  formatLr,
  formatMetric,
  formatPercent,
  stripAnsi,
} from './format.js';
import { eventTimeMs, initialState, reduce, type DashboardState } from './state.js';
import type { OutStream, UiReporter } from './types.js';

export interface PlainReporterOptions {
  stdout: OutStream;
  stderr: OutStream;
  /** Draw a live cli-progress bar (a terminal, not CI). */
  bar: boolean;
  /** Seconds between summary lines without a bar. */
  intervalS?: number;
}

const SEP = ' · ';

export function runStartLine(e: RunStartEvent): string {
  const parts = [`bert ${e.command}`];
  if (e.run) parts.push(`run ${e.run}`);
  parts.push(`backend ${e.backend}`);
  if (e.model) {
    const m = e.model;
    parts.push(
      `model ${m.size} (L${m.layers} H${m.hidden} A${m.heads}, ${formatCount(m.parameters)} params)`,
    );
  }
  if (e.data) parts.push(`data ${e.data}`);
  if (e.totalSteps !== null) parts.push(`${formatInt(e.totalSteps)} steps`);
  return parts.join(SEP);
}

export function stepLine(e: StepEvent, state: DashboardState, nowMs: number): string {
  const total = e.totalSteps ?? state.totalSteps;
  const parts = [
    total === null
      ? `step ${formatInt(e.step)}`
      : `step ${formatInt(e.step)}/${formatInt(total)} (${formatPercent(e.step / total)})`,
    `loss ${formatLoss(e.loss)} (ema ${formatLoss(emaValue(state.lossEma))})`,
  ];
  if (e.mlm_accuracy !== undefined) parts.push(`mlm acc ${formatPercent(e.mlm_accuracy)}`);
  if (e.nsp_accuracy !== undefined) parts.push(`nsp acc ${formatPercent(e.nsp_accuracy)}`);
  parts.push(`lr ${formatLr(e.lr)}`, `${formatCount(e.tokens_per_s)} tok/s`);
  if (state.startMs !== null)
    parts.push(`elapsed ${formatDuration((nowMs - state.startMs) / 1000)}`);
  if (total !== null) parts.push(`ETA ${formatDuration(etaSeconds(state.samples, total, nowMs))}`);
  const left = budgetLeftSeconds(e);
  if (left !== null) parts.push(`budget left ${formatDuration(left)}`);
  return parts.join(SEP);
}

export function evalLine(e: EvalEvent): string {
  const metrics = Object.entries(e.metrics).map(([k, v]) => `${k} ${formatMetric(v)}`);
  return `eval ${e.split} @ step ${formatInt(e.step)}: ${metrics.join(', ')}`;
}

export function checkpointLine(e: CheckpointEvent): string {
  return `checkpoint @ step ${formatInt(e.step)} → ${e.path}${e.best ? ' (best)' : ''}`;
}

export function progressLine(e: ProgressEvent): string {
  const count = `${formatInt(e.done)}${e.total === null ? '' : `/${formatInt(e.total)}`} ${e.unit}`;
  const pct = e.total !== null && e.total > 0 ? ` (${formatPercent(e.done / e.total)})` : '';
  const rate = e.rate === undefined ? '' : `${SEP}${formatCount(e.rate)} ${e.unit}/s`;
  return `${e.stage}: ${count}${pct}${rate}`;
}

/** A two-column table: keys left-aligned, padded to the longest. */
export function table(rows: readonly [string, string][], indent = '  '): string {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`).join('\n');
}

export function summaryTable(e: RunEndEvent): string {
  const head = `run ${e.status} after ${formatDuration(e.elapsed_s)}${e.step === undefined ? '' : ` at step ${formatInt(e.step)}`}`;
  const rows: [string, string][] = Object.entries(e.summary).map(([k, v]) => [
    k,
    typeof v === 'number' ? formatMetric(v) : v,
  ]);
  const outputs: [string, string][] = Object.entries(e.outputs);
  const parts = [head];
  if (rows.length > 0) parts.push(table(rows));
  if (outputs.length > 0) parts.push('outputs', table(outputs));
  return parts.join('\n');
}

export class PlainReporter implements UiReporter {
  readonly kind = 'plain' as const;
  private state: DashboardState = initialState();
  private readonly intervalMs: number;
  private lastLineMs: number | null = null;
  /** The latest step not yet printed: shown at run end so the last step always appears. */
  private pending: StepEvent | null = null;
  private readonly stageLastMs = new Map<string, number>();
  private multibar: cliProgress.MultiBar | null = null;
  private readonly bars = new Map<string, cliProgress.SingleBar>();

  constructor(private readonly opts: PlainReporterOptions) {
    this.intervalMs = (opts.intervalS ?? 10) * 1000;
  }

  onStop(): void {
    // No interactive input: stops come from signals (StopSignal.forProcess).
  }

  emit(event: BertEvent): void {
    this.state = reduce(this.state, event);
    const t = eventTimeMs(event.time);
    switch (event.type) {
      case 'run_start':
        this.line(runStartLine(event));
        return;
      case 'step':
        if (this.opts.bar)
          this.updateBar('train', event.step, event.totalSteps ?? 0, this.barPayload(event, t));
        else this.stepPeriodic(event, t);
        return;
      case 'eval':
        this.line(evalLine(event));
        return;
      case 'checkpoint':
        this.line(checkpointLine(event));
        return;
      case 'progress':
        if (this.opts.bar)
          this.updateBar(event.stage, event.done, event.total ?? 0, {
            detail: progressLine(event),
          });
        else this.progressPeriodic(event, t);
        return;
      case 'log':
        this.line(event.message);
        return;
      case 'warning':
        // Under a live bar, print above it (a stderr write would tear the bar's line).
        if (this.multibar) this.multibar.log(`warning: ${event.message}\n`);
        else this.opts.stderr.write(`warning: ${this.clean(event.message)}\n`);
        return;
      case 'run_end':
        this.flushPending();
        this.stopBars();
        this.opts.stdout.write(this.clean(summaryTable(event)) + '\n');
        return;
    }
  }

  async close(): Promise<void> {
    this.flushPending();
    this.stopBars();
  }

  private stepPeriodic(e: StepEvent, t: number): void {
    const total = e.totalSteps ?? this.state.totalSteps;
    const due =
      this.lastLineMs === null ||
      t - this.lastLineMs >= this.intervalMs ||
      (total !== null && e.step >= total);
    if (due) {
      this.pending = null;
      this.lastLineMs = t;
      this.line(stepLine(e, this.state, t));
    } else {
      this.pending = e;
    }
  }

  private flushPending(): void {
    if (this.pending === null) return;
    const e = this.pending;
    this.pending = null;
    this.line(stepLine(e, this.state, eventTimeMs(e.time)));
  }

  private progressPeriodic(e: ProgressEvent, t: number): void {
    const last = this.stageLastMs.get(e.stage);
    const finished = e.total !== null && e.done >= e.total;
    if (last === undefined || t - last >= this.intervalMs || finished) {
      this.stageLastMs.set(e.stage, t);
      this.line(progressLine(e));
    }
  }

  private line(text: string): void {
    if (this.multibar) this.multibar.log(text + '\n');
    else this.opts.stdout.write(this.clean(text) + '\n');
  }

  /** Without a live bar nothing we print may carry escapes (messages come from anywhere). */
  private clean(text: string): string {
    return this.opts.bar ? text : stripAnsi(text);
  }

  private barPayload(e: StepEvent, t: number): Record<string, string> {
    const total = e.totalSteps ?? this.state.totalSteps;
    return {
      // Most wanted first: a narrow terminal cuts the end of the line.
      detail: [
        `ETA ${formatDuration(etaSeconds(this.state.samples, total, t))}`,
        `loss ${formatLoss(e.loss)} (ema ${formatLoss(emaValue(this.state.lossEma))})`,
        `lr ${formatLr(e.lr)}`,
        `${formatCount(e.tokens_per_s)} tok/s`,
      ].join(SEP),
    };
  }

  private updateBar(
    name: string,
    value: number,
    total: number,
    payload: Record<string, string>,
  ): void {
    if (!this.multibar) {
      this.multibar = new cliProgress.MultiBar(
        {
          stream: this.opts.stdout as unknown as NodeJS.WritableStream,
          format: ' {bar} {value}/{total} · {detail}',
          barsize: 24,
          fps: 10,
          hideCursor: false,
          clearOnComplete: false,
          stopOnComplete: false,
          forceRedraw: false,
          barCompleteChar: '█',
          barIncompleteChar: '░',
        },
        cliProgress.Presets.shades_classic,
      );
    }
    let b = this.bars.get(name);
    if (!b) {
      b = this.multibar.create(total, value, payload);
      this.bars.set(name, b);
    } else {
      if (total > 0) b.setTotal(total);
      b.update(value, payload);
    }
  }

  private stopBars(): void {
    if (this.multibar) {
      this.multibar.stop();
      this.multibar = null;
      this.bars.clear();
    }
  }
}
