/**
 * Character classes of BERT's BasicTokenizer, exactly as HuggingFace's Rust
 * `BertNormalizer` / `BertPreTokenizer` apply them. Classes are computed once
 * per code point (lazily, from Unicode property regexes) and kept in a table,
 * because the tokenizer asks for them for every character it reads.
 */
import { HF_CLASS_OVERRIDES } from './hf-unicode.js';

/** Removed by clean_text: NUL, U+FFFD and "other" (C*) characters except \t \n \r. */
export const REMOVE = 1;
/** Whitespace: becomes a word boundary. */
export const SPACE = 2;
/** Punctuation (ASCII punctuation or Unicode P*): always a word of its own. */
export const PUNCT = 4;
/** CJK ideograph: always a word of its own. */
export const CJK = 8;
/** Non-spacing mark (Mn): dropped by accent stripping after NFD. */
export const MARK = 16;
/** Table flag: this entry has been computed. */
const KNOWN = 128;

// Cn (unassigned) is deliberately not removed: HF's tables do not know it.
const OTHER_RE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/u;
const PUNCT_RE = /\p{P}/u;
const MARK_RE = /\p{Mn}/u;

/**
 * Rust's char::is_whitespace (Unicode White_Space) minus the characters that
 * clean_text removes first as controls (U+000B, U+000C, U+0085, U+001C..1F are
 * not White_Space in Rust anyway).
 */
function isWhitespace(cp: number): boolean {
  return (
    cp === 0x20 ||
    cp === 0x09 ||
    cp === 0x0a ||
    cp === 0x0d ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/** CJK Unified Ideographs blocks of google-research/bert `_is_chinese_char` (HF differs in one; see hf-unicode.ts). */
export function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function isAsciiPunct(cp: number): boolean {
  return (
    (cp >= 33 && cp <= 47) ||
    (cp >= 58 && cp <= 64) ||
    (cp >= 91 && cp <= 96) ||
    (cp >= 123 && cp <= 126)
  );
}

function hfOverride(cp: number): number {
  let lo = 0;
  let hi = HF_CLASS_OVERRIDES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [first, last, cls] = HF_CLASS_OVERRIDES[mid]!;
    if (cp < first) hi = mid - 1;
    else if (cp > last) lo = mid + 1;
    else return cls;
  }
  return -1;
}

function computeClass(cp: number): number {
  const override = hfOverride(cp);
  if (override >= 0) return override;
  if (isWhitespace(cp)) return SPACE;
  if (cp === 0 || cp === 0xfffd) return REMOVE;
  const ch = String.fromCodePoint(cp);
  if (OTHER_RE.test(ch)) return REMOVE;
  let cls = 0;
  if (isAsciiPunct(cp) || PUNCT_RE.test(ch)) cls |= PUNCT;
  if (isCjk(cp)) cls |= CJK;
  if (MARK_RE.test(ch)) cls |= MARK;
  return cls;
}

const table = new Uint8Array(0x110000);

/** The class bits (REMOVE | SPACE | PUNCT | CJK | MARK) of code point `cp`. */
export function charClass(cp: number): number {
  const c = table[cp]!;
  if (c !== 0) return c & ~KNOWN;
  const cls = computeClass(cp);
  table[cp] = cls | KNOWN;
  return cls;
}

/**
 * Per-ASCII-code class for the hot loop: 0 = part of a word, else the class
 * bits. Precomputed so the ASCII fast path is a single array read.
 */
export const ASCII_CLASS: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) t[c] = computeClass(c);
  return t;
})();

const lowerCache = new Map<number, string>();

/** Lower-case one code point the way Rust's char::to_lowercase does (no context rules such as final sigma). */
export function lowerCodePoint(cp: number): string {
  let s = lowerCache.get(cp);
  if (s === undefined) {
    s = String.fromCodePoint(cp).toLowerCase();
    lowerCache.set(cp, s);
  }
  return s;
}

/**
 * Whether a non-ASCII UTF-16 code unit is a word-separating space (the
 * non-ASCII part of SPACE; surrogates never are). Cheap pre-check first:
 * all such characters lie in U+00A0..U+3000.
 */
export function isSpaceCode(c: number): boolean {
  return c === 0xa0 || (c >= 0x1680 && c <= 0x3000 && (charClass(c) & SPACE) !== 0);
}
