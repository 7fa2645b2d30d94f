/**
 * TensorFlow's checkpoint V2 ("tensor bundle") without TensorFlow: a prefix P
 * names `P.index`, a sorted table (table.ts) from tensor name to a
 * BundleEntryProto, and the data shards `P.data-00000-of-0000N` holding the
 * raw little-endian tensor bytes back to back.
 *
 *   ""   → BundleHeaderProto  { 1: num_shards, 2: endianness (0 = little), 3: version }
 *   name → BundleEntryProto   { 1: dtype, 2: shape, 3: shard_id, 4: offset, 5: size,
 *                               6: crc32c (masked, fixed32), 7: slices }
 *   TensorShapeProto { 2: dim { 1: size } }
 *
 * Reading checks every table block checksum, every entry's size against its
 * dtype and shape, the shard files' lengths, and each tensor's CRC-32C.
 */
import { open, stat } from 'node:fs/promises';
import { UserError } from '../../errors.js';
import { writeFileAtomic } from '../atomic.js';
import { crc32c, maskCrc, unmaskCrc } from '../crc32c.js';
import { decodeMessage, MessageWriter } from './protobuf.js';
import { readTable, TableFormatError, writeTable } from './table.js';

/** TensorFlow DataType enum values of the types a BERT checkpoint holds. */
export const TF_DTYPES = { float32: 1, int32: 3, int64: 9 } as const;
const DTYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'float64',
  3: 'int32',
  4: 'uint8',
  7: 'string',
  9: 'int64',
  10: 'bool',
  14: 'bfloat16',
  19: 'float16',
};
const DTYPE_BYTES: Record<number, number> = { 1: 4, 2: 8, 3: 4, 4: 1, 9: 8, 10: 1, 14: 2, 19: 2 };

export interface BundleEntry {
  name: string;
  /** TensorFlow DataType enum value. */
  dtype: number;
  /** 'float32', 'int64', … or `DT_<n>` for others. */
  dtypeName: string;
  shape: number[];
  shardId: number;
  offset: number;
  size: number;
  /** Unmasked CRC-32C of the tensor bytes. */
  crc32c: number;
}

export interface BundleIndex {
  prefix: string;
  numShards: number;
  /** Every tensor, in the index's (sorted) order. */
  entries: BundleEntry[];
}

/** One tensor as written by `writeBundle`. */
export interface BundleTensor {
  name: string;
  dtype: keyof typeof TF_DTYPES;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

export function shardPath(prefix: string, shard: number, numShards: number): string {
  const pad = (n: number): string => String(n).padStart(5, '0');
  return `${prefix}.data-${pad(shard)}-of-${pad(numShards)}`;
}

function int(value: bigint, what: string): number {
  // int32/int64 fields: negative values arrive as 64-bit two's complement.
  const v = value >= 1n << 63n ? value - (1n << 64n) : value;
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what} is ${v}`);
  return Number(v);
}

function decodeShape(bytes: Uint8Array): number[] {
  const dims: number[] = [];
  for (const f of decodeMessage(bytes)) {
    if (f.field === 3 && f.wire === 0 && f.value !== 0n) throw new Error('shape of unknown rank');
    if (f.field !== 2 || f.wire !== 2) continue;
    let size = 0;
    for (const d of decodeMessage(f.value))
      if (d.field === 1 && d.wire === 0) size = int(d.value, 'dimension');
    dims.push(size);
  }
  return dims;
}

function decodeEntry(name: string, bytes: Uint8Array): BundleEntry {
  const e: BundleEntry = {
    name,
    dtype: 0,
    dtypeName: '',
    shape: [],
    shardId: 0,
    offset: 0,
    size: 0,
    crc32c: 0,
  };
  for (const f of decodeMessage(bytes)) {
    if (f.field === 1 && f.wire === 0) e.dtype = int(f.value, 'dtype');
    else if (f.field === 2 && f.wire === 2) e.shape = decodeShape(f.value);
    else if (f.field === 3 && f.wire === 0) e.shardId = int(f.value, 'shard_id');
    else if (f.field === 4 && f.wire === 0) e.offset = int(f.value, 'offset');
    else if (f.field === 5 && f.wire === 0) e.size = int(f.value, 'size');
    else if (f.field === 6 && f.wire === 5) e.crc32c = unmaskCrc(f.value);
    else if (f.field === 7)
      throw new Error('a partitioned (sliced) variable, which is not supported');
  }
  e.dtypeName = DTYPE_NAMES[e.dtype] ?? `DT_${e.dtype}`;
  const width = DTYPE_BYTES[e.dtype];
  if (width !== undefined) {
    const expected = e.shape.reduce((a, b) => a * b, 1) * width;
    if (expected !== e.size) {
      throw new Error(`${e.size} bytes for ${e.dtypeName} [${e.shape}], expected ${expected}`);
    }
  }
  return e;
}

/** Read and check `<prefix>.index` (and that every shard file is long enough). */
export async function readBundleIndex(prefix: string): Promise<BundleIndex> {
  const indexPath = `${prefix}.index`;
  let file: Buffer;
  try {
    const fh = await open(indexPath, 'r');
    try {
      file = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch {
    throw new UserError(`${indexPath}: cannot read the checkpoint index`);
  }
  let rows: Array<[string, Uint8Array]>;
  try {
    rows = readTable(file);
  } catch (err) {
    if (err instanceof TableFormatError) {
      throw new UserError(`${indexPath}: corrupted checkpoint index (${err.message})`);
    }
    throw err;
  }
  if (rows.length === 0 || rows[0][0] !== '') {
    throw new UserError(`${indexPath}: no bundle header entry (not a TensorFlow V2 checkpoint)`);
  }
  let numShards = 1;
  try {
    for (const f of decodeMessage(rows[0][1])) {
      if (f.field === 1 && f.wire === 0) numShards = int(f.value, 'num_shards');
      if (f.field === 2 && f.wire === 0 && f.value !== 0n) {
        throw new Error('big-endian tensors, expected little-endian');
      }
    }
  } catch (err) {
    throw new UserError(`${indexPath}: bundle header: ${(err as Error).message}`);
  }
  const entries: BundleEntry[] = [];
  for (const [name, value] of rows.slice(1)) {
    try {
      const e = decodeEntry(name, value);
      if (e.shardId >= numShards) throw new Error(`shard ${e.shardId} of ${numShards}`);
      entries.push(e);
    } catch (err) {
      throw new UserError(`${indexPath}: entry ${name}: ${(err as Error).message}`);
    }
  }
  for (let shard = 0; shard < numShards; shard++) {
    const path = shardPath(prefix, shard, numShards);
    let length: number;
    try {
      length = (await stat(path)).size;
    } catch {
      throw new UserError(`${path}: missing (the index names ${numShards} data shard(s))`);
    }
    const need = Math.max(
      0,
      ...entries.filter((e) => e.shardId === shard).map((e) => e.offset + e.size),
    );
    if (length < need) {
      throw new UserError(`${path}: truncated (${length} bytes, the index needs ${need})`);
    }
  }
  return { prefix, numShards, entries };
}

/**
 * The bytes of the given tensors, each checked against its CRC-32C, as
 * float32 / int32 arrays (int64 narrowed to int32 when the values fit).
 */
export async function readBundleTensors(
  index: BundleIndex,
  entries: readonly BundleEntry[],
): Promise<
  Map<string, { dtype: 'float32' | 'int32'; shape: number[]; data: Float32Array | Int32Array }>
> {
  const out = new Map<
    string,
    { dtype: 'float32' | 'int32'; shape: number[]; data: Float32Array | Int32Array }
  >();
  const byShard = new Map<number, BundleEntry[]>();
  for (const e of entries) byShard.set(e.shardId, [...(byShard.get(e.shardId) ?? []), e]);
  for (const [shard, list] of byShard) {
    const path = shardPath(index.prefix, shard, index.numShards);
    const fh = await open(path, 'r');
    try {
      for (const e of list) {
        if (
          e.dtype !== TF_DTYPES.float32 &&
          e.dtype !== TF_DTYPES.int32 &&
          e.dtype !== TF_DTYPES.int64
        ) {
          throw new UserError(
            `${index.prefix}.index: ${e.name} is ${e.dtypeName}, expected float32`,
          );
        }
        const bytes = new Uint8Array(e.size);
        const { bytesRead } = await fh.read(bytes, 0, e.size, e.offset);
        if (bytesRead !== e.size) {
          throw new UserError(`${path}: truncated inside ${e.name} (byte ${e.offset + bytesRead})`);
        }
        if (crc32c(bytes) !== e.crc32c) {
          throw new UserError(`${path}: ${e.name} fails its CRC-32C check (corrupted data)`);
        }
        if (e.dtype === TF_DTYPES.float32) {
          out.set(e.name, {
            dtype: 'float32',
            shape: e.shape,
            data: new Float32Array(bytes.buffer),
          });
        } else if (e.dtype === TF_DTYPES.int32) {
          out.set(e.name, { dtype: 'int32', shape: e.shape, data: new Int32Array(bytes.buffer) });
        } else {
          const wide = new BigInt64Array(bytes.buffer);
          const narrow = new Int32Array(wide.length);
          for (let i = 0; i < wide.length; i++) {
            if (wide[i] > 0x7fffffffn || wide[i] < -0x80000000n) {
              throw new UserError(`${path}: ${e.name} holds int64 values beyond int32`);
            }
            narrow[i] = Number(wide[i]);
          }
          out.set(e.name, { dtype: 'int32', shape: e.shape, data: narrow });
        }
      }
    } finally {
      await fh.close();
    }
  }
  return out;
}

function encodeShape(shape: readonly number[]): Uint8Array {
  const w = new MessageWriter();
  for (const d of shape) w.bytesField(2, new MessageWriter().varint(1, d).finish());
  return w.finish();
}

/**
 * Write `<prefix>.data-00000-of-00001` then `<prefix>.index` (each atomically),
 * tensors in name order, with the header TensorFlow writes (one shard,
 * little-endian, version producer 1).
 */
export async function writeBundle(prefix: string, tensors: readonly BundleTensor[]): Promise<void> {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts: Uint8Array[] = [];
  const rows: Array<[string, Uint8Array]> = [];
  let offset = 0;
  for (const t of sorted) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(`checkpoint: ${t.name} has shape [${t.shape}] but ${t.data.length} values`);
    }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const entry = new MessageWriter()
      .varint(1, TF_DTYPES[t.dtype])
      .bytesField(2, encodeShape(t.shape));
    // proto3 leaves zero-valued fields out, as TensorFlow's serializer does.
    if (offset > 0) entry.varint(4, offset);
    if (bytes.length > 0) entry.varint(5, bytes.length);
    entry.fixed32(6, maskCrc(crc32c(bytes)));
    rows.push([t.name, entry.finish()]);
    parts.push(bytes);
    offset += bytes.length;
  }
  const version = new MessageWriter().varint(1, 1).finish();
  rows.push(['', new MessageWriter().varint(1, 1).bytesField(3, version).finish()]);
  const data = new Uint8Array(offset);
  let pos = 0;
  for (const p of parts) {
    data.set(p, pos);
    pos += p.length;
  }
  await writeFileAtomic(shardPath(prefix, 0, 1), data);
  await writeFileAtomic(`${prefix}.index`, writeTable(rows));
}
