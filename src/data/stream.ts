/**
 * The pretraining stream: instance k of epoch e is a pure function of
 * (seed, e, k). Instances — NSP or SOP pairs (`planEpoch`, objective mlm+nsp or mlm+sop) or
 * packed MLM-only sequences (`planPackedEpoch`, objective mlm) — are planned
 * per epoch and masked on the fly with a generator derived from (seed, epoch, k), so masking is dynamic
 * (fresh every epoch) and a run resumed from a `LoaderCursor` sees exactly the
 * stream it would have seen.
 */
import type { InstanceParams } from './config.js';
import type { PretrainObjective } from '../config/types.js';
import { sentencePairTask } from './objective.js';
import {
  RNG_STREAM,
  lengthTable,
  materializeInstance,
  planEpoch,
  recipeAt,
  type EpochPlan,
  type LengthTable,
  type SentencePairTask,
} from './instances.js';
import { cachedDocuments } from './document-cache.js';
import { materializePacked, packedRecipeAt, planPackedEpoch, type PackedEpochPlan } from './packing.js';
import { createMaskedLmPredictions } from './masking.js';
import { Rng } from './rng.js';
import type { DocumentSource } from './types.js';
import type { MaskingVocab } from './vocab.js';

/** Where the stream stands: the next instance is `index` of `epoch`. Stored in trainer_state.json. */
export interface LoaderCursor {
  epoch: number;
  index: number;
}

export const START_CURSOR: LoaderCursor = { epoch: 0, index: 0 };

/** One instance ready for batching. */
export interface MaskedInstance {
  /** Input ids after masking. */
  inputIds: Int32Array;
  /** Ids before masking. */
  originalIds: Int32Array;
  tokenTypeIds: Int32Array;
  maskedLmPositions: Int32Array;
  maskedLmIds: Int32Array;
  isRandomNext: boolean;
  docA: number;
  docB: number;
}

export interface StreamOptions {
  params: InstanceParams;
  /** mlm+nsp: NSP pairs; mlm+sop: sentence-order pairs; mlm: sequences packed to max_seq_length (packing.ts). */
  objective: PretrainObjective;
  seed: number;
  /** Documents instances are cut from. */
  docs: Int32Array;
  /** Documents NotNext segments B are drawn from (usually `docs`; unused by mlm and mlm+sop). */
  randomDocs: Int32Array;
  /** Stop after one epoch instead of cycling (evaluation on held-out documents). */
  singleEpoch?: boolean;
}

export class PretrainingStream {
  private readonly lengths: LengthTable;
  /** The plans of the current and (once prepared) the next epoch. */
  private readonly plans = new Map<number, EpochPlan>();

  private readonly source: DocumentSource;
  /** The objective's sentence-pair task; undefined: packed MLM-only sequences. */
  private readonly pairing: SentencePairTask | undefined;

  constructor(
    source: DocumentSource,
    private readonly vocab: MaskingVocab,
    private readonly options: StreamOptions,
  ) {
    this.lengths = lengthTable(source);
    this.source = cachedDocuments(source);
    this.pairing = sentencePairTask(options.objective);
  }

  /** The plan of `epoch` (the latest one is cached). */
  epochPlan(epoch: number): EpochPlan {
    let plan = this.plans.get(epoch);
    if (!plan) {
      plan = this.plan(epoch);
      if (plan.count === 0) throw new Error('the documents produced no instances');
      this.plans.set(epoch, plan);
    }
    // Keep this epoch's and the next one's plan only.
    for (const e of this.plans.keys()) if (e < epoch || e > epoch + 1) this.plans.delete(e);
    return plan;
  }

  /**
   * Plan the epoch after `epoch` ahead of time (the worker does this while
   * its queue is full), so crossing the boundary does not stall the trainer.
   */
  preparePlanAfter(epoch: number): void {
    if (this.options.singleEpoch || this.plans.has(epoch + 1)) return;
    this.plans.set(epoch + 1, this.plan(epoch + 1));
  }

  private plan(epoch: number): EpochPlan {
    const { params, seed, docs, randomDocs } = this.options;
    const pairing = this.pairing;
    return pairing === undefined
      ? planPackedEpoch(this.lengths, docs, params, seed, epoch)
      : planEpoch(this.lengths, docs, randomDocs, params, seed, epoch, pairing);
  }

  /** Instance `index` of `epoch`, masked. */
  instanceAt(cursor: LoaderCursor): MaskedInstance {
    const plan = this.epochPlan(cursor.epoch);
    if (cursor.index < 0 || cursor.index >= plan.count) {
      throw new RangeError(`cursor index ${cursor.index} outside epoch ${cursor.epoch} (${plan.count})`);
    }
    const inst =
      this.pairing === undefined
        ? materializePacked(
            this.source,
            plan as PackedEpochPlan,
            packedRecipeAt(plan as PackedEpochPlan, cursor.index),
            this.vocab,
          )
        : materializeInstance(this.source, recipeAt(plan, cursor.index), this.vocab);
    const rng = Rng.derive(this.options.seed, RNG_STREAM.masking, cursor.epoch, cursor.index);
    const m = createMaskedLmPredictions(inst.tokens, this.options.params, this.vocab, rng);
    return {
      inputIds: m.inputIds,
      originalIds: inst.tokens,
      tokenTypeIds: inst.tokenTypeIds,
      maskedLmPositions: m.maskedLmPositions,
      maskedLmIds: m.maskedLmIds,
      isRandomNext: inst.isRandomNext,
      docA: inst.docA,
      docB: inst.docB,
    };
  }

  /** The cursor after `cursor`, or null at the end of a single-epoch stream. */
  advance(cursor: LoaderCursor): LoaderCursor | null {
    const count = this.epochPlan(cursor.epoch).count;
    if (cursor.index + 1 < count) return { epoch: cursor.epoch, index: cursor.index + 1 };
    if (this.options.singleEpoch) return null;
    return { epoch: cursor.epoch + 1, index: 0 };
  }

  /** Instances from `cursor` on, each with the cursor that follows it. */
  *from(cursor: LoaderCursor): Generator<{ instance: MaskedInstance; next: LoaderCursor | null }> {
    let c: LoaderCursor | null = cursor;
    while (c) {
      const instance = this.instanceAt(c);
      c = this.advance(c);
      yield { instance, next: c };
    }
  }
}
