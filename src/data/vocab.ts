/**
 * What the pretraining pipeline needs to know about the WordPiece vocabulary:
 * the ids of the special tokens, which ids are special (never masked, never a
 * random replacement) and which tokens are `##` continuations (whole-word
 * masking). Built from the token strings, id = index (= line of vocab.txt).
 */
import { UserError } from '../errors.js';
import type { TokenId } from './types.js';

export interface MaskingVocab {
  readonly size: number;
  readonly padId: TokenId;
  readonly clsId: TokenId;
  readonly sepId: TokenId;
  readonly maskId: TokenId;
  /** 1 where the id is a bracketed special token ([PAD], [UNK], [CLS], [SEP], [MASK], [unusedN]). */
  readonly isSpecial: Uint8Array;
  /** 1 where the token is a `##` WordPiece continuation. */
  readonly isContinuation: Uint8Array;
  /** Ids a random replacement may take: every non-special token. */
  readonly randomCandidates: Int32Array;
  /** The token strings, for rendering. */
  readonly tokens: readonly string[];
}

const SPECIAL = /^\[[^\]\s]+\]$/;

/** `where` names the vocab file in error messages. */
export function buildMaskingVocab(tokens: readonly string[], where = 'vocab'): MaskingVocab {
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (!ids.has(t)) ids.set(t, i);
  });
  const need = (t: string): number => {
    const id = ids.get(t);
    if (id === undefined) throw new UserError(`${where}: the vocabulary has no ${t} token`);
    return id;
  };
  const isSpecial = new Uint8Array(tokens.length);
  const isContinuation = new Uint8Array(tokens.length);
  const candidates: number[] = [];
  tokens.forEach((t, i) => {
    if (SPECIAL.test(t)) isSpecial[i] = 1;
    else candidates.push(i);
    if (t.startsWith('##') && t.length > 2) isContinuation[i] = 1;
  });
  if (candidates.length === 0) throw new UserError(`${where}: the vocabulary has only special tokens`);
  return {
    size: tokens.length,
    padId: need('[PAD]'),
    clsId: need('[CLS]'),
    sepId: need('[SEP]'),
    maskId: need('[MASK]'),
    isSpecial,
    isContinuation,
    randomCandidates: Int32Array.from(candidates),
    tokens,
  };
}

/** vocab.txt contents → token strings (one per line; a trailing newline adds no token). */
export function parseVocabText(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
