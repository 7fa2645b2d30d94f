/**
 * Megatron-Core's indexed-dataset index (`.idx`, the `MMIDIDX` layout of
 * megatron/core/datasets/indexed_dataset.py), so that `bert tokenize
 * --index-format megatron` shards train Megatron-Core's BERT directly.
 * All little-endian:
 *
 *   9 bytes  "MMIDIDX\0\0"
 *   u64      version (1)
 *   u8       dtype code of the .bin tokens (8 = uint16, 4 = int32)
 *   u64      S, the number of sequences (here: sentences)
 *   u64      D, the number of document indices (documents + 1)
 *   i32[S]   sequence lengths in tokens
 *   i64[S]   sequence pointers: byte offset of each sequence in .bin
 *   i64[D]   document indices: 0, then the sequence count after each document
 *
 * The `.bin` is the token ids back to back, as in our own format; Megatron
 * picks uint16 below 65,500 vocabulary entries and int32 above (the same
 * bytes as our uint32 for any real vocabulary).
 */
import { UserError } from '../errors.js';

export const MEGATRON_MAGIC = Uint8Array.from([0x4d, 0x4d, 0x49, 0x44, 0x49, 0x44, 0x58, 0, 0]);
export const MEGATRON_VERSION = 1;
/** Megatron's DType codes of the two token widths. */
export const MEGATRON_DTYPE = { uint16: 8, int32: 4 } as const;
const HEADER_BYTES = 9 + 8 + 1 + 8 + 8;

/** Bytes per token Megatron's preprocess_data.py uses for a vocabulary of this size. */
export function megatronBytesPerToken(vocabSize: number): 2 | 4 {
  return vocabSize < 65500 ? 2 : 4;
}

export function isMegatronIndex(bytes: Uint8Array): boolean {
  return bytes.length >= MEGATRON_MAGIC.length && MEGATRON_MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * The .idx bytes for sentences starting at token offsets `sentenceStarts`
 * (plus the end) grouped into documents starting at sentence offsets
 * `documentStarts` (plus the end) — the boundaries our ShardBuilder keeps.
 */
export function encodeMegatronIndex(
  bytesPerToken: 2 | 4,
  sentenceStarts: readonly number[],
  documentStarts: readonly number[],
): Uint8Array {
  const S = sentenceStarts.length - 1;
  const D = documentStarts.length;
  const out = new Uint8Array(HEADER_BYTES + 4 * S + 8 * S + 8 * D);
  const view = new DataView(out.buffer);
  out.set(MEGATRON_MAGIC, 0);
  view.setBigUint64(9, BigInt(MEGATRON_VERSION), true);
  view.setUint8(17, bytesPerToken === 2 ? MEGATRON_DTYPE.uint16 : MEGATRON_DTYPE.int32);
  view.setBigUint64(18, BigInt(S), true);
  view.setBigUint64(26, BigInt(D), true);
  let off = HEADER_BYTES;
  for (let s = 0; s < S; s++, off += 4) view.setInt32(off, sentenceStarts[s + 1] - sentenceStarts[s], true);
  for (let s = 0; s < S; s++, off += 8) view.setBigInt64(off, BigInt(sentenceStarts[s] * bytesPerToken), true);
  for (let d = 0; d < D; d++, off += 8) view.setBigInt64(off, BigInt(documentStarts[d]), true);
  return out;
}

/** Parse a Megatron .idx into our boundaries (token offsets of sentences, sentence offsets of documents). */
export function decodeMegatronIndex(
  bytes: Uint8Array,
  source: string,
): { bytesPerToken: 2 | 4; sentenceStarts: Float64Array; documentStarts: Float64Array } {
  const bad = (what: string): UserError => new UserError(`${source}: not a Megatron indexed dataset (${what})`);
  if (bytes.length < HEADER_BYTES || !isMegatronIndex(bytes)) throw bad('expected the MMIDIDX header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = Number(view.getBigUint64(9, true));
  if (version !== MEGATRON_VERSION) throw bad(`version ${version}, expected ${MEGATRON_VERSION}`);
  const code = view.getUint8(17);
  const bpt = code === MEGATRON_DTYPE.uint16 ? 2 : code === MEGATRON_DTYPE.int32 ? 4 : null;
  if (bpt === null) throw bad(`token dtype code ${code}, expected 8 (uint16) or 4 (int32)`);
  const S = Number(view.getBigUint64(18, true));
  const D = Number(view.getBigUint64(26, true));
  const expected = HEADER_BYTES + 12 * S + 8 * D;
  if (bytes.length !== expected || D < 1) throw bad(`${bytes.length} bytes, expected ${expected}`);
  const sentenceStarts = new Float64Array(S + 1);
  let off = HEADER_BYTES;
  const pointers = HEADER_BYTES + 4 * S;
  for (let s = 0; s < S; s++, off += 4) {
    const start = Number(view.getBigInt64(pointers + 8 * s, true)) / bpt;
    if (start !== sentenceStarts[s]) throw bad(`sequence ${s} does not start where sequence ${s - 1} ends`);
    sentenceStarts[s + 1] = start + view.getInt32(off, true);
  }
  const documentStarts = new Float64Array(D);
  off = pointers + 8 * S;
  for (let d = 0; d < D; d++, off += 8) documentStarts[d] = Number(view.getBigInt64(off, true));
  if (documentStarts[0] !== 0 || documentStarts[D - 1] !== S) {
    throw bad(`document indices run from ${documentStarts[0]} to ${documentStarts[D - 1]}, expected 0 to ${S}`);
  }
  return { bytesPerToken: bpt, sentenceStarts, documentStarts };
}
