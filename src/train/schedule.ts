/**
 * Learning-rate schedules as pure functions of where the run stands, in one
 * unit: optimizer steps (the rate of the (step+1)-th update, 0-based), or
 * milliseconds of training time under a wall-clock budget. Linear warm-up
 * from 0 to the peak over `warmup`, then linear decay to 0 at `end` (BERT),
 * half-cosine decay, or constant — HF's get_*_schedule_with_warmup, with
 * progress = position / end.
 */
export type DecayKind = 'linear' | 'cosine' | 'constant';

export interface ScheduleConfig {
  peakLr: number;
  /** Length of the warm-up, in the unit of the position. */
  warmup: number;
  /** Where the decay reaches 0 (linear, cosine), in the unit of the position. */
  end: number;
  decay: DecayKind;
}

export function learningRate(position: number, config: ScheduleConfig): number {
  const { peakLr, warmup, end, decay } = config;
  if (position < warmup) return (peakLr * position) / Math.max(1, warmup);
  if (decay === 'constant') return peakLr;
  const progress = Math.min(1, (position - warmup) / Math.max(1, end - warmup));
  if (decay === 'linear') return peakLr * (1 - progress);
  return peakLr * 0.5 * (1 + Math.cos(Math.PI * progress));
}
