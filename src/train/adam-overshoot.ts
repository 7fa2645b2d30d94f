/**
 * How far Adam without bias correction (google-research/bert's
 * AdamWeightDecayOptimizer, `train.bias_correction: false`) overshoots its
 * schedule in the first updates, and the start-up warning when that is
 * known to be unstable.
 *
 * Corrected Adam moves by m̂/√v̂ with m̂ = m/(1-β1^t), v̂ = v/(1-β2^t);
 * uncorrected Adam moves by m/√v. Ignoring ε, update t of the uncorrected
 * optimizer is (1-β1^t)/√(1-β2^t) times the corrected one: with β 0.9 /
 * 0.999 that is 3.2 at t=1, about 6.5 at t≈10, 3.2 at t=100 and 1.26 at
 * t=1000. The rate it effectively runs at is the scheduled rate times that
 * ratio, so a warm-up much shorter than 1/(1-β2) steps does not protect the
 * first updates.
 */
import type { TrainSection } from '../config/types.js';

/** The effective peak may exceed train.lr by this factor before we speak: below it the schedule is close to what the config says. */
export const OVERSHOOT_LIMIT = 1.5;
/**
 * Effective rates above this are known to break pretraining here: with
 * bias correction lr 1e-3 is the highest peak that trained BERT-Tiny
 * stably in our measurements (ours and HuggingFace's), while the
 * uncorrected run at lr 1e-3 with 20 warm-up steps (effective ~6e-3)
 * collapsed to one prediction everywhere.
 */
export const EFFECTIVE_LR_LIMIT = 1e-3;

/** Update t (1-based) of uncorrected Adam over the corrected one: (1-β1^t)/√(1-β2^t). */
export function uncorrectedRatio(t: number, beta1: number, beta2: number): number {
  return (1 - beta1 ** t) / Math.sqrt(1 - beta2 ** t);
}

export interface Overshoot {
  /** The largest effective rate: peak × warm-up factor × uncorrectedRatio. */
  effectivePeak: number;
  /** The update (1-based) where it happens. */
  atUpdate: number;
}

/**
 * The largest effective rate of uncorrected Adam under a linear warm-up of
 * `warmupSteps` (update t runs at peak × min(1, (t-1)/warmupSteps)); null
 * warm-up: its length in steps is not known (a warm-up in wall-clock time),
 * so no warm-up is assumed. The decay after the warm-up is ignored, which
 * can only overstate the peak.
 */
export function uncorrectedOvershoot(
  peakLr: number,
  warmupSteps: number | null,
  beta1: number,
  beta2: number,
): Overshoot {
  const w = warmupSteps ?? 0;
  // Past the warm-up the ratio only falls towards 1; 10/(1-β2) updates later it is within 1e-4 of it.
  const last = Math.min(1_000_000, w + 1 + Math.ceil(10 / (1 - beta2)));
  let best: Overshoot = { effectivePeak: 0, atUpdate: 1 };
  for (let t = 1; t <= last; t++) {
    const warm = w === 0 ? 1 : Math.min(1, (t - 1) / w);
    const rate = peakLr * warm * uncorrectedRatio(t, beta1, beta2);
    if (rate > best.effectivePeak) best = { effectivePeak: rate, atUpdate: t };
  }
  return best;
}

/**
 * The start-up warning for a train section, or null: AdamW without bias
 * correction whose first updates run above EFFECTIVE_LR_LIMIT and more than
 * OVERSHOOT_LIMIT × train.lr. `totalSteps` turns warmup_ratio into steps
 * when the schedule follows steps.
 */
export function adamOvershootWarning(train: TrainSection, totalSteps: number): string | null {
  if (train.optimizer !== 'adamw' || train.bias_correction) return null;
  const warmupSteps =
    train.warmup_steps ??
    (train.budget_minutes === null ? Math.round(train.warmup_ratio * totalSteps) : null);
  const o = uncorrectedOvershoot(train.lr, warmupSteps, train.adam_beta1, train.adam_beta2);
  const factor = o.effectivePeak / train.lr;
  if (factor <= OVERSHOOT_LIMIT || o.effectivePeak <= EFFECTIVE_LR_LIMIT) return null;
  const warmup =
    warmupSteps === null ? 'a warm-up in time (its steps unknown)' : `${warmupSteps} warm-up steps`;
  return (
    `train.bias_correction is false: with lr ${train.lr}, ${warmup} and adam_beta2 ` +
    `${train.adam_beta2}, uncorrected Adam's update ${o.atUpdate} runs at ~${o.effectivePeak.toPrecision(2)} ` +
    `(${factor.toFixed(1)}x train.lr), above ${EFFECTIVE_LR_LIMIT}, the highest rate known to train stably; ` +
    'set train.bias_correction: true (the default) or a longer warm-up'
  );
}
