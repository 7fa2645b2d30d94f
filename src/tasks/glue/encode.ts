/**
 * GLUE examples → BERT inputs: `[CLS] A [SEP] (B [SEP])`, truncated longest
 * first to max_seq_length, then grouped into classification batches padded
 * to each batch's longest sequence.
 */
import type { BertTokenizer } from '../../tokenizer/bert-tokenizer.js';
import type { GlueExample } from './reader.js';
import { padSequences, type ClassificationBatch } from '../../model/batch.js';

export interface EncodedExample {
  ids: Int32Array;
  typeIds: Int32Array;
  /** Class id, STS-B score, or NaN for unlabelled test rows. */
  label: number;
}

export function encodeExamples(
  tokenizer: BertTokenizer,
  examples: readonly GlueExample[],
  maxSeqLength: number,
): EncodedExample[] {
  return examples.map((ex) => {
    const enc = tokenizer.encode(ex.textA, ex.textB ?? null, { maxLength: maxSeqLength });
    return {
      ids: Int32Array.from(enc.ids),
      typeIds: Int32Array.from(enc.tokenTypeIds),
      label: ex.label ?? Number.NaN,
    };
  });
}

/** Collate examples (in the given order) into one batch padded to its longest sequence. */
export function collateClassification(
  examples: readonly EncodedExample[],
  padId: number,
  regression: boolean,
): ClassificationBatch {
  const labels = regression ? new Float32Array(examples.length) : new Int32Array(examples.length);
  examples.forEach((e, b) => {
    labels[b] = Number.isNaN(e.label) ? 0 : e.label;
  });
  return { ...padSequences(examples, padId), labels };
}
