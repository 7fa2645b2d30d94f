/**
 * Test-only tokenization of the real corpus: lowercase, strip accents, split
 * on whitespace and punctuation, greedy longest-match WordPiece against
 * bert-base-uncased's vocab.txt ([UNK] when a word has no split). Close enough
 * to BERT's tokenizer for statistics on the data pipeline; documents are
 * separated by blank lines, one sentence per line.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DocumentSource, Sentence } from '../../../src/data/types.js';
import { parseVocabText } from '../../../src/data/vocab.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const VOCAB_PATH = `${ROOT}data/vocab/bert-base-uncased/vocab.txt`;
export const SHARED_CORPUS = '/work/shared/data/corpus';

export function loadVocabTokens(): string[] {
  return parseVocabText(readFileSync(VOCAB_PATH, 'utf8'));
}

export class SimpleWordPiece {
  private readonly ids = new Map<string, number>();
  readonly unkId: number;

  constructor(tokens: readonly string[]) {
    tokens.forEach((t, i) => this.ids.set(t, i));
    this.unkId = this.ids.get('[UNK]') ?? 0;
  }

  encodeWord(word: string, out: number[]): void {
    if (word.length > 100) {
      out.push(this.unkId);
      return;
    }
    const pieces: number[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found = -1;
      while (end > start) {
        const sub = (start > 0 ? '##' : '') + word.slice(start, end);
        const id = this.ids.get(sub);
        if (id !== undefined) {
          found = id;
          break;
        }
        end--;
      }
      if (found < 0) {
        out.push(this.unkId);
        return;
      }
      pieces.push(found);
      start = end;
    }
    for (const p of pieces) out.push(p);
  }

  encodeLine(line: string): Int32Array {
    const out: number[] = [];
    const text = line.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    for (const word of text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []) this.encodeWord(word, out);
    return Int32Array.from(out);
  }
}

/** Tokenized documents of a corpus file (blank line = document boundary). */
export function tokenizeCorpus(path: string, tokens: readonly string[], maxBytes = Infinity): Sentence[][] {
  let text = readFileSync(path, 'utf8');
  if (text.length > maxBytes) text = text.slice(0, text.lastIndexOf('\n', maxBytes));
  const wp = new SimpleWordPiece(tokens);
  const docs: Sentence[][] = [[]];
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (docs[docs.length - 1].length > 0) docs.push([]);
      continue;
    }
    docs[docs.length - 1].push(wp.encodeLine(line));
  }
  if (docs[docs.length - 1].length === 0) docs.pop();
  return docs;
}

export function memorySource(docs: Sentence[][]): DocumentSource {
  return { numDocuments: docs.length, document: (i) => docs[i] };
}
