/**
 * Encoding one block of corpus text (whole documents) into token ids with
 * sentence and document boundaries: the unit of work of a shard worker.
 * Pure apart from the tokenizer's cache; runs in a worker or inline.
 */
import type { BertTokenizer } from './bert-tokenizer.js';

export type InputFormat = 'lines' | 'paragraphs';

export interface EncodedBlock {
  /** All token ids of the block, sentences concatenated. */
  ids: Uint32Array;
  /** Token count of each sentence. */
  sentenceLengths: Uint32Array;
  /** Sentence count of each document. */
  documentSentences: Uint32Array;
  /** How many ids are [UNK]. */
  unk: number;
}

/** True for lines that separate documents: empty or whitespace only. */
function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return line.trim() === '';
  }
  return true;
}

/**
 * Split `text` (documents separated by blank lines) into documents of
 * sentences: one sentence per line (`lines`) or each line a paragraph cut
 * into sentences by Intl.Segmenter (`paragraphs`). Sentences that encode to
 * no tokens and documents without sentences are dropped.
 */
export function encodeBlock(
  tokenizer: BertTokenizer,
  text: string,
  format: InputFormat,
  locale?: string,
): EncodedBlock {
  const ids: number[] = [];
  const sentenceLengths: number[] = [];
  const documentSentences: number[] = [];
  const segmenter =
    format === 'paragraphs' ? new Intl.Segmenter(locale, { granularity: 'sentence' }) : null;
  let docSentences = 0;
  const addSentence = (s: string): void => {
    const n = tokenizer.appendIds(s, ids);
    if (n > 0) {
      sentenceLengths.push(n);
      docSentences++;
    }
  };
  const endDocument = (): void => {
    if (docSentences > 0) documentSentences.push(docSentences);
    docSentences = 0;
  };
  let start = 0;
  const len = text.length;
  while (start <= len) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = len;
    const line = text.slice(start, end);
    if (isBlank(line)) endDocument();
    else if (segmenter === null) addSentence(line);
    else for (const seg of segmenter.segment(line)) addSentence(seg.segment);
    start = end + 1;
  }
  endDocument();
  const out = Uint32Array.from(ids);
  let unk = 0;
  const unkId = tokenizer.unkId;
  for (let i = 0; i < out.length; i++) if (out[i] === unkId) unk++;
  return {
    ids: out,
    sentenceLengths: Uint32Array.from(sentenceLengths),
    documentSentences: Uint32Array.from(documentSentences),
    unk,
  };
}

/**
 * Cut points of `text` into blocks of about `target` characters, only at
 * blank lines, so that no document straddles two blocks.
 */
export function blockBoundaries(text: string, target: number): number[] {
  const cuts = [0];
  const blank = /\n[ \t\r]*\n/g;
  let pos = 0;
  while (pos + target < text.length) {
    blank.lastIndex = pos + target;
    const m = blank.exec(text);
    if (m === null) break;
    pos = m.index + 1;
    cuts.push(pos);
  }
  cuts.push(text.length);
  return cuts;
}
