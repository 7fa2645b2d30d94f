/**
 * A small LRU in front of a DocumentSource. A shard reader builds a document's
 * sentence views on every `document(i)` call, which for a whole book is
 * thousands of views per instance; instances come from a few documents at a
 * time (books) or from small ones (articles), so a few dozen cached
 * documents remove that cost.
 */
import type { DocumentSource, Sentence } from './types.js';

export function cachedDocuments(source: DocumentSource, capacity = 64): DocumentSource {
  const cache = new Map<number, Sentence[]>();
  return {
    numDocuments: source.numDocuments,
    document(i: number): Sentence[] {
      let doc = cache.get(i);
      if (doc) {
        cache.delete(i); // re-insert: Map order is the recency order
      } else {
        doc = source.document(i);
        if (cache.size >= capacity) cache.delete(cache.keys().next().value as number);
      }
      cache.set(i, doc);
      return doc;
    },
  };
}
