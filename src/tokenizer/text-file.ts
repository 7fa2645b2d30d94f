/**
 * Reading user text files with errors a user can act on: a missing file, a
 * directory, or bytes that are not UTF-8 (named by byte offset and line).
 */
import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';

const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** Byte offset of the first invalid UTF-8 sequence in `bytes`, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    if (i + need >= n) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** Decode UTF-8, throwing a UserError naming `source`, the byte offset and line of the first bad byte. */
export function decodeUtf8Strict(bytes: Uint8Array, source: string): string {
  try {
    let text = strictDecoder.decode(bytes);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text;
  } catch {
    const at = Math.max(0, firstInvalidUtf8(bytes));
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    throw new UserError(
      `${source}:${line}: invalid UTF-8 at byte ${at} (expected a UTF-8 text file)`,
    );
  }
}

/** Check that `path` is an existing regular file; UserError otherwise. Returns its size. */
export function checkTextFile(path: string, what = 'input file'): number {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${path}: ${what} not found`);
  }
  if (st.isDirectory())
    throw new UserError(`${path}: is a directory, expected a text file (${what})`);
  return st.size;
}

/** Read a whole UTF-8 text file with user-facing errors. */
export function readTextFile(path: string, what = 'input file'): string {
  checkTextFile(path, what);
  return decodeUtf8Strict(readFileSync(path), path);
}
