/**
 * The CoNLL-2003 column format: `token POS chunk NER` per line, a blank
 * line between sentences, `-DOCSTART-` lines between documents (any line
 * whose first field is -DOCSTART-). Tags may be IOB1 or IOB2; toIob2 turns
 * IOB1 into IOB2 (an I-X that starts an entity becomes B-X).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../../errors.js';

export interface ConllSentence {
  tokens: string[];
  /** The last column (NER) as written in the file. */
  tags: string[];
  /** Document index (counting -DOCSTART- lines). */
  document: number;
}

/** HF `conll2003`'s label order. */
export const CONLL2003_LABELS = [
  'O',
  'B-PER',
  'I-PER',
  'B-ORG',
  'I-ORG',
  'B-LOC',
  'I-LOC',
  'B-MISC',
  'I-MISC',
] as const;

const TAG = /^(O|[BI]-[A-Za-z]+)$/;

export function parseConll(text: string, source: string): ConllSentence[] {
  const out: ConllSentence[] = [];
  let tokens: string[] = [];
  let tags: string[] = [];
  let document = -1;
  const flush = (): void => {
    if (tokens.length) out.push({ tokens, tags, document: Math.max(document, 0) });
    tokens = [];
    tags = [];
  };
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return flush();
    const cols = line.split(/\s+/).filter((c) => c.length > 0);
    if (cols[0] === '-DOCSTART-') {
      flush();
      document += 1;
      return;
    }
    const tag = cols[cols.length - 1];
    if (cols.length < 2 || !TAG.test(tag)) {
      throw new UserError(
        `${source}:${i + 1}: expected "token ... TAG" with TAG O, B-X or I-X, got ${JSON.stringify(line.slice(0, 60))}`,
      );
    }
    tokens.push(cols[0]);
    tags.push(tag);
  });
  flush();
  return out;
}

export function readConll(path: string): ConllSentence[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseConll(text, path);
}

/** IOB1 → IOB2: an I-X that does not continue an entity of type X becomes B-X. IOB2 is unchanged. */
export function toIob2(tags: readonly string[]): string[] {
  return tags.map((t, i) => {
    if (!t.startsWith('I-')) return t;
    const prev = i > 0 ? tags[i - 1] : 'O';
    return prev === 'O' || prev.slice(2) !== t.slice(2) ? `B-${t.slice(2)}` : t;
  });
}

/** The train/dev/test files of a CoNLL-2003 directory (IOB1 eng.* or IOB2 *.txt names). */
export function conllFiles(
  dir: string,
  exists: (p: string) => boolean,
): { train: string; dev: string; test: string } {
  const iob1 = { train: `${dir}/eng.train`, dev: `${dir}/eng.testa`, test: `${dir}/eng.testb` };
  const iob2 = { train: `${dir}/train.txt`, dev: `${dir}/valid.txt`, test: `${dir}/test.txt` };
  if (exists(iob1.train)) return iob1;
  if (exists(iob2.train)) return iob2;
  throw new UserError(
    `${dir}: no CoNLL-2003 files (expected eng.train/eng.testa/eng.testb or train.txt/valid.txt/test.txt)`,
  );
}
