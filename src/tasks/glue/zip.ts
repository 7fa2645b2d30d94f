/**
 * A small reader for ZIP archives (PKWARE APPNOTE): enough for the GLUE task
 * archives, so `bert data fetch glue` needs no unzip dependency. Reads the
 * central directory, supports stored (0) and deflated (8) members, checks
 * each member's CRC-32 and size, and refuses encrypted members, ZIP64 and
 * member names that would escape the extraction directory.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  /** Member path with `/` separators; directories end with `/`. */
  readonly name: string;
  readonly isDirectory: boolean;
  readonly uncompressedSize: number;
  /** Decompress and verify the member. */
  data(): Buffer;
}

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

/** Reject absolute paths, drive letters and `..` segments (zip-slip). */
function safeName(raw: string): string {
  const name = raw.replace(/\\/g, '/');
  const segments = name.split('/');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || segments.includes('..')) {
    throw new ZipFormatError(`unsafe member path ${JSON.stringify(raw)}`);
  }
  return name;
}

function findEndOfCentralDirectory(buf: Buffer): number {
  const stop = Math.max(0, buf.length - EOCD_MIN - MAX_COMMENT);
  for (let i = buf.length - EOCD_MIN; i >= stop; i--) {
    if (buf.readUInt32LE(i) === EOCD_SIG) return i;
  }
  throw new ZipFormatError('not a zip archive (no end-of-central-directory record)');
}

/** What the central directory says about one member. */
export interface ZipMemberInfo {
  readonly name: string;
  readonly isDirectory: boolean;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localOffset: number;
}

/** Locate the central directory from the archive's tail (the last EOCD_MIN + MAX_COMMENT bytes). */
function centralDirectoryBounds(
  tail: Buffer,
  tailStart: number,
  total: number,
): { offset: number; size: number; count: number } {
  if (total < EOCD_MIN) throw new ZipFormatError('not a zip archive (too short)');
  const eocd = findEndOfCentralDirectory(tail);
  const count = tail.readUInt16LE(eocd + 10);
  const size = tail.readUInt32LE(eocd + 12);
  const offset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || offset === 0xffffffff)
    throw new ZipFormatError('ZIP64 archives are not supported');
  if (offset + size > tailStart + eocd)
    throw new ZipFormatError('central directory lies outside the archive');
  return { offset, size, count };
}

function parseCentralDirectory(cd: Buffer, count: number): ZipMemberInfo[] {
  const members: ZipMemberInfo[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIG) {
      throw new ZipFormatError(`bad central directory header #${i}`);
    }
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    const compressedSize = cd.readUInt32LE(p + 20);
    const uncompressedSize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const localOffset = cd.readUInt32LE(p + 42);
    // Bit 11: name is UTF-8; otherwise CP437, which equals ASCII for the names GLUE uses.
    const rawName = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (flags & 0x1) throw new ZipFormatError(`${rawName}: encrypted members are not supported`);
    if (
      compressedSize === 0xffffffff ||
      uncompressedSize === 0xffffffff ||
      localOffset === 0xffffffff
    ) {
      throw new ZipFormatError(`${rawName}: ZIP64 members are not supported`);
    }
    if (method !== 0 && method !== 8) {
      throw new ZipFormatError(`${rawName}: compression method ${method} is not supported`);
    }
    const name = safeName(rawName);
    members.push({
      name,
      isDirectory: name.endsWith('/'),
      method,
      crc,
      compressedSize,
      uncompressedSize,
      localOffset,
    });
  }
  return members;
}

/** Offset of a member's data: after its local header, whose name/extra lengths may differ from the central copy. */
function dataStart(local: Buffer, m: ZipMemberInfo): number {
  if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_SIG)
    throw new ZipFormatError(`${m.name}: bad local header`);
  return m.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
}

function checkMember(m: ZipMemberInfo, size: number, crc: number): void {
  if (size !== m.uncompressedSize)
    throw new ZipFormatError(`${m.name}: size ${size}, expected ${m.uncompressedSize}`);
  if (crc !== m.crc) throw new ZipFormatError(`${m.name}: CRC-32 mismatch (corrupt archive)`);
}

/** List the members of a ZIP archive held in memory. */
export function readZip(buf: Buffer): ZipEntry[] {
  const tailStart = Math.max(0, buf.length - EOCD_MIN - MAX_COMMENT);
  const { offset, size, count } = centralDirectoryBounds(
    buf.subarray(tailStart),
    tailStart,
    buf.length,
  );
  return parseCentralDirectory(buf.subarray(offset, offset + size), count).map((m) => ({
    name: m.name,
    isDirectory: m.isDirectory,
    uncompressedSize: m.uncompressedSize,
    data(): Buffer {
      const start = dataStart(buf.subarray(m.localOffset, m.localOffset + 30), m);
      const raw = buf.subarray(start, start + m.compressedSize);
      if (raw.length !== m.compressedSize) throw new ZipFormatError(`${m.name}: truncated member`);
      const out = m.method === 8 ? inflateRawSync(raw) : Buffer.from(raw);
      checkMember(m, out.length, crc32(out));
      return out;
    },
  }));
}

/**
 * Extract a ZIP file into `dir`, streaming each member from disk through
 * inflate to its file, so archives as large as MNLI.zip (~300 MB, ~400 MB
 * of TSV inside) never sit in memory whole. Sizes and CRC-32 are checked.
 */
export async function extractZip(zipPath: string, dir: string): Promise<string[]> {
  const fh = await open(zipPath, 'r');
  try {
    const { size: total } = await fh.stat();
    const tailStart = Math.max(0, total - EOCD_MIN - MAX_COMMENT);
    const tail = Buffer.alloc(total - tailStart);
    await fh.read(tail, 0, tail.length, tailStart);
    const { offset, size, count } = centralDirectoryBounds(tail, tailStart, total);
    const cd = Buffer.alloc(size);
    await fh.read(cd, 0, size, offset);
    const written: string[] = [];
    for (const m of parseCentralDirectory(cd, count)) {
      const target = join(dir, m.name);
      if (m.isDirectory) {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      const local = Buffer.alloc(30);
      await fh.read(local, 0, 30, m.localOffset);
      const start = dataStart(local, m);
      if (start + m.compressedSize > total) throw new ZipFormatError(`${m.name}: truncated member`);
      let crc = 0;
      let bytes = 0;
      const source =
        m.compressedSize === 0
          ? Readable.from([])
          : createReadStream(zipPath, { start, end: start + m.compressedSize - 1 });
      const count = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
        for await (const chunk of chunks) {
          crc = crc32(chunk, crc);
          bytes += chunk.length;
          yield chunk;
        }
      };
      if (m.method === 8) {
        await pipeline(source, createInflateRaw(), count, createWriteStream(target));
      } else {
        await pipeline(source, count, createWriteStream(target));
      }
      checkMember(m, bytes, crc);
      written.push(m.name);
    }
    return written;
  } finally {
    await fh.close();
  }
}
