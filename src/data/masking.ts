/**
 * Masked-LM targets, after google-research/bert `create_masked_lm_predictions`.
 *
 * Of the non-special tokens, masked_lm_prob × n (rounded stochastically, at
 * least one, at most max_predictions_per_seq) are chosen uniformly; each chosen token becomes
 * [MASK] with probability 0.8, a random non-special vocabulary token with 0.1,
 * and stays itself with 0.1. The labels are the original ids. With whole-word
 * masking a word's `##` pieces are chosen together, and a word that would
 * overshoot the budget is skipped, as in the reference.
 *
 * Differences from the reference, on purpose: every special token ([UNK] and
 * [unusedN] included, not only [CLS]/[SEP]) is excluded from prediction, and a
 * random replacement is never a special token.
 */
import type { Rng } from './rng.js';
import type { MaskingVocab } from './vocab.js';

export interface MaskingParams {
  masked_lm_prob: number;
  max_predictions_per_seq: number;
  whole_word_masking: boolean;
}

export interface MaskedLmPredictions {
  /** The input ids after masking (same length as the tokens). */
  inputIds: Int32Array;
  /** Positions chosen for prediction, ascending. */
  maskedLmPositions: Int32Array;
  /** Original ids at those positions (the labels). */
  maskedLmIds: Int32Array;
}

/**
 * Groups of candidate positions: one per token, or one per whole word
 * (a token plus the `##` continuations that directly follow it).
 */
export function candidateIndexes(
  tokens: Int32Array,
  vocab: MaskingVocab,
  wholeWord: boolean,
): number[][] {
  const groups: number[][] = [];
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i];
    if (vocab.isSpecial[id]) continue;
    const last = groups.length > 0 ? groups[groups.length - 1] : undefined;
    if (wholeWord && vocab.isContinuation[id] && last && last[last.length - 1] === i - 1) {
      last.push(i);
    } else {
      groups.push([i]);
    }
  }
  return groups;
}

/**
 * How many of `numCandidates` eligible tokens are chosen: masked_lm_prob × n
 * rounded *stochastically* (up with probability equal to the fraction), then
 * at least one and at most max_predictions_per_seq. The reference rounds to
 * nearest, which for the usual lengths biases the rate (125 tokens → 19 =
 * 15.2%); stochastic rounding keeps the expected rate at masked_lm_prob.
 */
export function numToPredict(numCandidates: number, params: MaskingParams, rng: Rng): number {
  if (numCandidates === 0) return 0;
  const exact = numCandidates * params.masked_lm_prob;
  const base = Math.floor(exact);
  const rounded = base + (rng.random() < exact - base ? 1 : 0);
  return Math.min(params.max_predictions_per_seq, Math.max(1, rounded));
}

export function createMaskedLmPredictions(
  tokens: Int32Array,
  params: MaskingParams,
  vocab: MaskingVocab,
  rng: Rng,
): MaskedLmPredictions {
  const groups = candidateIndexes(tokens, vocab, params.whole_word_masking);
  let numCandidates = 0;
  for (const g of groups) numCandidates += g.length;
  const budget = numToPredict(numCandidates, params, rng);
  rng.shuffle(groups);

  const inputIds = Int32Array.from(tokens);
  const chosen: number[] = [];
  for (const group of groups) {
    if (chosen.length >= budget) break;
    if (chosen.length + group.length > budget) continue;
    for (const index of group) {
      chosen.push(index);
      if (rng.random() < 0.8) {
        inputIds[index] = vocab.maskId;
      } else if (rng.random() < 0.5) {
        // keep the original token
      } else {
        inputIds[index] = vocab.randomCandidates[rng.below(vocab.randomCandidates.length)];
      }
    }
  }
  chosen.sort((a, b) => a - b);
  const maskedLmPositions = Int32Array.from(chosen);
  const maskedLmIds = new Int32Array(chosen.length);
  for (let k = 0; k < chosen.length; k++) maskedLmIds[k] = tokens[chosen[k]];
  return { inputIds, maskedLmPositions, maskedLmIds };
}
