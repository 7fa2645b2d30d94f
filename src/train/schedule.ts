/**
 * Learning-rate schedules as pure functions of the optimizer step (0-based:
 * the rate used by the (step+1)-th update). Linear warm-up from 0 to the
 * peak over `warmupSteps`, then linear decay to 0 at `totalSteps` (BERT),
 * half-cosine decay, or constant — HF's get_*_schedule_with_warmup.
 */
export type DecayKind = 'linear' | 'cosine' | 'constant';

export interface ScheduleConfig {
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  decay: DecayKind;
}

export function learningRate(step: number, config: ScheduleConfig): number {
  const { peakLr, warmupSteps, totalSteps, decay } = config;
  if (step < warmupSteps) return (peakLr * step) / Math.max(1, warmupSteps);
  if (decay === 'constant') return peakLr;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  if (decay === 'linear') return peakLr * (1 - progress);
  return peakLr * 0.5 * (1 + Math.cos(Math.PI * progress));
}
