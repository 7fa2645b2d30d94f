/**
 * The optimisation recipe a `train:` config section describes, shared by
 * every training loop (pretraining, GLUE, SQuAD/NER): the optimizer, the
 * micro-batch / accumulation split, and the learning-rate schedule.
 */
import { UserError } from '../errors.js';
import type { TrainSection } from '../config/types.js';
import { createOptimizer, type Optimizer } from './optimizer.js';
import { learningRate } from './schedule.js';

/** AdamW (BERT: no bias correction unless asked) or LAMB (always bias-corrected). */
export function optimizerFor(train: TrainSection): Optimizer {
  return createOptimizer({
    type: train.optimizer,
    beta1: train.adam_beta1,
    beta2: train.adam_beta2,
    epsilon: train.adam_epsilon,
    weightDecay: train.weight_decay,
    biasCorrection: train.optimizer === 'lamb' ? true : train.bias_correction,
  });
}

/** Sequences per forward/backward pass and passes per optimizer step. */
export function microBatches(train: TrainSection): { micro: number; accum: number } {
  const micro = train.micro_batch_size ?? train.batch_size;
  if (train.batch_size % micro !== 0) {
    throw new UserError(
      `train.micro_batch_size (${micro}) must divide train.batch_size (${train.batch_size})`,
    );
  }
  return { micro, accum: train.batch_size / micro };
}

/** Where a run stands for its LR schedule: optimizer steps done and elapsed training time (ms). */
export interface SchedulePosition {
  step: number;
  trainMs: number;
}

/** train.budget_minutes in ms, or null (the schedule follows steps). */
export function budgetMs(train: TrainSection): number | null {
  return train.budget_minutes === null ? null : train.budget_minutes * 60_000;
}

/**
 * The learning rate of the update made at a position of the run. Without a
 * budget, progress is steps: warm-up over warmup_steps (or warmup_ratio of
 * `totalSteps`), decay to 0 at `totalSteps`. With train.budget_minutes,
 * progress is elapsed training time / budget: warm-up over warmup_ratio of
 * the budget, decay to 0 at the budget; given warmup_steps, the warm-up stays
 * in steps (a factor min(1, step / warmup_steps)) and the decay spans the
 * whole budget.
 */
export function scheduleFor(
  train: TrainSection,
  totalSteps: number,
): (at: SchedulePosition) => number {
  const { lr: peakLr, lr_schedule: decay } = train;
  const budget = budgetMs(train);
  if (budget === null) {
    const warmup = train.warmup_steps ?? Math.round(train.warmup_ratio * totalSteps);
    return ({ step }) => learningRate(step, { peakLr, warmup, end: totalSteps, decay });
  }
  const stepWarmup = train.warmup_steps;
  if (stepWarmup === null) {
    const warmup = train.warmup_ratio * budget;
    return ({ trainMs }) => learningRate(trainMs, { peakLr, warmup, end: budget, decay });
  }
  return ({ step, trainMs }) =>
    (stepWarmup === 0 ? 1 : Math.min(1, step / stepWarmup)) *
    learningRate(trainMs, { peakLr, warmup: 0, end: budget, decay });
}
