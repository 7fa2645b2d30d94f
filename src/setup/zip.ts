/**
 * Just enough of the ZIP format to read a wheel: list the central directory
 * and stream single entries (stored or deflated) to disk with a CRC check.
 * Written here so `bert setup tensorflow --wheel` needs neither `unzip` nor
 * Python; the 790 MB libtensorflow_cc entry is streamed, never buffered.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import { createInflateRaw, crc32 } from 'node:zlib';
import { UserError } from '../errors.js';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local file header. */
  localHeaderOffset: number;
  /** Unix mode bits when the archive records them (0 otherwise). */
  mode: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** Where the central directory is and how many entries it holds. */
interface CentralDirectory {
  offset: number;
  size: number;
  count: number;
}

async function findCentralDirectory(
  fh: FileHandle,
  fileSize: number,
  path: string,
): Promise<CentralDirectory> {
  // The end record is 22 bytes plus a comment of at most 65535 bytes.
  const tailLength = Math.min(fileSize, 22 + 0xffff);
  const tail = await readAt(fh, fileSize - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      at = i;
      break;
    }
  }
  if (at < 0)
    throw new UserError(`${path}: not a zip archive (no end-of-central-directory record)`);
  let cd: CentralDirectory = {
    count: tail.readUInt16LE(at + 10),
    size: tail.readUInt32LE(at + 12),
    offset: tail.readUInt32LE(at + 16),
  };
  const locatorAt = at - 20;
  if (locatorAt >= 0 && tail.readUInt32LE(locatorAt) === ZIP64_LOCATOR_SIG) {
    const eocd64Offset = Number(tail.readBigUInt64LE(locatorAt + 8));
    const rec = await readAt(fh, eocd64Offset, 56);
    if (rec.length < 56 || rec.readUInt32LE(0) !== ZIP64_EOCD_SIG) {
      throw new UserError(`${path}: damaged zip64 end record`);
    }
    cd = {
      count: Number(rec.readBigUInt64LE(32)),
      size: Number(rec.readBigUInt64LE(40)),
      offset: Number(rec.readBigUInt64LE(48)),
    };
  }
  if (cd.offset + cd.size > fileSize) throw new UserError(`${path}: truncated zip archive`);
  return cd;
}

/** Replace 0xFFFFFFFF sizes/offset with their values from the zip64 extra field. */
function applyZip64Extra(entry: ZipEntry, extra: Buffer): void {
  let i = 0;
  while (i + 4 <= extra.length) {
    const id = extra.readUInt16LE(i);
    const len = extra.readUInt16LE(i + 2);
    if (id === 0x0001) {
      let p = i + 4;
      const next = (): number => {
        const v = Number(extra.readBigUInt64LE(p));
        p += 8;
        return v;
      };
      if (entry.size === U32_MAX) entry.size = next();
      if (entry.compressedSize === U32_MAX) entry.compressedSize = next();
      if (entry.localHeaderOffset === U32_MAX) entry.localHeaderOffset = next();
      return;
    }
    i += 4 + len;
  }
}

/** Every entry of the archive at `path`, in central-directory order. */
export async function readZipEntries(path: string): Promise<ZipEntry[]> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new UserError(`${path}: cannot open (${code ?? String(err)})`);
  }
  try {
    const { size: fileSize } = await fh.stat();
    const cd = await findCentralDirectory(fh, fileSize, path);
    const buf = await readAt(fh, cd.offset, cd.size);
    const entries: ZipEntry[] = [];
    let i = 0;
    for (let n = 0; n < cd.count; n++) {
      if (i + 46 > buf.length || buf.readUInt32LE(i) !== CENTRAL_SIG) {
        throw new UserError(`${path}: damaged central directory at entry ${n}`);
      }
      const nameLength = buf.readUInt16LE(i + 28);
      const extraLength = buf.readUInt16LE(i + 30);
      const commentLength = buf.readUInt16LE(i + 32);
      const entry: ZipEntry = {
        method: buf.readUInt16LE(i + 10),
        crc32: buf.readUInt32LE(i + 16),
        compressedSize: buf.readUInt32LE(i + 20),
        size: buf.readUInt32LE(i + 24),
        mode: (buf.readUInt32LE(i + 38) >>> 16) & 0o7777,
        localHeaderOffset: buf.readUInt32LE(i + 42),
        name: buf.toString('utf8', i + 46, i + 46 + nameLength),
      };
      applyZip64Extra(entry, buf.subarray(i + 46 + nameLength, i + 46 + nameLength + extraLength));
      entries.push(entry);
      i += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** Passes bytes through while keeping a running CRC-32 and byte count. */
class Crc32Meter extends Transform {
  crc = 0;
  bytes = 0;
  override _transform(
    chunk: Buffer,
    _enc: BufferEncoding,
    done: (err?: Error | null, data?: Buffer) => void,
  ): void {
    this.crc = crc32(chunk, this.crc);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/**
 * Write one entry of the archive at `zipPath` to `dest`, checking its size
 * and CRC-32. The destination is created with the entry's mode (0644 when
 * the archive records none).
 */
export async function extractZipEntry(
  zipPath: string,
  entry: ZipEntry,
  dest: string,
): Promise<void> {
  if (entry.method !== 0 && entry.method !== 8) {
    throw new UserError(
      `${zipPath}: ${entry.name} uses compression method ${entry.method} (only stored/deflate)`,
    );
  }
  const fh = await open(zipPath, 'r');
  let dataStart: number;
  try {
    const header = await readAt(fh, entry.localHeaderOffset, 30);
    if (header.length < 30 || header.readUInt32LE(0) !== LOCAL_SIG) {
      throw new UserError(`${zipPath}: damaged local header for ${entry.name}`);
    }
    dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  } finally {
    await fh.close();
  }
  const meter = new Crc32Meter();
  // createReadStream's `end` is inclusive, so an empty entry reads nothing at all.
  const source =
    entry.compressedSize === 0
      ? Readable.from([])
      : createReadStream(zipPath, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
  const sink = createWriteStream(dest, { mode: entry.mode & 0o777 || 0o644 });
  if (entry.method === 8) await pipeline(source, createInflateRaw(), meter, sink);
  else await pipeline(source, meter, sink);
  if (meter.bytes !== entry.size || meter.crc >>> 0 !== entry.crc32 >>> 0) {
    throw new UserError(
      `${zipPath}: ${entry.name} is corrupt (size ${meter.bytes}/${entry.size}, crc ${meter.crc >>> 0}/${entry.crc32 >>> 0})`,
    );
  }
}
