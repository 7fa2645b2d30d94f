import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type TensorData,
} from '../../src/io/safetensors.js';

/** Build a file by hand, the way another writer would, to test the reader independently of our writer. */
function handMade(
  entries: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[],
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const out = Buffer.alloc(8 + json.length + off);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let pos = 8 + json.length;
  for (const e of entries) {
    out.set(e.bytes, pos);
    pos += e.bytes.length;
  }
  return out;
}

test('F32 and I32 tensors and metadata round-trip through a file, data 8-byte aligned', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'st-'));
  try {
    const tensors = new Map<string, TensorData>([
      [
        'a.weight',
        {
          dtype: 'float32',
          shape: [2, 3],
          data: Float32Array.from([1, -2.5, 3e-8, 4, 5, Infinity]),
        },
      ],
      ['ids', { dtype: 'int32', shape: [3], data: Int32Array.from([7, -1, 2147483647]) }],
      ['scalar', { dtype: 'float32', shape: [], data: Float32Array.from([0.5]) }],
    ]);
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, tensors, { format: 'pt' });
    const bytes = await readFile(path);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + headerLen) % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString()) as Record<
      string,
      { dtype: string; data_offsets: number[] }
    >;
    assert.equal(header['a.weight'].dtype, 'F32');
    assert.equal(header.ids.dtype, 'I32');
    assert.deepEqual(header['a.weight'].data_offsets, [0, 24]);
    const back = await readSafetensors(path);
    assert.deepEqual(back.metadata, { format: 'pt' });
    assert.deepEqual([...back.tensors.keys()], ['a.weight', 'ids', 'scalar']);
    for (const [name, t] of tensors) {
      const r = back.tensors.get(name)!;
      assert.equal(r.dtype, t.dtype);
      assert.deepEqual(r.shape, t.shape);
      assert.deepEqual(Array.from(r.data), Array.from(t.data));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('F16, BF16 and I64 are read and widened/narrowed; unaligned offsets are fine', () => {
  const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001]).buffer); // 1, -2, ~0.33325, 2^-24
  const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc0a0]).buffer); // 1, -5
  const i64 = new Uint8Array(new BigInt64Array([3n, -4n]).buffer);
  const f32 = new Uint8Array(new Float32Array([1.5]).buffer);
  const file = decodeSafetensors(
    handMade([
      { name: 'h', dtype: 'F16', shape: [4], bytes: f16 },
      { name: 'b', dtype: 'BF16', shape: [2], bytes: bf16 },
      { name: 'f', dtype: 'F32', shape: [1], bytes: f32 }, // starts at byte 12: not 8-aligned
      { name: 'i', dtype: 'I64', shape: [2], bytes: i64 },
    ]),
  );
  assert.deepEqual(Array.from(file.tensors.get('h')!.data), [1, -2, 0.333251953125, 2 ** -24]);
  assert.deepEqual(Array.from(file.tensors.get('b')!.data), [1, -5]);
  assert.deepEqual(Array.from(file.tensors.get('f')!.data), [1.5]);
  assert.equal(file.tensors.get('i')!.dtype, 'int32');
  assert.deepEqual(Array.from(file.tensors.get('i')!.data), [3, -4]);
  assert.equal(file.sourceDtypes.get('b'), 'BF16');
});

test('malformed files are UserErrors naming the file and the problem', async () => {
  assert.throws(
    () => decodeSafetensors(new Uint8Array(4), 'x.safetensors'),
    (e: Error) => e instanceof UserError && /x\.safetensors.*8-byte/.test(e.message),
  );
  const good = encodeSafetensors(
    new Map([['w', { dtype: 'float32', shape: [4], data: new Float32Array(4) } as TensorData]]),
  );
  assert.throws(
    () => decodeSafetensors(good.subarray(0, good.length - 4), 'cut.safetensors'),
    /cut\.safetensors: tensor w .*data_offsets/,
  );
  const badDtype = handMade([{ name: 'q', dtype: 'F64', shape: [1], bytes: new Uint8Array(8) }]);
  assert.throws(
    () => decodeSafetensors(badDtype, 'd.safetensors'),
    /d\.safetensors: tensor q has dtype "F64"/,
  );
  const big = handMade([
    {
      name: 'n',
      dtype: 'I64',
      shape: [1],
      bytes: new Uint8Array(new BigInt64Array([1n << 40n]).buffer),
    },
  ]);
  assert.throws(() => decodeSafetensors(big, 'n.safetensors'), /outside the int32 range/);
  const dir = await mkdtemp(join(tmpdir(), 'st-'));
  try {
    await assert.rejects(
      readSafetensors(join(dir, 'missing.safetensors')),
      /missing\.safetensors: no such file/,
    );
    await writeFile(
      join(dir, 'junk.safetensors'),
      Buffer.from('\x05\x00\x00\x00\x00\x00\x00\x00{oops'),
    );
    await assert.rejects(
      readSafetensors(join(dir, 'junk.safetensors')),
      /junk\.safetensors: safetensors header is not valid JSON/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
