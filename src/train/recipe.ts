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

/** The learning rate at each step of a schedule `totalSteps` long (warm-up from warmup_steps or warmup_ratio). */
export function scheduleFor(train: TrainSection, totalSteps: number): (step: number) => number {
  const warmupSteps = train.warmup_steps ?? Math.round(train.warmup_ratio * totalSteps);
  return (step) =>
    learningRate(step, { peakLr: train.lr, warmupSteps, totalSteps, decay: train.lr_schedule });
}
