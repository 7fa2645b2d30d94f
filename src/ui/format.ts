/**
 * Pure helpers shared by every reporter: number, byte and duration
 * formatting, the smoothed loss (EMA), ETA from recent throughput, text
 * sparklines and bars. No terminal, no clock: callers pass times in.
 */

/** `1234567` → `1.23M`; keeps 3 significant digits so columns stay narrow. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, suffix] of units) {
    // Round first so 999_950 becomes 1.00M rather than 1000k.
    if (abs >= scale * 0.9995) return `${toSignificant(n / scale, 3)}${suffix}`;
  }
  return Number.isInteger(n) ? String(n) : toSignificant(n, 3);
}

/** Integer with thousands separators, locale-independent: `1234567` → `1,234,567`. */
export function formatInt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  return sign + String(Math.round(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `1536` → `1.50 KiB`. Binary units, as `ps`/`free` readers expect for memory. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i += 1;
  }
  return i === 0 ? `${value} B` : `${toSignificant(value, 3)} ${units[i]}`;
}

/** Seconds → `45s`, `3m 07s`, `2h 05m`, `3d 04h`; `--` for unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad2(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad2(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${pad2(h % 24)}h`;
}

/** Loss-like values: 4 decimals below 10, fewer above; `nan` stays visible. */
export function formatLoss(x: number | undefined): string {
  if (x === undefined) return '--';
  if (!Number.isFinite(x)) return String(x).toLowerCase();
  if (Math.abs(x) >= 100) return x.toFixed(1);
  if (Math.abs(x) >= 10) return x.toFixed(3);
  return x.toFixed(4);
}

/** Learning rates span decades: always scientific, `1.00e-4`. */
export function formatLr(lr: number): string {
  if (!Number.isFinite(lr)) return String(lr);
  return lr === 0 ? '0' : lr.toExponential(2);
}

/** Fraction in [0, 1] → `12.3%`. */
export function formatPercent(fraction: number | undefined): string {
  if (fraction === undefined) return '--';
  if (!Number.isFinite(fraction)) return String(fraction);
  return `${(fraction * 100).toFixed(1)}%`;
}

/** A metric of unknown kind (eval results): integers as is, small values with 4 decimals. */
export function formatMetric(x: number): string {
  if (!Number.isFinite(x)) return String(x).toLowerCase();
  if (Number.isInteger(x)) return formatInt(x);
  if (Math.abs(x) >= 1000) return formatCount(x);
  return x.toFixed(4);
}

function toSignificant(x: number, digits: number): string {
  const abs = Math.abs(x);
  const decimals = abs >= 100 ? 0 : abs >= 10 ? digits - 2 : digits - 1;
  return x.toFixed(Math.max(0, decimals));
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Exponential moving average with bias correction (as in Adam and
 * TensorBoard's smoothing): without it the first values are pulled towards 0.
 * Non-finite inputs are skipped so one NaN step does not poison the curve.
 */
export interface Ema {
  readonly beta: number;
  readonly raw: number;
  readonly count: number;
}

export function emaInit(beta = 0.98): Ema {
  return { beta, raw: 0, count: 0 };
}

export function emaUpdate(ema: Ema, x: number): Ema {
  if (!Number.isFinite(x)) return ema;
  return { beta: ema.beta, raw: ema.beta * ema.raw + (1 - ema.beta) * x, count: ema.count + 1 };
}

/** The smoothed value, or undefined before the first finite input. */
export function emaValue(ema: Ema): number | undefined {
  if (ema.count === 0) return undefined;
  return ema.raw / (1 - Math.pow(ema.beta, ema.count));
}

/** One observation of training progress: the step reached at a wall-clock time (ms). */
export interface ProgressSample {
  step: number;
  timeMs: number;
}

/**
 * Keep the last `capacity` samples: the ETA follows the recent rate (after
 * warm-up, eval pauses or a slower phase) rather than the whole-run average.
 */
export function pushSample(
  window: readonly ProgressSample[],
  sample: ProgressSample,
  capacity = 64,
): ProgressSample[] {
  const next = window.length >= capacity ? window.slice(window.length - capacity + 1) : [...window];
  next.push(sample);
  return next;
}

/** Steps per second over the window, or null with fewer than two distinct samples. */
export function stepsPerSecond(window: readonly ProgressSample[]): number | null {
  if (window.length < 2) return null;
  const first = window[0];
  const last = window[window.length - 1];
  const dt = (last.timeMs - first.timeMs) / 1000;
  const ds = last.step - first.step;
  if (dt <= 0 || ds <= 0) return null;
  return ds / dt;
}

/**
 * Seconds left to reach `totalSteps` at the window's rate, counted from
 * `nowMs` (so the ETA keeps falling between slow steps). Null when unknown.
 */
export function etaSeconds(
  window: readonly ProgressSample[],
  totalSteps: number | null,
  nowMs?: number,
): number | null {
  if (totalSteps === null || window.length === 0) return null;
  const last = window[window.length - 1];
  if (last.step >= totalSteps) return 0;
  const rate = stepsPerSecond(window);
  if (rate === null) return null;
  const remaining = (totalSteps - last.step) / rate;
  const sinceLast = nowMs === undefined ? 0 : Math.max(0, (nowMs - last.timeMs) / 1000);
  return Math.max(0, remaining - sinceLast);
}

const SPARK = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * The values as a one-line chart of `width` cells (the last `width` values
 * when there are more; bucket means would hide the spikes a reader looks
 * for, so callers downsample with `History`). Non-finite values show as
 * a gap (space).
 */
export function sparkline(values: readonly number[], width: number): string {
  const shown = values.length > width ? values.slice(values.length - width) : values;
  const finite = shown.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return ' '.repeat(Math.min(width, shown.length));
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const span = hi - lo;
  return shown
    .map((v) => {
      if (!Number.isFinite(v)) return ' ';
      if (span === 0) return SPARK[3];
      const level = Math.round(((v - lo) / span) * (SPARK.length - 1));
      return SPARK[level];
    })
    .join('');
}

/** `[█████░░░░░]` style bar of `width` cells (without the brackets). */
export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * width);
  return '█'.repeat(filled) + '░'.repeat(Math.max(0, width - filled));
}

/**
 * The whole loss curve in bounded memory: values are averaged into buckets of
 * `bucket` steps; when `capacity` buckets fill up, neighbours merge and the
 * bucket size doubles. A sparkline of it covers the run from step 1, not just
 * the last few seconds.
 */
export interface History {
  readonly capacity: number;
  /** Steps per completed point. */
  readonly bucket: number;
  readonly points: readonly number[];
  /** The partial bucket being filled. */
  readonly pendingSum: number;
  readonly pendingCount: number;
}

export function historyInit(capacity = 128): History {
  return { capacity, bucket: 1, points: [], pendingSum: 0, pendingCount: 0 };
}

export function historyPush(h: History, x: number): History {
  if (!Number.isFinite(x)) return h;
  const sum = h.pendingSum + x;
  const count = h.pendingCount + 1;
  if (count < h.bucket) return { ...h, pendingSum: sum, pendingCount: count };
  let points = [...h.points, sum / count];
  let bucket = h.bucket;
  if (points.length >= h.capacity) {
    const merged: number[] = [];
    for (let i = 0; i + 1 < points.length; i += 2) merged.push((points[i] + points[i + 1]) / 2);
    if (points.length % 2 === 1) merged.push(points[points.length - 1]);
    points = merged;
    bucket *= 2;
  }
  return { capacity: h.capacity, bucket, points, pendingSum: 0, pendingCount: 0 };
}

/** Completed points plus the partial bucket, for display. */
export function historyValues(h: History): number[] {
  return h.pendingCount > 0 ? [...h.points, h.pendingSum / h.pendingCount] : [...h.points];
}

/** Resample to exactly `width` points (bucket means) so the sparkline spans the whole run. */
export function resample(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values];
  const out: number[] = [];
  for (let i = 0; i < width; i += 1) {
    const start = Math.floor((i * values.length) / width);
    const end = Math.max(start + 1, Math.floor(((i + 1) * values.length) / width));
    let sum = 0;
    for (let j = start; j < end; j += 1) sum += values[j];
    out.push(sum / (end - start));
  }
  return out;
}

/** Pad or cut to exactly `width` characters (code points), for fixed columns. */
export function fit(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length > width) {
    return width <= 1 ? chars.slice(0, width).join('') : chars.slice(0, width - 1).join('') + '…';
  }
  return text + ' '.repeat(width - chars.length);
}

/** Remove ANSI escape sequences (CSI and OSC), so plain output never carries any. */
export function stripAnsi(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)|\u001b[@-Z\\-_]/g,
    '',
  );
}

/** Seconds of a wall-clock budget left at a step event (train.budget_minutes), or null without a budget. */
export function budgetLeftSeconds(e: {
  budget_s?: number;
  elapsed_train_s?: number;
}): number | null {
  if (e.budget_s === undefined || e.elapsed_train_s === undefined) return null;
  return Math.max(0, e.budget_s - e.elapsed_train_s);
}
