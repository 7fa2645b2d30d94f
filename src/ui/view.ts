/**
 * The dashboard as lines of styled text, computed from a `DashboardState`.
 * Pure: the Ink component only paints these, so layout rules (what shows,
 * what is dropped on a short terminal, that nothing exceeds the width) are
 * tested without a terminal.
 */
import {
  bar,
  emaValue,
  etaSeconds,
  budgetLeftSeconds,
  formatBytes,
  formatCount,
  formatDuration,
  formatInt,
  formatLoss,
  formatLr,
  formatMetric,
  formatPercent,
  historyValues,
  resample,
  sparkline,
  stepsPerSecond,
} from './format.js';
import type { DashboardState, StageState } from './state.js';

export type Color = 'green' | 'yellow' | 'red' | 'cyan' | 'magenta' | 'gray' | 'blue';

export interface Segment {
  text: string;
  color?: Color;
  bold?: boolean;
}

export type Line = Segment[];

export interface ViewOptions {
  /** Wall clock for elapsed/ETA (ms since epoch). */
  nowMs: number;
  /** Characters available inside the frame. */
  width: number;
  /** Lines available inside the frame; optional sections are dropped to fit. */
  height: number;
  /** Process RSS when the events do not carry it. */
  rssBytes?: number;
}

/** Label column: names up to 9 characters plus a space. */
const LABEL = 10;

const label = (name: string): Segment => ({
  text: name.slice(0, LABEL - 1).padEnd(LABEL),
  color: 'gray',
});
const plain = (text: string): Segment => ({ text });
const value = (text: string, color?: Color): Segment => ({ text, bold: true, color });
const sep: Segment = { text: ' · ', color: 'gray' };

/** The visible width of a line (code points; the glyphs used are all single-width). */
export function lineWidth(line: Line): number {
  return line.reduce((n, s) => n + Array.from(s.text).length, 0);
}

/** Cut a line to `width` characters, marking the cut with an ellipsis. */
export function truncateLine(line: Line, width: number): Line {
  if (lineWidth(line) <= width) return line;
  const out: Line = [];
  let left = width - 1;
  for (const s of line) {
    if (left <= 0) break;
    const chars = Array.from(s.text);
    out.push({ ...s, text: chars.slice(0, left).join('') });
    left -= Math.min(left, chars.length);
  }
  out.push({ text: '…', color: 'gray' });
  return out;
}

export function lineText(line: Line): string {
  return line.map((s) => s.text).join('');
}

const SGR: Record<Color, number> = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
};

/**
 * The line as one string with SGR colour codes (or none when `color` is
 * false). One pre-styled string per line is several times cheaper for Ink to
 * lay out and paint than a styled node per segment.
 */
export function styleLine(line: Line, color: boolean): string {
  if (!color) return lineText(line);
  let out = '';
  for (const s of line) {
    const codes: number[] = [];
    if (s.bold) codes.push(1);
    if (s.color) codes.push(SGR[s.color]);
    out += codes.length === 0 ? s.text : `\u001b[${codes.join(';')}m${s.text}\u001b[0m`;
  }
  return out;
}

function header(state: DashboardState): Line[] {
  const start = state.start;
  const title: Line = [value(`bert ${start?.command ?? ''}`.trimEnd(), 'cyan')];
  if (start?.run) title.push(sep, plain('run '), value(start.run));
  if (start) title.push(sep, plain('backend '), value(start.backend));
  const lines: Line[] = [title];
  const second: Line = [];
  if (start?.model) {
    const m = start.model;
    second.push(
      label('model'),
      value(m.size),
      plain(` L${m.layers} H${m.hidden} A${m.heads} `),
      plain(`${formatCount(m.parameters)} params`),
    );
  }
  if (start?.data) {
    if (second.length > 0) second.push(sep, plain('data '));
    else second.push(label('data'));
    second.push(plain(start.data));
  }
  if (second.length > 0) lines.push(second);
  return lines;
}

function progressLines(state: DashboardState, o: ViewOptions): Line[] {
  const step = state.lastStep;
  if (!step) return [];
  const total = state.totalSteps;
  const lines: Line[] = [];
  const counter =
    total === null ? `step ${formatInt(step.step)}` : `${formatInt(step.step)}/${formatInt(total)}`;
  const epoch = ` ep ${step.epoch}`;
  if (total !== null && total > 0) {
    const fraction = step.step / total;
    const pct = ` ${formatPercent(fraction).padStart(6)} `;
    const barWidth = Math.max(10, o.width - LABEL - pct.length - counter.length - epoch.length);
    lines.push([
      label('progress'),
      value(bar(fraction, barWidth), 'green'),
      plain(pct),
      value(counter),
      plain(epoch),
    ]);
  } else {
    lines.push([label('progress'), value(counter), plain(epoch)]);
  }
  const elapsed = state.startMs === null ? null : (o.nowMs - state.startMs) / 1000;
  const eta = etaSeconds(state.samples, total, o.nowMs);
  const rate = stepsPerSecond(state.samples);
  lines.push([
    label('time'),
    plain('elapsed '),
    value(formatDuration(elapsed)),
    sep,
    plain('ETA '),
    value(formatDuration(eta)),
    sep,
    value(rate === null ? '--' : rate >= 10 ? rate.toFixed(1) : rate.toFixed(2)),
    plain(' steps/s'),
  ]);
  const left = budgetLeftSeconds(step);
  if (left !== null) {
    const fraction = 1 - left / step.budget_s!;
    const text = ` ${formatDuration(left)} left of ${formatDuration(step.budget_s!)}`;
    const barWidth = Math.max(10, o.width - LABEL - text.length);
    lines.push([label('budget'), value(bar(fraction, barWidth), 'yellow'), plain(text)]);
  }
  return lines;
}

function lossLines(state: DashboardState, o: ViewOptions): Line[] {
  const step = state.lastStep;
  if (!step) return [];
  const lossColor: Color = Number.isFinite(step.loss) ? 'yellow' : 'red';
  const loss: Line = [
    label('loss'),
    value(formatLoss(step.loss), lossColor),
    plain('  ema '),
    value(formatLoss(emaValue(state.lossEma))),
  ];
  if (step.mlm_loss !== undefined) loss.push(plain('  mlm '), value(formatLoss(step.mlm_loss)));
  if (step.nsp_loss !== undefined) loss.push(plain('  nsp '), value(formatLoss(step.nsp_loss)));

  const values = historyValues(state.lossHistory);
  const finite = values.filter((v) => Number.isFinite(v));
  const range =
    finite.length > 0
      ? ` ${formatLoss(Math.max(...finite))}→${formatLoss(finite[finite.length - 1])}`
      : '';
  const sparkWidth = Math.max(4, o.width - LABEL - range.length);
  const curve: Line = [
    label('curve'),
    value(sparkline(resample(values, sparkWidth), sparkWidth), 'magenta'),
    plain(range),
  ];

  const acc: Line = [label('train')];
  if (step.mlm_accuracy !== undefined)
    acc.push(plain('mlm acc '), value(formatPercent(step.mlm_accuracy)), plain('  '));
  if (step.nsp_accuracy !== undefined)
    acc.push(plain('nsp acc '), value(formatPercent(step.nsp_accuracy)), plain('  '));
  acc.push(
    plain('lr '),
    value(formatLr(step.lr)),
    plain('  grad norm '),
    value(formatLoss(step.grad_norm)),
  );

  const speed: Line = [
    label('speed'),
    value(formatCount(step.tokens_per_s)),
    plain(' tok/s'),
    sep,
    value(formatCount(step.examples_per_s)),
    plain(' ex/s'),
    sep,
    value(formatCount(step.step_ms)),
    plain(' ms/step'),
  ];
  return [loss, curve, acc, speed];
}

function healthLines(state: DashboardState, o: ViewOptions): Line[] {
  const step = state.lastStep;
  if (!step) return [];
  const data: Line = [label('data')];
  if (step.queue_depth !== undefined || step.data_wait_ms !== undefined) {
    const starving = (step.queue_depth ?? 1) === 0 || (step.data_wait_ms ?? 0) > step.step_ms * 0.1;
    data.push(
      plain('queue '),
      value(
        step.queue_depth === undefined ? '--' : String(step.queue_depth),
        starving ? 'red' : 'green',
      ),
    );
    data.push(
      plain('  wait '),
      value(step.data_wait_ms === undefined ? '--' : `${step.data_wait_ms.toFixed(1)} ms`),
    );
  } else {
    data.push({ text: 'no loader stats', color: 'gray' });
  }
  const rss = step.rss_bytes ?? o.rssBytes;
  const memory: Line = [
    label('memory'),
    plain('rss '),
    value(rss === undefined ? '--' : formatBytes(rss)),
  ];
  if (step.tensors !== undefined) memory.push(plain('  tensors '), value(formatInt(step.tensors)));
  if (step.tensor_bytes !== undefined)
    memory.push(plain(' ('), value(formatBytes(step.tensor_bytes)), plain(')'));
  return [data, memory];
}

/**
 * Pretraining's held-out metrics that show whether the model learns or has
 * collapsed, first (a narrow terminal cuts the line's end), with short names.
 */
const EVAL_FIRST: ReadonlyArray<[key: string, name: string, format: (v: number) => string]> = [
  ['mlm_loss', 'mlm_loss', formatMetric],
  ['mlm_accuracy', 'mlm_acc', formatPercent],
  ['distinct_top_predictions', 'distinct', formatMetric],
  ['cls_mean_cosine', 'cls_cos', formatMetric],
];

function evalLine(state: DashboardState): Line[] {
  const e = state.lastEval;
  if (!e) return [];
  const line: Line = [label('eval'), plain(`${e.split} @${formatInt(e.step)} `)];
  const first = new Set<string>();
  for (const [key, name, format] of EVAL_FIRST) {
    const v = e.metrics[key];
    if (v === undefined) continue;
    first.add(key);
    line.push(plain(` ${name} `), value(format(v), 'cyan'));
  }
  for (const [k, v] of Object.entries(e.metrics))
    if (!first.has(k)) line.push(plain(` ${k} `), value(formatMetric(v), 'cyan'));
  return [line];
}

function checkpointLine(state: DashboardState, o: ViewOptions): Line[] {
  const c = state.lastCheckpoint;
  if (!c) return [];
  const ago = formatDuration((o.nowMs - Date.parse(c.time)) / 1000);
  const line: Line = [
    label('ckpt'),
    plain(`@${formatInt(c.step)} `),
    value(c.path),
    plain(` ${ago} ago`),
  ];
  if (c.best) line.push(value(' ★ best', 'green'));
  return [line];
}

/** The compact view for `progress` events (tokenize, encode, eval). */
export function stageLine(s: StageState, width: number, labelWidth = LABEL): Line {
  const counter = `${formatInt(s.done)}${s.total === null ? '' : `/${formatInt(s.total)}`} ${s.unit}`;
  const elapsed = (s.lastMs - s.startMs) / 1000;
  const rate = s.rate ?? (elapsed > 0 ? (s.done - s.startDone) / elapsed : undefined);
  const rateText = rate === undefined ? '' : ` ${formatCount(rate)}/s`;
  const line: Line = [{ text: s.stage.slice(0, labelWidth - 1).padEnd(labelWidth), color: 'gray' }];
  if (s.total !== null && s.total > 0) {
    const fraction = s.done / s.total;
    const pct = ` ${formatPercent(fraction).padStart(6)} `;
    const barWidth = Math.max(
      6,
      Math.min(30, width - labelWidth - pct.length - counter.length - rateText.length),
    );
    line.push(value(bar(fraction, barWidth), s.done >= s.total ? 'green' : 'blue'), plain(pct));
  }
  line.push(value(counter), plain(rateText));
  return line;
}

/** Stage names are free-form ('count-words', 'train-vocab'): widen their column to fit, up to 16. */
function stageLines(state: DashboardState, width: number): Line[] {
  const longest = Math.max(0, ...state.stages.map((s) => s.stage.length));
  const labelWidth = Math.min(16, Math.max(LABEL, longest + 1));
  return state.stages.map((s) => stageLine(s, width, labelWidth));
}

function messageLines(state: DashboardState): Line[] {
  return state.messages.map((m) =>
    m.level === 'warning'
      ? [
          { text: '! ', color: 'yellow', bold: true },
          { text: m.message, color: 'yellow' },
        ]
      : [{ text: '· ', color: 'gray' }, plain(m.message)],
  );
}

function footer(state: DashboardState): Line[] {
  if (state.end) {
    const color: Color =
      state.end.status === 'completed' ? 'green' : state.end.status === 'failed' ? 'red' : 'yellow';
    const outputs = Object.entries(state.end.outputs).map(([k, v]): Line => [
      k.length < LABEL ? label(k) : { text: `${k} `, color: 'gray' },
      plain(v),
    ]);
    return [
      [value(state.end.status, color), plain(` after ${formatDuration(state.end.elapsed_s)}`)],
      ...outputs,
    ];
  }
  // Only training runs checkpoint; other commands (tokenize, eval) just stop.
  const training = state.lastStep !== null;
  if (state.stopping) {
    const what = training ? 'stopping: finishing the step, writing a checkpoint…' : 'stopping…';
    return [[value(what, 'yellow')]];
  }
  const hint = training
    ? 'q / Ctrl-C: stop gracefully (checkpoint, then exit)'
    : 'q / Ctrl-C: stop';
  return [[{ text: hint, color: 'gray' }]];
}

/**
 * All lines, most important first within each block; when `height` is short
 * the optional blocks (messages, stages, eval/ckpt, health) drop out in that
 * order so progress and loss always stay on screen.
 */
export function dashboardLines(state: DashboardState, o: ViewOptions): Line[] {
  const blocks: { lines: Line[]; priority: number }[] = [
    { lines: header(state), priority: 0 },
    { lines: progressLines(state, o), priority: 0 },
    { lines: lossLines(state, o), priority: 1 },
    { lines: healthLines(state, o), priority: 3 },
    { lines: [...evalLine(state), ...checkpointLine(state, o)], priority: 2 },
    { lines: stageLines(state, o.width), priority: 2 },
    { lines: messageLines(state), priority: 4 },
    { lines: footer(state), priority: 0 },
  ];
  const count = (): number => blocks.reduce((n, b) => n + b.lines.length, 0);
  for (let p = 4; p > 0 && count() > o.height; p -= 1) {
    for (const b of blocks)
      if (b.priority === p)
        b.lines = b.lines.slice(0, Math.max(0, b.lines.length - (count() - o.height)));
  }
  return blocks
    .flatMap((b) => b.lines)
    .slice(0, Math.max(1, o.height))
    .map((l) => truncateLine(l, o.width));
}
