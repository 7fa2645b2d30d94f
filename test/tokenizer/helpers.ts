/** Shared paths and HF reference tokenizers for the tokenizer tests. */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@anush008/tokenizers';
import { packageRoot } from '../../src/paths.js';
import type { BertTokenizer } from '../../src/tokenizer/bert-tokenizer.js';
import { tokenizerJsonText } from '../../src/tokenizer/tokenizer-json.js';

export const UNCASED_VOCAB = join(packageRoot, 'data/vocab/bert-base-uncased/vocab.txt');
/** Google's bert-base-cased vocab.txt (test/fixtures/vocab/README.md). */
export const CASED_VOCAB = join(packageRoot, 'test/fixtures/vocab/bert-base-cased/vocab.txt');
export const SAMPLE = join(packageRoot, 'data/corpus/sample.txt');
export const HARD_CASES = join(packageRoot, 'test/fixtures/tokenizer/hard-cases.txt');
/** The full corpus (~57 MB) from the data kit beside the repository: CI has it, a fresh clone does not. */
const FULL_CORPUS = [0, 1, 2, 3].map((i) =>
  join(packageRoot, `../shared/data/corpus/gutenberg_0${i}.txt`),
);
/** Corpus files to compare slices of: the full corpus where present, else the shipped sample. */
export const PARITY_CORPUS = FULL_CORPUS.every((p) => existsSync(p)) ? FULL_CORPUS : [SAMPLE];

/** HF's Rust tokenizer loaded from the tokenizer.json our writer produces for `ours`' vocab. */
export function hfTwin(ours: BertTokenizer): Tokenizer {
  return Tokenizer.fromString(tokenizerJsonText(ours.vocab, { lowercase: ours.lowercase }));
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `bert-${tag}-`));
}

export interface ParityReport {
  lines: number;
  mismatches: Array<{ line: number; text: string; ours: number[]; hf: number[] }>;
}

/** Encode every line with both tokenizers ([CLS]/[SEP] included) and collect differences. */
export async function compareLines(
  ours: BertTokenizer,
  hf: Tokenizer,
  lines: readonly string[],
): Promise<ParityReport> {
  const report: ParityReport = { lines: 0, mismatches: [] };
  const batch = 4000;
  for (let s = 0; s < lines.length; s += batch) {
    const part = lines.slice(s, s + batch);
    const encs = await hf.encodeBatch(part);
    part.forEach((text, k) => {
      const a = ours.encode(text).ids;
      const b = encs[k]!.getIds();
      report.lines++;
      if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
        report.mismatches.push({ line: s + k + 1, text, ours: a, hf: b });
      }
    });
  }
  return report;
}
