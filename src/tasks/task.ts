/**
 * What a fine-tuning task is to the rest of the program (HF's
 * Trainer + compute_metrics, google-research/bert's processors table): a
 * name, the heads it puts on the encoder, how it fine-tunes on the engine,
 * how `bert eval` scores one of its checkpoints, and (optionally) how
 * `bert predict` answers one input. The registry (tasks/registry.ts) lists
 * them; commands never test task names themselves.
 */
import type { HeadSpec } from '../model/load.js';
import type { BertModel } from '../model/bert.js';
import type { BertTokenizer } from '../tokenizer/bert-tokenizer.js';
import type { FinetuneSession } from './finetune.js';

/** How a fine-tuning run ended, for run_end and run.json. */
export interface TaskRun {
  status: 'completed' | 'stopped' | 'failed';
  step: number;
  /** run_end's summary: best_step and `<split>_<metric>` of the best evaluation. */
  summary: Record<string, number | string>;
  bestCheckpoint: string | null;
  lastCheckpoint: string | null;
}

export interface EvaluateRequest {
  checkpoint: string;
  split: 'dev' | 'test';
  /** --data; default: the directory the checkpoint was fine-tuned on. */
  dataDir?: string;
  outDir: string;
  batchSize?: number;
  /** Skip malformed rows of the task's files instead of stopping (`--skip-bad-rows`). */
  skipBadRows?: boolean;
  onProgress?: (split: string, done: number, total: number) => void;
}

/** One scored split of `bert eval`. */
export interface TaskEvaluation {
  task: string;
  split: string;
  examples: number;
  /** Empty for unlabelled (test) splits. */
  metrics: Record<string, number>;
  /** The predictions file written. */
  predictions: string;
}

/** `bert predict`'s input: a question over a context, or a sentence. */
export interface PredictInput {
  question?: string;
  context?: string;
  text?: string;
}

/** A loaded checkpoint for `bert predict`. */
export interface TaskModel {
  model: BertModel;
  tokenizer: BertTokenizer;
  /** config.json's `bert` block. */
  meta: Record<string, unknown>;
}

export interface Task {
  /** Registry name: glue/sst2, squad, squad2, conll2003. */
  name: string;
  /** Other spellings accepted on the command line and in configs. */
  aliases: readonly string[];
  head: HeadSpec;
  /** Whether a checkpoint's config.json `bert` block was written by this task. */
  wrote(meta: Record<string, unknown>): boolean;
  finetune(session: FinetuneSession): Promise<TaskRun>;
  evaluate(request: EvaluateRequest): Promise<TaskEvaluation[]>;
  /** What `bert predict` prints for one input: text, and the object --json prints. */
  predict?(loaded: TaskModel, input: PredictInput): Promise<{ text: string; json: unknown }>;
}

/** run_end's summary of a run whose best evaluation was `metrics` by split. */
export function bestSummary(
  best: { step: number; metrics: Record<string, Record<string, number>> } | null,
): Record<string, number | string> {
  const summary: Record<string, number | string> = { best_step: best?.step ?? '(none)' };
  for (const [split, metrics] of Object.entries(best?.metrics ?? {}))
    for (const [k, v] of Object.entries(metrics)) summary[`${split}_${k}`] = v;
  return summary;
}
