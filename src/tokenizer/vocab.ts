/**
 * WordPiece vocabularies: `vocab.txt`, one token per line, id = line number
 * (0-based), as google-research/bert and HuggingFace read and write it.
 */
import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { decodeUtf8Strict } from './text-file.js';

/** The special tokens BERT needs; a vocabulary without any of them is unusable. */
export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export class Vocab {
  /** Token of each id. */
  readonly tokens: readonly string[];
  private readonly index: Map<string, number>;

  constructor(tokens: readonly string[]) {
    this.tokens = tokens;
    this.index = new Map();
    // Later duplicates win, as in HF's WordPiece::read_file and BERT's load_vocab.
    tokens.forEach((t, i) => this.index.set(t, i));
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Id of `token`, or undefined. */
  id(token: string): number | undefined {
    return this.index.get(token);
  }

  has(token: string): boolean {
    return this.index.has(token);
  }

  /** The token -> id map (shared; do not mutate). */
  get map(): ReadonlyMap<string, number> {
    return this.index;
  }

  /** vocab.txt contents: one token per line, trailing newline. */
  toText(): string {
    return this.tokens.join('\n') + '\n';
  }
}

/** Parse vocab.txt text; `source` names the file in errors. */
export function parseVocab(text: string, source: string): Vocab {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  // HF trims trailing whitespace (e.g. \r of CRLF files) from every line.
  const tokens = lines.map((l) => l.trimEnd());
  const vocab = new Vocab(tokens);
  const missing = SPECIAL_TOKENS.filter((t) => !vocab.has(t));
  if (missing.length > 0) {
    throw new UserError(
      `${source}: vocabulary lacks the special token(s) ${missing.join(' ')} (expected one token per line, including ${SPECIAL_TOKENS.join(' ')})`,
    );
  }
  return vocab;
}

/** Load and check vocab.txt. */
export function loadVocab(path: string): Vocab {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${path}: vocabulary file not found`);
  }
  if (st.isDirectory()) throw new UserError(`${path}: is a directory, expected a vocab.txt file`);
  return parseVocab(decodeUtf8Strict(readFileSync(path), path), path);
}

/** Write vocab.txt atomically. */
export async function saveVocab(path: string, vocab: Vocab): Promise<void> {
  await writeFileAtomic(path, vocab.toText());
}
