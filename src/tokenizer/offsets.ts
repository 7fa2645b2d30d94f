/**
 * Word-piece ids with character offsets into the original text, for span
 * tasks (SQuAD answers, NER words): each piece gets the [start, end) range
 * (UTF-16 indices) of the original characters it came from.
 *
 * The text is split into the BasicTokenizer's words first (whitespace,
 * punctuation and CJK characters), each word is tokenized on its own (BERT
 * never lets a piece cross such a boundary, so the ids equal tokenizing the
 * whole text), and the pieces are aligned to the word's normalised form
 * (lower-cased, accents stripped) whose every character remembers its source.
 */
import type { TokenId } from '../data/types.js';
import type { BertTokenizer } from './bert-tokenizer.js';
import { CJK, MARK, PUNCT, REMOVE, SPACE, charClass, lowerCodePoint } from './chars.js';

export interface PieceOffsets {
  ids: TokenId[];
  /** Start (inclusive) of each piece in the original text. */
  starts: number[];
  /** End (exclusive) of each piece in the original text. */
  ends: number[];
}

interface Word {
  start: number;
  end: number;
}

/** The BasicTokenizer's words of `text` as [start, end) ranges of the original string. */
export function basicWordSpans(text: string, handleChineseChars = true): Word[] {
  const words: Word[] = [];
  let start = -1;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    const cls = charClass(cp);
    if (cls & (SPACE | REMOVE) || cp === 0 || cp === 0xfffd) {
      if (start >= 0) words.push({ start, end: i });
      start = -1;
    } else if (cls & PUNCT || (cls & CJK && handleChineseChars)) {
      if (start >= 0) words.push({ start, end: i });
      words.push({ start: i, end: i + w });
      start = -1;
    } else if (start < 0) start = i;
    i += w;
  }
  if (start >= 0) words.push({ start, end: text.length });
  return words;
}

/** Normalised characters of one word, each with the original index it came from. */
function normalizeWord(
  text: string,
  word: Word,
  lowercase: boolean,
  stripAccents: boolean,
): { norm: string; source: number[] } {
  let norm = '';
  const source: number[] = [];
  for (let i = word.start; i < word.end;) {
    const cp = text.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    let s = charClass(cp) & REMOVE ? '' : String.fromCodePoint(cp);
    if (stripAccents) {
      let kept = '';
      for (const ch of s.normalize('NFD')) if (!(charClass(ch.codePointAt(0)!) & MARK)) kept += ch;
      s = kept;
    }
    if (lowercase) {
      let lower = '';
      for (const ch of s) lower += lowerCodePoint(ch.codePointAt(0)!);
      s = lower;
    }
    norm += s;
    for (let k = 0; k < s.length; k++) source.push(i);
    i += w;
  }
  return { norm, source };
}

/** Ids and original-text offsets of every word piece of `text` (no [CLS]/[SEP]). */
export function tokenizeWithOffsets(tokenizer: BertTokenizer, text: string): PieceOffsets {
  const out: PieceOffsets = { ids: [], starts: [], ends: [] };
  const { lowercase, stripAccents, handleChineseChars } = tokenizer.basic;
  for (const word of basicWordSpans(text, handleChineseChars)) {
    const ids = tokenizer.tokenizeToIds(text.slice(word.start, word.end));
    const pieces = tokenizer.idsToTokens(ids);
    const { norm, source } = normalizeWord(text, word, lowercase, stripAccents);
    let cursor = 0;
    let aligned = true;
    ids.forEach((id, k) => {
      out.ids.push(id);
      const piece = pieces[k].startsWith('##') ? pieces[k].slice(2) : pieces[k];
      if (aligned && id !== tokenizer.unkId && norm.startsWith(piece, cursor) && piece.length > 0) {
        const endNorm = cursor + piece.length;
        out.starts.push(source[cursor]);
        // The end is just past the original character of the piece's last normalised character.
        const last = source[endNorm - 1];
        out.ends.push(last + (text.codePointAt(last)! > 0xffff ? 2 : 1));
        cursor = endNorm;
      } else {
        // [UNK] (a whole word) or an alignment we cannot follow: the piece covers the rest of the word.
        aligned = false;
        out.starts.push(cursor < source.length ? source[cursor] : word.start);
        out.ends.push(word.end);
      }
    });
  }
  return out;
}
