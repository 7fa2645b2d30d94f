/**
 * The GLUE table: per-task scores in the paper's format ("MRPC 81.1/71.1" =
 * F1/accuracy, STS-B Pearson/Spearman, QQP F1/accuracy, MNLI m/mm, CoLA
 * Matthews corr.; all ×100), the average over the tasks that were run — with
 * and without WNLI, as later papers report it — and published reference rows.
 * Rendered as Markdown and as a JSON object. Pure functions.
 *
 * Averaging follows the GLUE benchmark: a task with two numbers scores their
 * mean, MNLI scores the mean of matched and mismatched, and the average is
 * the unweighted mean of task scores. An undefined correlation (NaN: a
 * constant prediction on STS-B) counts as 0 in the average, the same value
 * sklearn gives the MCC of a constant prediction; the cell still shows "n/a".
 */
import { GLUE_TASKS, GLUE_TASK_ORDER, type GlueTaskName } from './tasks.js';
import { meanStd, type MeanStd } from '../../metrics/aggregate.js';
import type { GlueMetrics } from './metrics.js';
import { GLUE_REFERENCES, type CellPart, type ReferenceRow } from './references.js';

/** Results of one task: metrics per evaluation split, one object per seed. */
export interface GlueTaskResult {
  readonly task: GlueTaskName;
  /** e.g. `{ dev: [seed0, seed1] }`, or MNLI's `{ dev_matched: [...], dev_mismatched: [...] }`. */
  readonly splits: Readonly<Record<string, readonly GlueMetrics[]>>;
}

export interface GlueTableInput {
  /** Tasks that were asked for, including those that could not run. */
  readonly requested: readonly GlueTaskName[];
  readonly results: readonly GlueTaskResult[];
  /** Why a requested task has no result (e.g. "train.tsv not in this GLUE copy"). */
  readonly missingReasons?: Partial<Record<GlueTaskName, string>>;
  /** Which split the scores are on; `dev` unless said otherwise. */
  readonly split?: string;
}

export interface GlueTableTask {
  readonly task: GlueTaskName;
  readonly displayName: string;
  /** Parts of the cell in print order, each ×100 over seeds. */
  readonly parts: Partial<Record<CellPart, MeanStd>>;
  /** Formatted cell, e.g. "81.1/71.1" or "81.1±0.4/71.1±0.9". */
  readonly cell: string;
  /** Task score for the average (mean of the parts), ×100. */
  readonly score: MeanStd;
}

export interface GlueAverage {
  readonly withWnli: MeanStd;
  readonly withoutWnli: MeanStd;
  /** Tasks the averages are over (those with results); WNLI dropped for `withoutWnli`. */
  readonly tasks: readonly GlueTaskName[];
}

export interface GlueTable {
  readonly split: string;
  readonly seeds: number;
  readonly tasks: readonly GlueTableTask[];
  readonly missing: readonly { readonly task: GlueTaskName; readonly reason: string }[];
  readonly average: GlueAverage;
  readonly references: readonly ReferenceRow[];
}

/** The parts of each task's cell, in the order the paper prints them. */
export const CELL_PARTS: Readonly<Record<GlueTaskName, readonly CellPart[]>> = {
  cola: ['mcc'],
  sst2: ['accuracy'],
  mrpc: ['f1', 'accuracy'],
  stsb: ['pearson', 'spearman'],
  qqp: ['f1', 'accuracy'],
  mnli: ['m', 'mm'],
  qnli: ['accuracy'],
  rte: ['accuracy'],
  wnli: ['accuracy'],
  ax: ['mcc'],
};

/** Column headers of the table, per task. */
const COLUMN_TITLE: Readonly<Record<GlueTaskName, string>> = {
  cola: 'CoLA',
  sst2: 'SST-2',
  mrpc: 'MRPC',
  stsb: 'STS-B',
  qqp: 'QQP',
  mnli: 'MNLI-m/mm',
  qnli: 'QNLI',
  rte: 'RTE',
  wnli: 'WNLI',
  ax: 'AX',
};

/** Per-seed values (×100) of one cell part. */
function partValues(result: GlueTaskResult, part: CellPart): number[] | undefined {
  const pick = (split: string, metric: keyof GlueMetrics): number[] | undefined => {
    const runs = result.splits[split];
    if (!runs || runs.length === 0) return undefined;
    const vals = runs.map((r) => r[metric]);
    return vals.every((v) => v !== undefined) ? vals.map((v) => v! * 100) : undefined;
  };
  if (part === 'm') return pick('dev_matched', 'accuracy') ?? pick('test_matched', 'accuracy');
  if (part === 'mm')
    return pick('dev_mismatched', 'accuracy') ?? pick('test_mismatched', 'accuracy');
  const split = Object.keys(result.splits)[0];
  return split === undefined ? undefined : pick(split, part);
}

/** One number for a table: 1 decimal, "n/a" for NaN, "±std" when several seeds. */
export function formatStat(s: MeanStd | number | undefined): string {
  if (s === undefined) return '–';
  const { mean, std, n } = typeof s === 'number' ? { mean: s, std: 0, n: 1 } : s;
  if (!Number.isFinite(mean)) return 'n/a';
  return n > 1 && Number.isFinite(std) ? `${mean.toFixed(1)}±${std.toFixed(1)}` : mean.toFixed(1);
}

function formatCell(
  task: GlueTaskName,
  parts: Partial<Record<CellPart, MeanStd | number>>,
): string {
  return CELL_PARTS[task].map((p) => formatStat(parts[p])).join('/');
}

/** Undefined scores count as 0 in averages (see the module comment). */
const orZero = (v: number): number => (Number.isFinite(v) ? v : 0);

function tableTask(result: GlueTaskResult): GlueTableTask {
  const parts: Partial<Record<CellPart, MeanStd>> = {};
  const perPart: number[][] = [];
  for (const p of CELL_PARTS[result.task]) {
    const vals = partValues(result, p);
    if (vals) {
      parts[p] = meanStd(vals);
      perPart.push(vals);
    }
  }
  // Task score per seed = mean of its parts for that seed.
  const seeds = Math.min(...perPart.map((v) => v.length));
  const perSeed = Array.from({ length: perPart.length ? seeds : 0 }, (_, s) => {
    return perPart.reduce((a, v) => a + orZero(v[s]!), 0) / perPart.length;
  });
  return {
    task: result.task,
    displayName: GLUE_TASKS[result.task].displayName,
    parts,
    cell: formatCell(result.task, parts),
    score: meanStd(perSeed),
  };
}

/**
 * Mean over tasks; its spread is over seeds (the average of seed s across
 * tasks), which needs every task to have the same number of seeds, else std is NaN.
 */
function averageOver(tasks: readonly GlueTableTask[]): MeanStd {
  if (tasks.length === 0) return meanStd([]);
  const n = tasks[0]!.score.n;
  if (tasks.every((t) => t.score.n === n) && n > 0) {
    const perSeed = Array.from(
      { length: n },
      (_, s) => tasks.reduce((a, t) => a + t.score.values[s]!, 0) / tasks.length,
    );
    return meanStd(perSeed);
  }
  const mean = tasks.reduce((a, t) => a + t.score.mean, 0) / tasks.length;
  return { mean, std: NaN, n: 0, values: [] };
}

/** Build the table from per-task results; requested tasks without results are listed as missing. */
export function buildGlueTable(input: GlueTableInput): GlueTable {
  const byTask = new Map(input.results.map((r) => [r.task, r]));
  const order = GLUE_TASK_ORDER.filter((t) => input.requested.includes(t) || byTask.has(t));
  const tasks = order.filter((t) => byTask.has(t)).map((t) => tableTask(byTask.get(t)!));
  const missing = order
    .filter((t) => !byTask.has(t))
    .map((t) => ({ task: t, reason: input.missingReasons?.[t] ?? 'no result' }));
  const seeds = Math.max(0, ...tasks.map((t) => t.score.n));
  return {
    split: input.split ?? 'dev',
    seeds,
    tasks,
    missing,
    average: {
      withWnli: averageOver(tasks),
      withoutWnli: averageOver(tasks.filter((t) => t.task !== 'wnli')),
      tasks: tasks.map((t) => t.task),
    },
    references: GLUE_REFERENCES,
  };
}

/** GLUE-convention average of a reference row's cells (two-number tasks averaged first). */
export function referenceAverage(row: ReferenceRow, withWnli: boolean): number | undefined {
  const scores: number[] = [];
  for (const t of GLUE_TASK_ORDER) {
    if (t === 'wnli' && !withWnli) continue;
    const cell = row.cells[t];
    const parts: number[] = [];
    for (const p of CELL_PARTS[t]) {
      const v = cell?.[p];
      if (v === undefined) return undefined;
      parts.push(v);
    }
    scores.push(parts.reduce((a, v) => a + v, 0) / parts.length);
  }
  return scores.reduce((a, s) => a + s, 0) / scores.length;
}

export interface MarkdownOptions {
  /** Row label for our results; default "this run (<split>, N seeds)". */
  readonly label?: string;
  /** Show the published reference rows (default true). */
  readonly references?: boolean;
}

/** The table as GitHub Markdown, with footnotes on what the numbers are. */
export function renderGlueTableMarkdown(table: GlueTable, options: MarkdownOptions = {}): string {
  const columns = GLUE_TASK_ORDER;
  const header = ['Model', 'Avg', 'Avg w/o WNLI', ...columns.map((c) => COLUMN_TITLE[c])];
  const seedNote = table.seeds > 1 ? `, mean±std over ${table.seeds} seeds` : '';
  const label = options.label ?? `this run (${table.split}${seedNote})`;
  const ours = new Map(table.tasks.map((t) => [t.task, t.cell]));
  const missing = new Set(table.missing.map((m) => m.task));
  const ourRow = [
    label,
    formatStat(table.average.withWnli),
    formatStat(table.average.withoutWnli),
    ...columns.map((c) => ours.get(c) ?? (missing.has(c) ? 'missing' : '')),
  ];
  const rows = [ourRow];
  const notes: string[] = [];
  if (options.references ?? true) {
    for (const ref of table.references) {
      const published = ref.publishedScore.toFixed(1);
      const computed = referenceAverage(ref, false);
      rows.push([
        `${ref.name} (test)`,
        ref.scoreIncludesWnli ? published : '',
        ref.scoreIncludesWnli
          ? computed === undefined
            ? ''
            : `${computed.toFixed(1)}*`
          : `${published}†`,
        ...columns.map((c) => (ref.cells[c] ? formatCell(c, ref.cells[c]!) : '')),
      ]);
    }
    const sources = [...new Set(table.references.map((r) => r.source))];
    notes.push(
      `Reference rows are GLUE test-server results: ${sources.join('; ')}. ` +
        `"–" marks a number the source does not report.`,
      `† The BERT paper's average: mean of its nine columns (MNLI-m and -mm separately, F1 for MRPC/QQP, ` +
        `Spearman for STS-B), no WNLI. * Computed here from the published cells with the GLUE convention.`,
    );
  }
  notes.unshift(
    `Scores ×100 on ${table.split}: CoLA Matthews corr.; SST-2, QNLI, RTE, WNLI accuracy; MRPC and QQP F1/accuracy; ` +
      `STS-B Pearson/Spearman; MNLI matched/mismatched accuracy. Averages follow GLUE: two-number tasks and ` +
      `MNLI-m/mm are averaged first, then tasks are weighted equally; over the tasks run ` +
      `(${table.average.tasks.map((t) => GLUE_TASKS[t].displayName).join(', ') || 'none'}).`,
  );
  if (table.missing.length > 0) {
    notes.push(
      `Missing: ${table.missing.map((m) => `${GLUE_TASKS[m.task].displayName} (${m.reason})`).join('; ')}.`,
    );
  }
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [
    line(header),
    line(header.map((_, i) => (i === 0 ? '---' : '---:'))),
    ...rows.map(line),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

/** NaN and ±Infinity are not JSON; they become null. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

/** The table as a JSON-ready object (undefined numbers as null). */
export function glueTableToJson(table: GlueTable): unknown {
  return jsonSafe(table);
}
