/**
 * The GLUE task registry: where each task's files live in the original
 * `download_glue_data.py` layout, which columns hold the texts and the label,
 * the label set as written in the files, and how the task is scored.
 *
 * Column positions follow google-research/bert `run_classifier.py` and the
 * HuggingFace `glue` processors, checked against the official GLUE files
 * (`bert data fetch glue`).
 */
import { UserError } from '../../errors.js';

export type GlueTaskName =
  'cola' | 'sst2' | 'mrpc' | 'stsb' | 'qqp' | 'mnli' | 'qnli' | 'rte' | 'wnli' | 'ax';

/** Metric names as used in `computeGlueMetrics` results and the GLUE table. */
export type GlueMetricName = 'accuracy' | 'f1' | 'mcc' | 'pearson' | 'spearman';

/** Which role a split plays: training data, labelled evaluation data, or unlabelled test data. */
export type SplitRole = 'train' | 'dev' | 'test';

/** Layout of one TSV file of a task. Column indices are 0-based. */
export interface GlueSplitSpec {
  /** Split name used on the command line and in file names, e.g. `dev_matched`. */
  readonly name: string;
  readonly role: SplitRole;
  /** File name inside the task directory. */
  readonly file: string;
  /** Whether the first line is a header (CoLA train/dev have none). */
  readonly header: boolean;
  /** Exact number of tab-separated fields every row must have. */
  readonly columns: number;
  readonly textA: number;
  readonly textB?: number;
  /** Label column; absent for unlabelled test files. */
  readonly label?: number;
  /** Column holding the row index the GLUE server expects; absent → row ordinal (0-based). */
  readonly index?: number;
  /** GLUE-server submission file name for predictions on this split (eval splits only). */
  readonly submissionFile?: string;
}

export interface GlueTask {
  /** CLI name, e.g. `sst2` (used as `glue/sst2`). */
  readonly name: GlueTaskName;
  /** Display name as in the GLUE paper and leaderboard, e.g. `SST-2`. */
  readonly displayName: string;
  /** Directory under the GLUE root, e.g. `SST-2`; AX lives in `diagnostic`. */
  readonly dir: string;
  readonly kind: 'classification' | 'regression';
  /**
   * Class labels exactly as written in the files; the model's class id is the
   * position in this list. Empty for regression (STS-B scores 0–5).
   */
  readonly labels: readonly string[];
  /** Metrics reported for this task, in the order the paper prints them. */
  readonly metrics: readonly GlueMetricName[];
  /** Metric that picks the best checkpoint during fine-tuning. */
  readonly mainMetric: GlueMetricName;
  readonly splits: readonly GlueSplitSpec[];
  /**
   * Task whose fine-tuned model predicts this one (AX is scored with an MNLI
   * model and has no training data of its own).
   */
  readonly modelFrom?: GlueTaskName;
}

const BINARY = ['0', '1'] as const;
const NLI2 = ['entailment', 'not_entailment'] as const;
/** google-research/bert `MnliProcessor.get_labels()` order. */
const NLI3 = ['contradiction', 'entailment', 'neutral'] as const;

/** Columns of a task's labelled files (train and dev share their layout). */
type LabelledLayout = Pick<
  GlueSplitSpec,
  'header' | 'columns' | 'textA' | 'textB' | 'label' | 'index'
>;
/** Columns of a task's unlabelled test file (always with a header line). */
type TestLayout = Pick<GlueSplitSpec, 'columns' | 'textA' | 'textB' | 'index'>;

/**
 * The usual three files of a task: `train.tsv` and `dev.tsv` in one labelled
 * layout, `test.tsv` unlabelled; dev and test predictions go to `submissionFile`.
 */
function trainDevTestSplits(
  labelled: LabelledLayout,
  test: TestLayout,
  submissionFile: string,
): GlueSplitSpec[] {
  return [
    { name: 'train', role: 'train', file: 'train.tsv', ...labelled },
    { name: 'dev', role: 'dev', file: 'dev.tsv', ...labelled, submissionFile },
    { name: 'test', role: 'test', file: 'test.tsv', header: true, ...test, submissionFile },
  ];
}

/** A labelled pair file with `index, sentence1, sentence2, label` (RTE, WNLI, QNLI). */
function pairSplits(submissionFile: string): GlueSplitSpec[] {
  return trainDevTestSplits(
    { header: true, columns: 4, textA: 1, textB: 2, label: 3, index: 0 },
    { columns: 3, textA: 1, textB: 2, index: 0 },
    submissionFile,
  );
}

export const GLUE_TASKS: Readonly<Record<GlueTaskName, GlueTask>> = {
  cola: {
    name: 'cola',
    displayName: 'CoLA',
    dir: 'CoLA',
    kind: 'classification',
    labels: BINARY,
    metrics: ['mcc'],
    mainMetric: 'mcc',
    // source, label, original mark, sentence — no header line.
    splits: trainDevTestSplits(
      { header: false, columns: 4, textA: 3, label: 1 },
      { columns: 2, textA: 1, index: 0 },
      'CoLA.tsv',
    ),
  },
  sst2: {
    name: 'sst2',
    displayName: 'SST-2',
    dir: 'SST-2',
    kind: 'classification',
    labels: BINARY,
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    splits: trainDevTestSplits(
      { header: true, columns: 2, textA: 0, label: 1 },
      { columns: 2, textA: 1, index: 0 },
      'SST-2.tsv',
    ),
  },
  mrpc: {
    name: 'mrpc',
    displayName: 'MRPC',
    dir: 'MRPC',
    kind: 'classification',
    labels: BINARY,
    metrics: ['f1', 'accuracy'],
    mainMetric: 'f1',
    // Quality, #1 ID, #2 ID, #1 String, #2 String (train/dev start with a UTF-8 BOM).
    splits: trainDevTestSplits(
      { header: true, columns: 5, textA: 3, textB: 4, label: 0 },
      { columns: 5, textA: 3, textB: 4, index: 0 },
      'MRPC.tsv',
    ),
  },
  stsb: {
    name: 'stsb',
    displayName: 'STS-B',
    dir: 'STS-B',
    kind: 'regression',
    labels: [],
    metrics: ['pearson', 'spearman'],
    mainMetric: 'pearson',
    // index, genre, filename, year, old_index, source1, source2, sentence1, sentence2, score
    splits: trainDevTestSplits(
      { header: true, columns: 10, textA: 7, textB: 8, label: 9, index: 0 },
      { columns: 9, textA: 7, textB: 8, index: 0 },
      'STS-B.tsv',
    ),
  },
  qqp: {
    name: 'qqp',
    displayName: 'QQP',
    dir: 'QQP',
    kind: 'classification',
    labels: BINARY,
    metrics: ['f1', 'accuracy'],
    mainMetric: 'f1',
    // id, qid1, qid2, question1, question2, is_duplicate; test: id, question1, question2
    splits: trainDevTestSplits(
      { header: true, columns: 6, textA: 3, textB: 4, label: 5, index: 0 },
      { columns: 3, textA: 1, textB: 2, index: 0 },
      'QQP.tsv',
    ),
  },
  mnli: {
    name: 'mnli',
    displayName: 'MNLI',
    dir: 'MNLI',
    kind: 'classification',
    labels: NLI3,
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    splits: [
      // index, promptID, pairID, genre, 4 parse columns, sentence1, sentence2, label1[..label5], gold_label
      {
        name: 'train',
        role: 'train',
        file: 'train.tsv',
        header: true,
        columns: 12,
        textA: 8,
        textB: 9,
        label: 11,
        index: 0,
      },
      {
        name: 'dev_matched',
        role: 'dev',
        file: 'dev_matched.tsv',
        header: true,
        columns: 16,
        textA: 8,
        textB: 9,
        label: 15,
        index: 0,
        submissionFile: 'MNLI-m.tsv',
      },
      {
        name: 'dev_mismatched',
        role: 'dev',
        file: 'dev_mismatched.tsv',
        header: true,
        columns: 16,
        textA: 8,
        textB: 9,
        label: 15,
        index: 0,
        submissionFile: 'MNLI-mm.tsv',
      },
      {
        name: 'test_matched',
        role: 'test',
        file: 'test_matched.tsv',
        header: true,
        columns: 10,
        textA: 8,
        textB: 9,
        index: 0,
        submissionFile: 'MNLI-m.tsv',
      },
      {
        name: 'test_mismatched',
        role: 'test',
        file: 'test_mismatched.tsv',
        header: true,
        columns: 10,
        textA: 8,
        textB: 9,
        index: 0,
        submissionFile: 'MNLI-mm.tsv',
      },
    ],
  },
  qnli: {
    name: 'qnli',
    displayName: 'QNLI',
    dir: 'QNLI',
    kind: 'classification',
    labels: NLI2,
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    splits: pairSplits('QNLI.tsv'),
  },
  rte: {
    name: 'rte',
    displayName: 'RTE',
    dir: 'RTE',
    kind: 'classification',
    labels: NLI2,
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    splits: pairSplits('RTE.tsv'),
  },
  wnli: {
    name: 'wnli',
    displayName: 'WNLI',
    dir: 'WNLI',
    kind: 'classification',
    labels: BINARY,
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    splits: pairSplits('WNLI.tsv'),
  },
  ax: {
    name: 'ax',
    displayName: 'AX',
    dir: 'diagnostic',
    kind: 'classification',
    labels: NLI3,
    // The GLUE server scores AX with R3 (a Matthews correlation over three classes).
    metrics: ['mcc'],
    mainMetric: 'mcc',
    modelFrom: 'mnli',
    splits: [
      {
        name: 'test',
        role: 'test',
        file: 'diagnostic.tsv',
        header: true,
        columns: 3,
        textA: 1,
        textB: 2,
        index: 0,
        submissionFile: 'AX.tsv',
      },
    ],
  },
};

/** The nine GLUE tasks in the order of the GLUE leaderboard (AX is a diagnostic, not a task). */
export const GLUE_TASK_ORDER: readonly GlueTaskName[] = [
  'cola',
  'sst2',
  'mrpc',
  'stsb',
  'qqp',
  'mnli',
  'qnli',
  'rte',
  'wnli',
];

export const ALL_GLUE_NAMES: readonly GlueTaskName[] = [...GLUE_TASK_ORDER, 'ax'];

export function isGlueTaskName(name: string): name is GlueTaskName {
  return (ALL_GLUE_NAMES as readonly string[]).includes(name);
}

/**
 * Look a task up by CLI name; accepts `sst2`, `glue/sst2` and display names
 * such as `SST-2` (case-insensitive). Returns undefined if unknown.
 */
export function findGlueTask(name: string): GlueTask | undefined {
  const bare = name.replace(/^glue\//i, '').toLowerCase();
  if (isGlueTaskName(bare)) return GLUE_TASKS[bare];
  return Object.values(GLUE_TASKS).find(
    (t) =>
      t.displayName.toLowerCase() === bare || t.displayName.toLowerCase().replace('-', '') === bare,
  );
}

export function getSplit(task: GlueTask, split: string): GlueSplitSpec | undefined {
  return task.splits.find((s) => s.name === split);
}

/** The labelled evaluation splits (`dev`, or MNLI's `dev_matched` and `dev_mismatched`). */
export function devSplits(task: GlueTask): GlueSplitSpec[] {
  return task.splits.filter((s) => s.role === 'dev');
}

/** Number of outputs of the task head: the class count, or 1 for regression. */
export function numLabels(task: GlueTask): number {
  return task.kind === 'regression' ? 1 : task.labels.length;
}

/**
 * Resolve a `--split` value: a role (`train`, `dev`, `test`) gives every split
 * with that role (MNLI `dev` → dev_matched and dev_mismatched), a split name
 * gives that split. Empty when nothing matches.
 */
export function resolveSplits(task: GlueTask, split: string): GlueSplitSpec[] {
  const exact = getSplit(task, split);
  if (exact) return [exact];
  return task.splits.filter((s) => s.role === split);
}

/**
 * Parse a `--tasks` value: `all` (the nine GLUE tasks), or a comma-separated
 * list of CLI / display names (`sst2,mrpc`, `glue/rte`, `STS-B`, `ax`).
 * Unknown names are a UserError listing the valid ones. Order and duplicates
 * follow the GLUE leaderboard order, AX last.
 */
export function parseGlueTaskList(value: string): GlueTaskName[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0)
    throw new UserError(`--tasks: empty task list (expected all or e.g. sst2,mrpc)`);
  const chosen = new Set<GlueTaskName>();
  for (const item of items) {
    if (item.toLowerCase() === 'all') {
      for (const t of GLUE_TASK_ORDER) chosen.add(t);
      continue;
    }
    const task = findGlueTask(item);
    if (!task) {
      throw new UserError(
        `--tasks: unknown GLUE task "${item}" (expected all or some of ${ALL_GLUE_NAMES.join(', ')})`,
      );
    }
    chosen.add(task.name);
  }
  return ALL_GLUE_NAMES.filter((t) => chosen.has(t));
}
