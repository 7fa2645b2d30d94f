/** Test fixtures for setup: a minimal ZIP writer and a fake TensorFlow wheel built with it. */
import { after } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

export interface FixtureEntry {
  name: string;
  data: Buffer | string;
  /** 0 = stored, 8 = deflated (default). */
  method?: 0 | 8;
}

/** A ZIP archive holding `entries`, the way wheels are written (no zip64, no data descriptors). */
export function zipBytes(entries: readonly FixtureEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
    const method = e.method ?? 8;
    const body = method === 8 ? deflateRawSync(data) : data;
    const name = Buffer.from(e.name);
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode bits below count
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100644 << 16) >>> 0) as number, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

const made: string[] = [];
// Each test file runs in its own process, so this removes that file's folders when it ends.
after(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temporary folder, removed when the test file finishes. */
export async function tempDir(prefix = 'bert-setup-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** The platform tag of a wheel for this machine's CPU. */
export function hostPlatformTag(): string {
  return process.arch === 'arm64' ? 'manylinux_2_27_aarch64' : 'manylinux_2_27_x86_64';
}

/** The members of a TensorFlow wheel that matter here, plus some that must be left out. */
export const FAKE_WHEEL_ENTRIES: readonly FixtureEntry[] = [
  { name: 'tensorflow/__init__.py', data: '# not copied\n' },
  { name: 'tensorflow/libtensorflow_cc.so.2', data: Buffer.alloc(4096, 7) },
  { name: 'tensorflow/libtensorflow_framework.so.2', data: Buffer.alloc(1024, 3), method: 0 },
  { name: 'tensorflow/include/tensorflow/c/c_api.h', data: '/* c_api */\n' },
  { name: 'tensorflow/include/tensorflow/c/eager/c_api.h', data: '/* eager c_api */\n' },
  {
    name: 'tensorflow/include/tensorflow/c/tf_status.h',
    data: '#include "xla/tsl/c/tsl_status.h"\n',
  },
  { name: 'tensorflow/include/tensorflow/core/platform/ctstring.h', data: '/* ctstring */\n' },
  {
    name: 'tensorflow/include/tensorflow/core/platform/ctstring_internal.h',
    data: '/* internal */\n',
  },
  { name: 'tensorflow/include/tensorflow/core/platform/env.h', data: '/* not needed */\n' },
  { name: 'tensorflow/include/tsl/platform/ctstring.h', data: '/* tsl ctstring */\n' },
  { name: 'tensorflow/include/xla/tsl/c/', data: '', method: 0 },
  { name: 'tensorflow/include/xla/tsl/c/tsl_status.h', data: '/* tsl status */\n' },
  { name: 'tensorflow/include/xla/tsl/c/sub/deeper.h', data: '/* not needed */\n' },
  { name: 'tensorflow_cpu-9.9.0.dist-info/METADATA', data: 'Name: tensorflow-cpu\n' },
];

/** Write a fake tensorflow-cpu wheel into `dir` and return its path. */
export async function writeFakeWheel(dir: string, version = '9.9.0'): Promise<string> {
  const path = join(dir, `tensorflow_cpu-${version}-cp311-cp311-${hostPlatformTag()}.whl`);
  await writeFile(path, zipBytes(FAKE_WHEEL_ENTRIES));
  return path;
}
