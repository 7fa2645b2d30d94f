/**
 * Single-input inference for `bert predict`: the answer span of a question
 * over a context (windows + n-best, as evaluation does), or the entities of
 * a sentence (words split as BERT's BasicTokenizer splits them).
 */
import type { BertModel } from '../../model/bert.js';
import type { BertTokenizer } from '../../tokenizer/bert-tokenizer.js';
import { basicWordSpans } from '../../tokenizer/offsets.js';
import { getEntities } from '../../metrics/seqeval.js';
import { predictTags } from '../conll2003/finetune.js';
import { ContextCache, squadFeatures } from './features.js';
import { nBestAnswers, nullScores, type Candidate } from './postprocess.js';
import { predictWindows, type SquadMetadata } from './finetune.js';

export function answerQuestion(
  model: BertModel,
  tokenizer: BertTokenizer,
  meta: SquadMetadata,
  question: string,
  context: string,
): Candidate[] {
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
  const logits = predictWindows(model, features, tokenizer.padId, 16);
  const nBest = nBestAnswers(examples, features, logits, cache, {
    nBestSize: meta.n_best_size,
    maxAnswerLength: meta.max_answer_length,
  })[0];
  if (meta.version !== '2.0') return nBest;
  // SQuAD v2.0: the no-answer candidate ('') takes its place by score_null − threshold.
  const nullScore = nullScores(examples, features, logits)[0] - meta.null_score_diff_threshold;
  return [...nBest, { text: '', score: nullScore }].sort((a, b) => b.score - a.score);
}

export interface TaggedEntity {
  type: string;
  text: string;
  /** Character range in the input. */
  start: number;
  end: number;
}

export function tagEntities(
  model: BertModel,
  tokenizer: BertTokenizer,
  maxSeqLength: number,
  text: string,
): { words: string[]; tags: string[]; entities: TaggedEntity[] } {
  const spans = basicWordSpans(text);
  const words = spans.map((s) => text.slice(s.start, s.end));
  if (words.length === 0) return { words, tags: [], entities: [] };
  const [tags] = predictTags(
    model,
    tokenizer,
    [{ tokens: words, tags: words.map(() => 'O'), document: 0 }],
    maxSeqLength,
    16,
  );
  const entities = getEntities(tags).map((e) => ({
    type: e.type,
    start: spans[e.start].start,
    end: spans[e.end].end,
    text: text.slice(spans[e.start].start, spans[e.end].end),
  }));
  return { words, tags, entities };
}
