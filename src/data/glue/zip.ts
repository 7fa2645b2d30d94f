/**
 * A small reader for ZIP archives (PKWARE APPNOTE): enough for the GLUE task
 * archives, so `bert data fetch glue` needs no unzip dependency. Reads the
 * central directory, supports stored (0) and deflated (8) members, checks
 * each member's CRC-32 and size, and refuses encrypted members, ZIP64 and
 * member names that would escape the extraction directory.
 */
import { crc32, inflateRawSync } from 'node:zlib';

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

/** List the members of a ZIP archive held in memory. */
export function readZip(buf: Buffer): ZipEntry[] {
  if (buf.length < EOCD_MIN) throw new ZipFormatError('not a zip archive (too short)');
  const eocd = findEndOfCentralDirectory(buf);
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) throw new ZipFormatError('ZIP64 archives are not supported');
  if (cdOffset + cdSize > eocd) throw new ZipFormatError('central directory lies outside the archive');
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL_SIG) {
      throw new ZipFormatError(`bad central directory header #${i}`);
    }
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compressedSize = buf.readUInt32LE(p + 20);
    const uncompressedSize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOffset = buf.readUInt32LE(p + 42);
    // Bit 11: name is UTF-8; otherwise CP437, which equals ASCII for the names GLUE uses.
    const rawName = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (flags & 0x1) throw new ZipFormatError(`${rawName}: encrypted members are not supported`);
    if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff || localOffset === 0xffffffff) {
      throw new ZipFormatError(`${rawName}: ZIP64 members are not supported`);
    }
    const name = safeName(rawName);
    const isDirectory = name.endsWith('/');
    entries.push({
      name,
      isDirectory,
      uncompressedSize,
      data(): Buffer {
        if (buf.readUInt32LE(localOffset) !== LOCAL_SIG) {
          throw new ZipFormatError(`${name}: bad local header`);
        }
        const start = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
        const raw = buf.subarray(start, start + compressedSize);
        if (raw.length !== compressedSize) throw new ZipFormatError(`${name}: truncated member`);
        let out: Buffer;
        if (method === 0) out = Buffer.from(raw);
        else if (method === 8) out = inflateRawSync(raw);
        else throw new ZipFormatError(`${name}: compression method ${method} is not supported`);
        if (out.length !== uncompressedSize) {
          throw new ZipFormatError(`${name}: size ${out.length}, expected ${uncompressedSize}`);
        }
        if (crc32(out) !== crc) throw new ZipFormatError(`${name}: CRC-32 mismatch (corrupt archive)`);
        return out;
      },
    });
  }
  return entries;
}
