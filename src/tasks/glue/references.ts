/**
 * Published GLUE results shown beside ours for context. All are GLUE
 * *test-server* scores (ours are dev-set scores), in percent.
 *
 * Cell parts use the same keys as the GLUE table (`./glue-table.ts`):
 * mcc, accuracy, f1, pearson, spearman, and m / mm for MNLI matched /
 * mismatched accuracy. A part the source does not report is left out (not
 * guessed): the table prints it as "–".
 */
import type { GlueTaskName } from './tasks.js';

export type CellPart = 'mcc' | 'accuracy' | 'f1' | 'pearson' | 'spearman' | 'm' | 'mm';

export interface ReferenceRow {
  readonly name: string;
  /** Where the numbers come from. */
  readonly source: string;
  readonly cells: Partial<Record<GlueTaskName, Partial<Record<CellPart, number>>>>;
  /** The average as published, and what it averages. */
  readonly publishedScore: number;
  readonly scoreNote: string;
  /** True when the published average includes WNLI. */
  readonly scoreIncludesWnli: boolean;
}

/**
 * Devlin, Chang, Lee & Toutanova (2019), "BERT: Pre-training of Deep
 * Bidirectional Transformers for Language Understanding", NAACL, Table 1
 * (GLUE test results from the evaluation server). The paper reports F1 for
 * QQP and MRPC, Spearman for STS-B, accuracy elsewhere, Matthews corr. for
 * CoLA; WNLI is excluded, and its "Average" is the plain mean of the nine
 * printed columns (MNLI-m and MNLI-mm counted separately). Checked against
 * the table as reproduced in the HuggingFace bert-base-uncased model card.
 */
const BERT_PAPER = 'Devlin et al. 2019, BERT paper, Table 1 (GLUE test)';

/**
 * Turc, Chang, Lee & Toutanova (2019), "Well-Read Students Learn Better: On
 * the Importance of Pre-training Compact Models" (arXiv:1908.08962v2): GLUE
 * test-server scores of the pre-trained miniatures fine-tuned directly (no
 * distillation), as published with the released models (google-research/bert
 * README; HuggingFace model card google/bert_uncased_L-2_H-128_A-2). The
 * Score is the GLUE leaderboard score (mean over the nine tasks, two-metric
 * tasks and MNLI-m/mm averaged first; includes WNLI, excludes AX).
 */
const TURC = 'Turc et al. 2019, Well-Read Students (BERT miniatures, GLUE test)';

export const GLUE_REFERENCES: readonly ReferenceRow[] = [
  {
    name: 'BERT-Base',
    source: BERT_PAPER,
    cells: {
      cola: { mcc: 52.1 },
      sst2: { accuracy: 93.5 },
      mrpc: { f1: 88.9 },
      stsb: { spearman: 85.8 },
      qqp: { f1: 71.2 },
      mnli: { m: 84.6, mm: 83.4 },
      qnli: { accuracy: 90.5 },
      rte: { accuracy: 66.4 },
    },
    publishedScore: 79.6,
    scoreNote: 'paper average of 9 columns, no WNLI',
    scoreIncludesWnli: false,
  },
  {
    name: 'BERT-Large',
    source: BERT_PAPER,
    cells: {
      cola: { mcc: 60.5 },
      sst2: { accuracy: 94.9 },
      mrpc: { f1: 89.3 },
      stsb: { spearman: 86.5 },
      qqp: { f1: 72.1 },
      mnli: { m: 86.7, mm: 85.9 },
      qnli: { accuracy: 92.7 },
      rte: { accuracy: 70.1 },
    },
    publishedScore: 82.1,
    scoreNote: 'paper average of 9 columns, no WNLI',
    scoreIncludesWnli: false,
  },
  {
    name: 'BERT-Tiny (L2/H128)',
    source: TURC,
    cells: {
      cola: { mcc: 0.0 },
      sst2: { accuracy: 83.2 },
      mrpc: { f1: 81.1, accuracy: 71.1 },
      stsb: { pearson: 74.3, spearman: 73.6 },
      qqp: { f1: 62.2, accuracy: 83.4 },
      mnli: { m: 70.2, mm: 70.3 },
      qnli: { accuracy: 81.5 },
      rte: { accuracy: 57.2 },
      wnli: { accuracy: 62.3 },
    },
    publishedScore: 64.2,
    scoreNote: 'GLUE score, 9 tasks incl. WNLI',
    scoreIncludesWnli: true,
  },
  {
    name: 'BERT-Mini (L4/H256)',
    source: TURC,
    cells: {
      cola: { mcc: 0.0 },
      sst2: { accuracy: 85.9 },
      mrpc: { f1: 81.1, accuracy: 71.8 },
      stsb: { pearson: 75.4, spearman: 73.3 },
      qqp: { f1: 66.4, accuracy: 86.2 },
      mnli: { m: 74.8, mm: 74.3 },
      qnli: { accuracy: 84.1 },
      rte: { accuracy: 57.9 },
      wnli: { accuracy: 62.3 },
    },
    publishedScore: 65.8,
    scoreNote: 'GLUE score, 9 tasks incl. WNLI',
    scoreIncludesWnli: true,
  },
];
