/** Test fixtures for setup: temporary folders and a fake TensorFlow wheel (zipped by test/helpers/zip.ts). */
import { after } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildZip, type ZipMember } from '../helpers/zip.js';

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
export const FAKE_WHEEL_ENTRIES: readonly ZipMember[] = [
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
  await writeFile(path, buildZip(FAKE_WHEEL_ENTRIES));
  return path;
}
