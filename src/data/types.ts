/**
 * Types shared by the tokenizer (which writes token shards) and the
 * pretraining data pipeline (which reads them).
 */

/** A token id in the WordPiece vocabulary (= its line number in vocab.txt). */
export type TokenId = number;

/** Token ids of one sentence, as stored in a shard (uint16 or uint32 on disk). */
export type Sentence = Uint16Array | Uint32Array | Int32Array;

/** Random access to tokenized documents: what the instance builder consumes. */
export interface DocumentSource {
  readonly numDocuments: number;
  /** Sentences of document `i`, in order. Views into shared memory; do not mutate. */
  document(i: number): Sentence[];
}
