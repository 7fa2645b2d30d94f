/**
 * Fine-tuning data for the training engine: epochs over a fixed list of
 * features in a seeded shuffle, `micro` features per micro-batch. An epoch
 * ends in the micro-batch that uses it up (a short last batch, as in BERT's
 * run_classifier), and the next one starts reshuffled.
 */
import type { TrainSection } from '../config/types.js';
import { Rng } from '../data/rng.js';
import type { MicroBatch, TrainingData } from './loop.js';

/**
 * The Rng stream keys of the shuffles. They differ by task family only so
 * that runs recorded before the engine existed reproduce bit for bit.
 */
export const SHUFFLE_STREAM = { glue: 7, spans: 11 } as const;

/**
 * Optimizer steps of a fine-tuning run: max_steps, or epochs (default 3) ×
 * steps per epoch; Infinity when both are null and train.budget_minutes ends the run.
 */
export function fineTuningSteps(
  train: TrainSection,
  count: number,
  stopAtStep: number | null,
): { stepsPerEpoch: number; totalSteps: number; endStep: number } {
  const stepsPerEpoch = Math.ceil(count / train.batch_size);
  const timeOnly =
    train.max_steps === null && train.epochs === null && train.budget_minutes !== null;
  const totalSteps = timeOnly
    ? Number.POSITIVE_INFINITY
    : (train.max_steps ?? Math.max(1, Math.ceil((train.epochs ?? 3) * stepsPerEpoch)));
  return { stepsPerEpoch, totalSteps, endStep: Math.min(stopAtStep ?? totalSteps, totalSteps) };
}

/** Indices 0..count-1 in the shuffle of (seed, stream, epoch). */
export function shuffledIndices(count: number, seed: number, stream: number, epoch: number) {
  return Rng.derive(seed, stream, epoch).shuffle(Int32Array.from({ length: count }, (_, i) => i));
}

export class ShuffledEpochs<TBatch> implements TrainingData<TBatch> {
  passes = 0;
  private order: Int32Array;
  private pos = 0;

  constructor(
    private readonly o: {
      count: number;
      micro: number;
      seed: number;
      stream: number;
      stepsPerEpoch: number;
      /** One micro-batch from feature indices. */
      collate: (indices: readonly number[]) => MicroBatch<TBatch>;
    },
  ) {
    this.order = shuffledIndices(o.count, o.seed, o.stream, 0);
  }

  async next(): Promise<MicroBatch<TBatch>> {
    const indices = Array.from(this.order.subarray(this.pos, this.pos + this.o.micro));
    this.pos += indices.length;
    if (this.pos >= this.order.length) {
      this.passes += 1;
      this.order = shuffledIndices(this.o.count, this.o.seed, this.o.stream, this.passes);
      this.pos = 0;
    }
    return this.o.collate(indices);
  }

  epochAt(step: number): number {
    return step / this.o.stepsPerEpoch;
  }

  cursor(step: number): { step: number } {
    return { step };
  }
}
