/**
 * CoNLL sentences → token-classification inputs: each word is tokenized on
 * its own; its tag goes on the first word piece, the other pieces get
 * weight 0 (HF's label −100). Sentences longer than max_seq_length − 2
 * pieces are cut at word boundaries into several chunks, so every word is
 * labelled and predicted.
 */
import type { BertTokenizer } from '../../tokenizer/bert-tokenizer.js';
import { padSequences, type TokenLabelBatch } from '../../model/batch.js';
import type { ConllSentence } from './conll.js';

export interface NerFeature {
  sentence: number;
  /** Index of the chunk's first word in the sentence. */
  firstWord: number;
  ids: Int32Array;
  labels: Int32Array;
  weights: Float32Array;
  /** Position of each word's first piece in `ids` (words firstWord..). */
  wordStarts: number[];
}

export function nerFeatures(
  tokenizer: BertTokenizer,
  sentences: readonly ConllSentence[],
  labelIds: ReadonlyMap<string, number>,
  maxSeqLength: number,
  tagsOf: (s: ConllSentence) => readonly string[] = (s) => s.tags,
): NerFeature[] {
  const out: NerFeature[] = [];
  const budget = maxSeqLength - 2;
  sentences.forEach((s, si) => {
    const tags = tagsOf(s);
    const words = s.tokens.map((w) => {
      const ids = tokenizer.tokenizeToIds(w);
      // A word the tokenizer drops entirely (only control characters) still needs a slot.
      return (ids.length ? ids : [tokenizer.unkId]).slice(0, budget);
    });
    let w = 0;
    while (w < words.length) {
      const first = w;
      const ids: number[] = [tokenizer.clsId];
      const labels: number[] = [0];
      const weights: number[] = [0];
      const wordStarts: number[] = [];
      while (w < words.length && ids.length - 1 + words[w].length <= budget) {
        wordStarts.push(ids.length);
        words[w].forEach((id, k) => {
          ids.push(id);
          labels.push(k === 0 ? (labelIds.get(tags[w]) ?? 0) : 0);
          weights.push(k === 0 ? 1 : 0);
        });
        w += 1;
      }
      ids.push(tokenizer.sepId);
      labels.push(0);
      weights.push(0);
      out.push({
        sentence: si,
        firstWord: first,
        ids: Int32Array.from(ids),
        labels: Int32Array.from(labels),
        weights: Float32Array.from(weights),
        wordStarts,
      });
    }
  });
  return out;
}

export function collateNer(features: readonly NerFeature[], padId: number): TokenLabelBatch {
  const inputs = padSequences(features, padId);
  const T = inputs.seq_length;
  const labels = new Int32Array(inputs.batch_size * T);
  const label_weights = new Float32Array(inputs.batch_size * T);
  features.forEach((f, b) => {
    labels.set(f.labels, b * T);
    label_weights.set(f.weights, b * T);
  });
  return { ...inputs, labels, label_weights };
}
