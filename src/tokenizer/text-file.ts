/**
 * Reading user text files with errors a user can act on: a missing file, a
 * directory, or bytes that are not UTF-8 (named by byte offset and line).
 */
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
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

/**
 * Read a large UTF-8 text file in pieces that end at a blank line ("\n\n"),
 * so a document never straddles two pieces and no piece needs the whole file
 * in one string. Invalid UTF-8 is a UserError naming the file, line and byte.
 * A piece can exceed `chunkBytes` when no blank line comes sooner.
 */
export async function* readDocumentPieces(
  path: string,
  chunkBytes = 1 << 25,
): AsyncGenerator<string> {
  const fh = await open(path, 'r');
  try {
    let carry: Buffer = Buffer.alloc(0);
    let offset = 0; // file offset of carry[0]
    let line = 1; // line number at carry[0]
    let eof = false;
    while (!eof) {
      const chunk = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await fh.read(chunk, 0, chunkBytes, null);
      eof = bytesRead === 0;
      const data = eof ? carry : Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
      // Cut after the last "\n\n" (an ASCII boundary, so no UTF-8 sequence is split).
      const cut = eof
        ? data.length
        : Math.max(data.lastIndexOf('\n\n'), data.lastIndexOf('\n\r\n')) + 1;
      if (cut <= 0) {
        carry = data;
        continue;
      }
      const piece = data.subarray(0, cut);
      let text: string;
      try {
        text = pieceDecoder.decode(piece);
      } catch {
        const at = Math.max(0, firstInvalidUtf8(piece));
        throw new UserError(
          `${path}:${line + countNewlines(piece, at)}: invalid UTF-8 at byte ${offset + at} (expected a UTF-8 text file)`,
        );
      }
      line += countNewlines(piece, piece.length);
      offset += cut;
      carry = data.subarray(cut);
      if (text.length > 0) yield text;
    }
  } finally {
    await fh.close();
  }
}

// ignoreBOM: a U+FEFF at the start of a later piece is text, not a BOM (clean_text drops it anyway).
const pieceDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function countNewlines(bytes: Uint8Array, end: number): number {
  let n = 0;
  let i = -1;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, end);
  while ((i = b.indexOf(0x0a, i + 1)) !== -1) n++;
  return n;
}
