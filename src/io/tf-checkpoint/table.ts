/**
 * The immutable sorted table (LevelDB's SSTable, as TensorFlow's lib/io/table
 * keeps it) that a checkpoint's `.index` file is:
 *
 *   data block*  metaindex block  index block  footer (48 bytes)
 *
 * A block is a run of entries `varint shared, varint unshared, varint
 * value_length, key suffix, value` (keys prefix-compressed against the
 * previous key, reset at restart points), then the restart offsets (uint32 LE)
 * and their count (uint32 LE). Each block is followed by a 5-byte trailer: the
 * compression type (0 = none) and the masked CRC-32C of block + type byte. The
 * index block maps a key ≥ every key of a data block to that block's handle
 * (varint offset, varint size). The footer holds the metaindex and index
 * handles, zero padding to 40 bytes, and the magic number 0xdb4775248b80fb57.
 */
import { crc32cUpdate, maskCrc, unmaskCrc } from '../crc32c.js';
import { encodeVarint, readVarintNumber } from './protobuf.js';

const FOOTER_SIZE = 48;
const MAGIC_LO = 0x8b80fb57;
const MAGIC_HI = 0xdb477524;
const TRAILER_SIZE = 5;

/** Thrown for any malformed table; the caller names the file. */
export class TableFormatError extends Error {}

interface BlockHandle {
  offset: number;
  size: number;
}

function readHandle(bytes: Uint8Array, pos: number): { handle: BlockHandle; next: number } {
  const offset = readVarintNumber(bytes, pos);
  const size = readVarintNumber(bytes, offset.next);
  return { handle: { offset: offset.value, size: size.value }, next: size.next };
}

function blockContents(file: Uint8Array, handle: BlockHandle, what: string): Uint8Array {
  const end = handle.offset + handle.size;
  if (end + TRAILER_SIZE > file.length) {
    throw new TableFormatError(`${what} block [${handle.offset}, ${end}) runs past the file`);
  }
  const type = file[end];
  const view = new DataView(file.buffer, file.byteOffset + end + 1, 4);
  const stored = unmaskCrc(view.getUint32(0, true));
  const actual = crc32cUpdate(
    crc32cUpdate(0, file.subarray(handle.offset, end)),
    file.subarray(end, end + 1),
  );
  if (stored !== actual) {
    throw new TableFormatError(`${what} block at byte ${handle.offset}: checksum mismatch`);
  }
  if (type !== 0) {
    throw new TableFormatError(
      `${what} block at byte ${handle.offset}: compression type ${type} (only uncompressed tables are read)`,
    );
  }
  return file.subarray(handle.offset, end);
}

/** Every (key, value) of one block, in order. */
function blockEntries(block: Uint8Array, what: string): Array<[Uint8Array, Uint8Array]> {
  if (block.length < 4)
    throw new TableFormatError(`${what} block is shorter than its restart count`);
  const view = new DataView(block.buffer, block.byteOffset, block.length);
  const restarts = view.getUint32(block.length - 4, true);
  const limit = block.length - 4 - 4 * restarts;
  if (limit < 0) throw new TableFormatError(`${what} block: ${restarts} restart points do not fit`);
  const out: Array<[Uint8Array, Uint8Array]> = [];
  let prev: Uint8Array = new Uint8Array(0);
  let pos = 0;
  try {
    while (pos < limit) {
      const shared = readVarintNumber(block, pos);
      const unshared = readVarintNumber(block, shared.next);
      const valueLength = readVarintNumber(block, unshared.next);
      pos = valueLength.next;
      if (shared.value > prev.length || pos + unshared.value + valueLength.value > limit) {
        throw new TableFormatError(`${what} block: entry at byte ${pos} is malformed`);
      }
      const key = new Uint8Array(shared.value + unshared.value);
      key.set(prev.subarray(0, shared.value));
      key.set(block.subarray(pos, pos + unshared.value), shared.value);
      pos += unshared.value;
      out.push([key, block.subarray(pos, pos + valueLength.value)]);
      pos += valueLength.value;
      prev = key;
    }
  } catch (err) {
    if (err instanceof TableFormatError) throw err;
    throw new TableFormatError(`${what} block: ${(err as Error).message}`);
  }
  return out;
}

/** All entries of a table file, in key order, with every block checksum verified. */
export function readTable(file: Uint8Array): Array<[string, Uint8Array]> {
  if (file.length < FOOTER_SIZE)
    throw new TableFormatError(`${file.length} bytes, shorter than a table footer`);
  const footer = file.subarray(file.length - FOOTER_SIZE);
  const fv = new DataView(footer.buffer, footer.byteOffset, FOOTER_SIZE);
  if (fv.getUint32(40, true) !== MAGIC_LO || fv.getUint32(44, true) !== MAGIC_HI) {
    throw new TableFormatError('no table magic number at the end (not a checkpoint index)');
  }
  let index: BlockHandle;
  try {
    const meta = readHandle(footer, 0);
    index = readHandle(footer, meta.next).handle;
  } catch (err) {
    throw new TableFormatError(`footer: ${(err as Error).message}`);
  }
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const out: Array<[string, Uint8Array]> = [];
  for (const [, handleBytes] of blockEntries(blockContents(file, index, 'index'), 'index')) {
    let handle: BlockHandle;
    try {
      handle = readHandle(handleBytes, 0).handle;
    } catch (err) {
      throw new TableFormatError(`index block: ${(err as Error).message}`);
    }
    for (const [key, value] of blockEntries(blockContents(file, handle, 'data'), 'data')) {
      out.push([decoder.decode(key), value]);
    }
  }
  return out;
}

/** Builds one block: entries prefix-compressed, a restart point every `interval` entries. */
class BlockBuilder {
  private bytes: number[] = [];
  private restarts: number[] = [0];
  private count = 0;
  private last: Uint8Array = new Uint8Array(0);

  constructor(private readonly interval: number) {}

  get empty(): boolean {
    return this.bytes.length === 0;
  }

  get sizeEstimate(): number {
    return this.bytes.length + 4 * this.restarts.length + 4;
  }

  add(key: Uint8Array, value: Uint8Array): void {
    let shared = 0;
    if (this.count < this.interval) {
      const max = Math.min(key.length, this.last.length);
      while (shared < max && key[shared] === this.last[shared]) shared++;
    } else {
      this.restarts.push(this.bytes.length);
      this.count = 0;
    }
    this.bytes.push(
      ...encodeVarint(shared),
      ...encodeVarint(key.length - shared),
      ...encodeVarint(value.length),
      ...key.subarray(shared),
    );
    for (const b of value) this.bytes.push(b);
    this.last = key;
    this.count++;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.bytes.length + 4 * this.restarts.length + 4);
    out.set(this.bytes);
    const view = new DataView(out.buffer);
    let pos = this.bytes.length;
    for (const r of this.restarts) {
      view.setUint32(pos, r, true);
      pos += 4;
    }
    view.setUint32(pos, this.restarts.length, true);
    return out;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * A table file holding `entries` (sorted here by key bytes; keys must be
 * distinct), uncompressed, with data blocks of about `blockSize` bytes and a
 * restart point every 16 entries, as TensorFlow's writer does by default.
 */
export function writeTable(
  entries: ReadonlyArray<readonly [string, Uint8Array]>,
  blockSize = 4096,
): Uint8Array {
  const enc = new TextEncoder();
  const sorted = entries
    .map(([k, v]) => [enc.encode(k), v] as const)
    .sort((a, b) => compareBytes(a[0], b[0]));
  for (let i = 1; i < sorted.length; i++) {
    if (compareBytes(sorted[i - 1][0], sorted[i][0]) === 0) {
      throw new Error(`table: duplicate key ${new TextDecoder().decode(sorted[i][0])}`);
    }
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const writeBlock = (block: Uint8Array): number[] => {
    const trailer = new Uint8Array(TRAILER_SIZE);
    const crc = crc32cUpdate(crc32cUpdate(0, block), trailer.subarray(0, 1));
    new DataView(trailer.buffer).setUint32(1, maskCrc(crc), true);
    const handle = [...encodeVarint(offset), ...encodeVarint(block.length)];
    chunks.push(block, trailer);
    offset += block.length + TRAILER_SIZE;
    return handle;
  };
  const index = new BlockBuilder(1);
  let data = new BlockBuilder(16);
  let lastKey: Uint8Array | null = null;
  const flush = (): void => {
    if (data.empty || !lastKey) return;
    index.add(lastKey, Uint8Array.from(writeBlock(data.finish())));
    data = new BlockBuilder(16);
  };
  for (const [key, value] of sorted) {
    data.add(key, value);
    lastKey = key;
    if (data.sizeEstimate >= blockSize) flush();
  }
  flush();
  const metaHandle = writeBlock(new BlockBuilder(16).finish());
  const indexHandle = writeBlock(index.finish());
  const footer = new Uint8Array(FOOTER_SIZE);
  footer.set([...metaHandle, ...indexHandle]);
  const fv = new DataView(footer.buffer);
  fv.setUint32(40, MAGIC_LO, true);
  fv.setUint32(44, MAGIC_HI, true);
  chunks.push(footer);
  const out = new Uint8Array(offset + FOOTER_SIZE);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}
