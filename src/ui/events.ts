/**
 * The typed event stream every long-running command emits (tokenize,
 * pretrain, finetune, eval, eval-glue). Producers (trainer, tokenizer) know
 * nothing about terminals; reporters (Ink, plain, JSON, metrics.jsonl)
 * render these. Field names are stable: CI tooling reads them (`--ui json`).
 */

export interface RunStartEvent {
  type: 'run_start';
  time: string;
  command: string;
  run: string | null;
  backend: string;
  model?: { size: string; layers: number; hidden: number; heads: number; parameters: number };
  data?: string;
  totalSteps: number | null;
  config?: Record<string, unknown>;
}

export interface StepEvent {
  type: 'step';
  time: string;
  step: number;
  totalSteps: number | null;
  epoch: number;
  loss: number;
  mlm_loss?: number;
  nsp_loss?: number;
  mlm_accuracy?: number;
  nsp_accuracy?: number;
  /** Fine-tuning: accuracy on the step's training batch. */
  accuracy?: number;
  lr: number;
  grad_norm: number;
  /** Training time so far (from the first step, evaluation and checkpoint writing excluded, continued on resume). */
  elapsed_train_s?: number;
  /** train.budget_minutes in seconds, when a wall-clock budget drives the schedule. */
  budget_s?: number;
  tokens_per_s: number;
  examples_per_s: number;
  step_ms: number;
  queue_depth?: number;
  data_wait_ms?: number;
  tensors?: number;
  tensor_bytes?: number;
  rss_bytes?: number;
}

export interface EvalEvent {
  type: 'eval';
  time: string;
  step: number;
  split: string;
  metrics: Record<string, number>;
}

export interface CheckpointEvent {
  type: 'checkpoint';
  time: string;
  step: number;
  path: string;
  best?: boolean;
}

export interface ProgressEvent {
  type: 'progress';
  time: string;
  /** What is progressing: 'tokenize', 'encode', 'eval', ... */
  stage: string;
  done: number;
  total: number | null;
  unit: string;
  rate?: number;
}

export interface LogEvent {
  type: 'log' | 'warning';
  time: string;
  message: string;
}

export interface RunEndEvent {
  type: 'run_end';
  time: string;
  status: 'completed' | 'stopped' | 'failed';
  step?: number;
  elapsed_s: number;
  summary: Record<string, number | string>;
  outputs: Record<string, string>;
  /** Why the run failed (status `failed` after an error): the one line the CLI prints. */
  error?: string;
}

export type BertEvent =
  RunStartEvent | StepEvent | EvalEvent | CheckpointEvent | ProgressEvent | LogEvent | RunEndEvent;

/** Anything that consumes events. `close` flushes (files, final tables). */
export interface Reporter {
  emit(event: BertEvent): void;
  /** Write buffered events now (metrics.jsonl before a checkpoint is published). */
  flush?(): void;
  close(): Promise<void>;
}

export const now = (): string => new Date().toISOString();
