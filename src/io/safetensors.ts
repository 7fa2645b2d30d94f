/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON `{name: {dtype, shape, data_offsets},
 * "__metadata__": {string: string}}`, then the raw little-endian tensor bytes
 * (offsets relative to the end of the header).
 *
 * Read: F32, F16, BF16 (widened to float32), I32, I64 (narrowed to int32,
 * refusing values that do not fit). Write: F32, I32. Writes are atomic.
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

/** One named tensor as plain data: what the model and optimizer hand over for saving. */
export interface TensorData {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';

export interface SafetensorsFile {
  tensors: Map<string, TensorData>;
  metadata: Record<string, string>;
  /** The dtype each tensor had on disk, before widening/narrowing. */
  sourceDtypes: Map<string, SafetensorsDtype>;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serialise tensors (in the map's order) and optional string metadata. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorData>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error('"__metadata__" is reserved in safetensors');
    if (numel(t.shape) !== t.data.length) {
      throw new Error(`safetensors: ${name} has shape [${t.shape}] but ${t.data.length} values`);
    }
    const bytes = t.data.length * 4;
    header[name] = {
      dtype: t.dtype === 'float32' ? 'F32' : 'I32',
      shape: t.shape,
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so tensor data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    // Typed arrays are little-endian on every platform Node runs on.
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(src, pos);
    pos += src.length;
  }
  return out;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function decodeTensor(
  name: string,
  entry: HeaderEntry,
  body: Uint8Array,
  source: string,
): TensorData {
  const dtype = entry.dtype as SafetensorsDtype;
  const [begin, end] = entry.data_offsets;
  const n = numel(entry.shape);
  if (end - begin !== n * BYTES[dtype] || begin < 0 || end > body.length) {
    throw new UserError(
      `${source}: tensor ${name} (${dtype} [${entry.shape}]) has data_offsets [${begin}, ${end}] that do not fit its shape or the file`,
    );
  }
  const view = new DataView(body.buffer, body.byteOffset + begin, end - begin);
  switch (dtype) {
    case 'F32': {
      // Copy into a fresh, aligned buffer (the file's offsets need not be 4-byte aligned).
      const data = new Float32Array(new Uint8Array(body.subarray(begin, end)).buffer);
      return { dtype: 'float32', shape: entry.shape, data };
    }
    case 'F16': {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(i * 2, true));
      return { dtype: 'float32', shape: entry.shape, data };
    }
    case 'BF16': {
      const data = new Float32Array(n);
      const bits = new Uint32Array(data.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return { dtype: 'float32', shape: entry.shape, data };
    }
    case 'I32': {
      const data = new Int32Array(new Uint8Array(body.subarray(begin, end)).buffer);
      return { dtype: 'int32', shape: entry.shape, data };
    }
    case 'I64': {
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) {
          throw new UserError(
            `${source}: tensor ${name} (I64) holds ${v}, outside the int32 range`,
          );
        }
        data[i] = Number(v);
      }
      return { dtype: 'int32', shape: entry.shape, data };
    }
  }
}

/** Parse a safetensors buffer; `source` names it in error messages. */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'safetensors buffer',
): SafetensorsFile {
  if (bytes.length < 8)
    throw new UserError(
      `${source}: not a safetensors file (shorter than its 8-byte header length)`,
    );
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8) {
    throw new UserError(
      `${source}: not a safetensors file (header length ${n} exceeds the file size ${bytes.length})`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'),
    ) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(
      `${source}: safetensors header is not valid JSON (${(err as Error).message})`,
    );
  }
  const body = bytes.subarray(8 + n);
  const tensors = new Map<string, TensorData>();
  const sourceDtypes = new Map<string, SafetensorsDtype>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const entry = value as HeaderEntry;
    if (
      !entry ||
      !(entry.dtype in BYTES) ||
      !Array.isArray(entry.shape) ||
      !Array.isArray(entry.data_offsets)
    ) {
      throw new UserError(
        `${source}: tensor ${name} has dtype ${JSON.stringify(entry?.dtype)}; expected one of ${Object.keys(BYTES).join(', ')} with shape and data_offsets`,
      );
    }
    tensors.set(name, decodeTensor(name, entry, body, source));
    sourceDtypes.set(name, entry.dtype as SafetensorsDtype);
  }
  return { tensors, metadata, sourceDtypes };
}

/** Write tensors to `path` atomically (temp file, fsync, rename). */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, TensorData>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Read a safetensors file; a missing or malformed file is a UserError naming it. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const e = err as { code?: string };
    if (e.code === 'ENOENT')
      throw new UserError(`${path}: no such file (expected a safetensors file)`);
    throw err;
  }
  return decodeSafetensors(bytes, path);
}
