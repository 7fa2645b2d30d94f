/**
 * Wiring of the pretraining pipeline from a config: held-out split, the
 * stream over the chosen split and the batch shape. Shared by the worker, the
 * in-thread builder (tests, `data inspect`) and the benchmark, so they all
 * produce the same stream.
 */
import type { PretrainDataConfig } from './config.js';
import { PRETRAIN_OBJECTIVE_DEFAULT, assertObjective, minDocuments as minDocumentsFor } from './objective.js';
import type { PretrainObjective } from '../config/types.js';
import type { BatchShape } from './batch.js';
import { nonEmptyDocuments, splitDocuments, type DocumentSplit } from './split.js';
import { PretrainingStream } from './stream.js';
import type { DocumentSource } from './types.js';
import type { MaskingVocab } from './vocab.js';
import { UserError } from '../errors.js';
import { expectedValues, schemaEnum } from '../config/schemas.js';

/** `data.pad_to`'s values, read from the schema. */
const PAD_TO = schemaEnum<BatchShape['pad_to']>('pretrain', ['data', 'pad_to']);

/**
 * Which documents a pipeline reads: `train` and `heldout` are the two sides of
 * `heldout_fraction`'s split of one corpus; `heldout_corpus` is every document
 * of a source that is itself the held-out set (`data.heldout_corpus`'s shards).
 * `train` cycles through epochs, the others are one pass.
 */
export type DataSplitName = 'train' | 'heldout' | 'heldout_corpus';

/**
 * The config keys the pipeline reads (`shards` is only needed to open the
 * source), and `train.objective` (absent: the schema's default, mlm+nsp).
 */
export type PipelineConfig = Omit<PretrainDataConfig, 'shards'> & { objective?: PretrainObjective };

export interface Pipeline {
  stream: PretrainingStream;
  shape: BatchShape;
  split: DocumentSplit;
}

export function createPipeline(
  source: DocumentSource,
  vocab: MaskingVocab,
  config: PipelineConfig,
  seed: number,
  splitName: DataSplitName = 'train',
  where = 'data',
): Pipeline {
  validateConfig(config, where);
  const objective = config.objective ?? PRETRAIN_OBJECTIVE_DEFAULT;
  const minDocuments = minDocumentsFor(objective);
  let split: DocumentSplit;
  if (splitName === 'heldout_corpus') {
    const all = nonEmptyDocuments(source);
    if (all.length < minDocuments) {
      throw new UserError(
        `${where}.heldout_corpus: found ${all.length} non-empty document(s); ${minDocuments === 1 ? 'evaluation needs at least 1' : 'next-sentence pairs need at least 2 (documents are separated by blank lines)'}`,
      );
    }
    split = { train: new Int32Array(0), heldout: all };
  } else {
    split = splitDocuments(source, config.heldout_fraction, seed, where, minDocuments);
  }
  let docs = split.train;
  let randomDocs = split.train;
  if (splitName === 'heldout_corpus') {
    docs = split.heldout;
    randomDocs = split.heldout;
  } else if (splitName === 'heldout') {
    if (split.heldout.length === 0) {
      throw new UserError(`${where}.heldout_fraction is 0: there are no held-out documents`);
    }
    docs = split.heldout;
    // With a single held-out document, NotNext segments come from training text.
    randomDocs = split.heldout.length >= 2 ? split.heldout : split.train;
  }
  const stream = new PretrainingStream(source, vocab, {
    params: config,
    objective,
    seed,
    docs,
    randomDocs,
    singleEpoch: splitName !== 'train',
  });
  const shape: BatchShape = {
    max_seq_length: config.max_seq_length,
    max_predictions_per_seq: config.max_predictions_per_seq,
    pad_to: config.pad_to,
    padId: vocab.padId,
  };
  return { stream, shape, split };
}

function validateConfig(c: PipelineConfig, where: string): void {
  const int = (key: keyof PipelineConfig, min: number): void => {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new UserError(`${where}.${key}: expected an integer >= ${min}, got ${String(v)}`);
    }
  };
  int('max_seq_length', 5);
  int('max_predictions_per_seq', 1);
  int('dupe_factor', 1);
  int('prefetch', 1);
  const prob = (key: 'masked_lm_prob' | 'short_seq_prob', openZero: boolean): void => {
    const v = c[key];
    if (!(v >= 0 && v <= 1) || (openZero && v === 0)) {
      throw new UserError(`${where}.${key}: expected a probability in ${openZero ? '(0' : '[0'}, 1], got ${v}`);
    }
  };
  prob('masked_lm_prob', true);
  prob('short_seq_prob', false);
  if (c.objective !== undefined) assertObjective(c.objective);
  if (!PAD_TO.includes(c.pad_to)) {
    throw new UserError(`${where}.pad_to: expected ${expectedValues(PAD_TO)}, got ${String(c.pad_to)}`);
  }
}
