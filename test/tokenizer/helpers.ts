/** Shared paths and HF reference tokenizers for the tokenizer tests. */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@anush008/tokenizers';
import { packageRoot } from '../../src/paths.js';
import type { BertTokenizer } from '../../src/tokenizer/bert-tokenizer.js';
import { tokenizerJsonText } from '../../src/tokenizer/tokenizer-json.js';

export const UNCASED_VOCAB = join(packageRoot, 'data/vocab/bert-base-uncased/vocab.txt');
export const SHARED_DATA = join(packageRoot, '../shared/data');
export const CASED_VOCAB = join(SHARED_DATA, 'vocab/bert-base-cased/vocab.txt');
export const SAMPLE = join(packageRoot, 'data/corpus/sample.txt');
export const HARD_CASES = join(packageRoot, 'test/fixtures/tokenizer/hard-cases.txt');
export const SHARED_CORPUS = [0, 1, 2, 3].map((i) =>
  join(SHARED_DATA, `corpus/gutenberg_0${i}.txt`),
);
export const haveSharedData = (): boolean =>
  existsSync(CASED_VOCAB) && SHARED_CORPUS.every((p) => existsSync(p));

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
