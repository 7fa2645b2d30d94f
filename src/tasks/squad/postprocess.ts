/**
 * From start/end logits to answer text (run_squad.py's n-best logic, with
 * HF's offset mapping back to the original context): in every window of a
 * question take the n_best_size highest start and end logits, keep pairs
 * inside the context with start ≤ end, length ≤ max_answer_length and the
 * start in its max-context window, and answer with the best-scoring pair's
 * original text (start + end logit).
 */
import type { SquadExample } from './data.js';
import type { ContextCache, SquadFeature } from './features.js';

export interface PostprocessOptions {
  nBestSize: number;
  maxAnswerLength: number;
}

export interface FeatureLogits {
  start: Float32Array;
  end: Float32Array;
}

/** Indices of the `k` largest values (descending). */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b] - values[a]);
  return idx.slice(0, k);
}

export interface Candidate {
  text: string;
  score: number;
}

/** The n-best answers of each example (best first); examples with no valid span get ''. */
export function nBestAnswers(
  examples: readonly SquadExample[],
  features: readonly SquadFeature[],
  logits: readonly FeatureLogits[],
  cache: ContextCache,
  options: PostprocessOptions,
): Candidate[][] {
  const out: Candidate[][] = examples.map(() => []);
  features.forEach((f, fi) => {
    const { start, end } = logits[fi];
    const ex = examples[f.example];
    const pieces = cache.get(ex.context);
    for (const s of topK(start, options.nBestSize)) {
      if (f.pieceIndex[s] < 0 || !f.maxContext[s]) continue;
      for (const e of topK(end, options.nBestSize)) {
        if (f.pieceIndex[e] < 0 || e < s || e - s + 1 > options.maxAnswerLength) continue;
        out[f.example].push({
          text: ex.context.slice(pieces.starts[f.pieceIndex[s]], pieces.ends[f.pieceIndex[e]]),
          score: start[s] + end[e],
        });
      }
    }
  });
  return out.map((c) => c.sort((a, b) => b.score - a.score).slice(0, options.nBestSize));
}

/**
 * SQuAD v2.0: each example's no-answer score, the smallest [CLS] start + end
 * logit over its windows (run_squad.py's score_null).
 */
export function nullScores(
  examples: readonly SquadExample[],
  features: readonly SquadFeature[],
  logits: readonly FeatureLogits[],
): number[] {
  const out = examples.map(() => Infinity);
  features.forEach((f, fi) => {
    out[f.example] = Math.min(out[f.example], logits[fi].start[0] + logits[fi].end[0]);
  });
  return out;
}

/**
 * The official predictions JSON: {question id: answer text}. With null
 * scores (v2.0) a question gets '' (no answer) when score_null − best span
 * score exceeds `nullScoreDiffThreshold`.
 */
export function predictionsJson(
  examples: readonly SquadExample[],
  nBest: readonly Candidate[][],
  v2?: { nullScores: readonly number[]; nullScoreDiffThreshold: number },
): Record<string, string> {
  const out: Record<string, string> = {};
  examples.forEach((ex, i) => {
    const best = nBest[i][0];
    if (v2 && (!best || v2.nullScores[i] - best.score > v2.nullScoreDiffThreshold)) out[ex.id] = '';
    else out[ex.id] = best?.text ?? '';
  });
  return out;
}
