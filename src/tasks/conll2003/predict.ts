/**
 * Single-input inference for `bert predict`: the entities of a sentence
 * (words split as BERT's BasicTokenizer splits them).
 */
import type { BertModel } from '../../model/bert.js';
import type { BertTokenizer } from '../../tokenizer/bert-tokenizer.js';
import { basicWordSpans } from '../../tokenizer/offsets.js';
import { getEntities } from '../../metrics/seqeval.js';
import { predictTags } from './finetune.js';

export interface TaggedEntity {
  type: string;
  text: string;
  /** Character range in the input. */
  start: number;
  end: number;
}

export async function tagEntities(
  model: BertModel,
  tokenizer: BertTokenizer,
  maxSeqLength: number,
  text: string,
): Promise<{ words: string[]; tags: string[]; entities: TaggedEntity[] }> {
  const spans = basicWordSpans(text);
  const words = spans.map((s) => text.slice(s.start, s.end));
  if (words.length === 0) return { words, tags: [], entities: [] };
  const [tags] = await predictTags(
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
