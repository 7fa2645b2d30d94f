/**
 * Single-input inference for `bert predict`: the answer span of a question
 * over a context (windows + n-best, as evaluation does).
 */
import type { BertModel } from '../../model/bert.js';
import type { BertTokenizer } from '../../tokenizer/bert-tokenizer.js';
import { ContextCache, squadFeatures } from './features.js';
import { nBestAnswers, nullScores, type Candidate } from './postprocess.js';
import { predictWindows, type SquadMetadata } from './finetune.js';

export async function answerQuestion(
  model: BertModel,
  tokenizer: BertTokenizer,
  meta: SquadMetadata,
  question: string,
  context: string,
): Promise<Candidate[]> {
  const examples = [
    { id: 'q', title: '', article: 0, context, question, answers: [], isImpossible: false },
  ];
  const cache = new ContextCache(tokenizer);
  const features = squadFeatures(
    tokenizer,
    examples,
    {
      maxSeqLength: meta.max_seq_length,
      docStride: meta.doc_stride,
      maxQueryLength: meta.max_query_length,
    },
    cache,
  );
  const logits = await predictWindows(model, features, tokenizer.padId, 16);
  const nBest = nBestAnswers(examples, features, logits, cache, {
    nBestSize: meta.n_best_size,
    maxAnswerLength: meta.max_answer_length,
  })[0];
  if (meta.version !== '2.0') return nBest;
  // SQuAD v2.0: the no-answer candidate ('') takes its place by score_null − threshold.
  const nullScore = nullScores(examples, features, logits)[0] - meta.null_score_diff_threshold;
  return [...nBest, { text: '', score: nullScore }].sort((a, b) => b.score - a.score);
}
