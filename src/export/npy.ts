/**
 * NumPy's .npy format, version 1.0, for a float32 matrix: magic "\x93NUMPY",
 * version 1 0, a little-endian uint16 header length, a Python-literal dict
 * padded with spaces to a 64-byte boundary and ended by '\n', then the data
 * in C order. numpy.load reads it without our code.
 */

/** The header bytes (magic through '\n') of a little-endian float32 array of `shape`. */
export function npyHeader(shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`;
  const prefix = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const out = new Uint8Array(total);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0]);
  new DataView(out.buffer).setUint16(8, dict.length, true);
  out.set(Buffer.from(dict, 'latin1'), prefix);
  return out;
}

/** Parse what npyHeader writes (and numpy's own float32 C-order files): shape and data offset. */
export function parseNpy(bytes: Uint8Array): { shape: number[]; data: Float32Array } {
  const magic = Buffer.from(bytes.subarray(0, 6)).toString('latin1');
  if (magic !== '\x93NUMPY') throw new Error('not a .npy file');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.subarray(start, start + headerLen)).toString('latin1');
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`unsupported .npy header ${header.trim()}`);
  }
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!m) throw new Error(`no shape in .npy header ${header.trim()}`);
  const shape = m[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const offset = start + headerLen;
  const data = new Float32Array(new Uint8Array(bytes.subarray(offset)).buffer);
  return { shape, data };
}
