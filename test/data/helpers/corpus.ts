/**
 * Real text for the data-pipeline tests: a Gutenberg corpus file tokenized
 * with the project's BertTokenizer (uncased) against bert-base-uncased's
 * vocab.txt, held in memory as a DocumentSource. Documents are separated by
 * blank lines, one sentence per line, as `bert tokenize` reads them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DocumentSource, Sentence } from '../../../src/data/types.js';
import { parseVocabText } from '../../../src/data/vocab.js';
import { BertTokenizer } from '../../../src/tokenizer/bert-tokenizer.js';
import { Vocab } from '../../../src/tokenizer/vocab.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const VOCAB_PATH = `${ROOT}data/vocab/bert-base-uncased/vocab.txt`;
/** The corpus sample the project ships: 3 public-domain books (data/README.md). */
export const SAMPLE_CORPUS = `${ROOT}data/corpus/sample.txt`;
/**
 * A 29-book shard of the full corpus, from the data kit beside the
 * repository: CI has it, a fresh clone does not.
 */
const FULL_CORPUS_SHARD = `${ROOT}../shared/data/corpus/gutenberg_00.txt`;

/**
 * Text for the statistical tests: the 29-book shard once where it is
 * present, else the shipped sample read `dupe_factor` times (each pass with
 * its own pairs and masks), so both give ~30,000 instances an epoch.
 */
export const STATISTICS_CORPUS = existsSync(FULL_CORPUS_SHARD)
  ? { name: 'gutenberg_00 (29 books)', path: FULL_CORPUS_SHARD, dupeFactor: 1 }
  : { name: 'data/corpus/sample.txt (3 books)', path: SAMPLE_CORPUS, dupeFactor: 45 };

export function loadVocabTokens(): string[] {
  return parseVocabText(readFileSync(VOCAB_PATH, 'utf8'));
}

/** Tokenized documents of a corpus file (blank line = document boundary). */
export function tokenizeCorpus(path: string, tokens: readonly string[], maxBytes = Infinity): Sentence[][] {
  let text = readFileSync(path, 'utf8');
  if (text.length > maxBytes) text = text.slice(0, text.lastIndexOf('\n', maxBytes));
  const tokenizer = new BertTokenizer(new Vocab(tokens), { lowercase: true });
  const ids: number[] = [];
  const docs: Sentence[][] = [[]];
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (docs[docs.length - 1].length > 0) docs.push([]);
      continue;
    }
    ids.length = 0;
    tokenizer.appendIds(line, ids);
    docs[docs.length - 1].push(Int32Array.from(ids));
  }
  if (docs[docs.length - 1].length === 0) docs.pop();
  return docs;
}

export function memorySource(docs: Sentence[][]): DocumentSource {
  return { numDocuments: docs.length, document: (i) => docs[i] };
}

/** Document d, sentence s, token k has id 1000·(d+1) + 10·s + k: every token says where it came from. */
export function syntheticDocs(lengths: number[][]): Sentence[][] {
  return lengths.map((doc, d) =>
    doc.map((len, s) => Int32Array.from({ length: len }, (_, k) => 1000 * (d + 1) + 10 * s + k)),
  );
}
