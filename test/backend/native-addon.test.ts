/**
 * The optional native kernels for the WASM backend (`bert setup native`):
 * built for real into a temporary cache, reused once built, failures one
 * clear line, BERT_NATIVE_KERNELS=0. CI installs a C compiler and oneDNN
 * (.ci/run); elsewhere the build-dependent tests skip with the reason. What
 * the kernels compute is tested in wasm-native-kernels.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addonPath,
  buildNativeKernels,
  KERNELS_SOURCE,
  loadNativeKernels,
  nodeHeaderCandidates,
} from '../../src/backend/native-addon.js';
import { UserError } from '../../src/errors.js';
import type { CommandRunner } from '../../src/setup/commands.js';
import { commandResult, fakeRunner } from '../helpers/command-runner.js';
import { nativeKernelsForTests } from '../helpers/native-kernels.js';

const native = nativeKernelsForTests();

test('bert setup native compiles into <cache>/native, named by the source hash, and reuses it', async (t) => {
  const loaded = native.need(t);
  if (!loaded) return;
  assert.equal(loaded.path, addonPath(native.cacheDir));
  assert.match(loaded.path, /native\/bert_kernels-[0-9a-f]{12}\.node$/);
  assert.ok(existsSync(loaded.path));
  assert.match(loaded.library, /oneDNN|CBLAS/);
  let ran = 0;
  const counting: CommandRunner = async () => {
    ran++;
    return commandResult();
  };
  const again = await buildNativeKernels({ cacheDir: native.cacheDir, run: counting });
  assert.equal(again.path, loaded.path);
  assert.equal(ran, 0, 'a cached build is not recompiled');
});

test('the kernels compile with OpenMP and no warning (a compile error there would silently fall back to one thread and unvectorised loops)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bert-native-omp-'));
  try {
    const probe = join(dir, 'omp.c');
    writeFileSync(
      probe,
      '#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n',
    );
    const cc = process.env.CC ?? 'cc';
    if (spawnSync(cc, ['-fopenmp', probe, '-o', join(dir, 'omp')]).status !== 0) {
      t.skip(`${cc} cannot build an OpenMP program here`);
      return;
    }
    const include = nodeHeaderCandidates().find((d) => existsSync(join(d, 'node_api.h')));
    if (!include) {
      t.skip("no node_api.h (Node's headers) here");
      return;
    }
    const r = spawnSync(
      cc,
      ['-fsyntax-only', '-fopenmp', '-std=c11', '-Wall', '-Werror', `-I${include}`, KERNELS_SOURCE],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('build failures are one clear line: no compiler, a compile error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bert-native-fail-'));
  try {
    const missing = fakeRunner({ code: null, notFound: true, stderr: 'spawn cc ENOENT' });
    await assert.rejects(
      buildNativeKernels({ cacheDir: dir, run: missing }),
      (err: Error) =>
        err instanceof UserError && /not found: install a C compiler/.test(err.message),
    );
    const broken = fakeRunner({
      code: 1,
      stderr:
        'In file included from x.c:1:\nbert_kernels.c:12:10: fatal error: node_api.h: No such file\n',
    });
    await assert.rejects(
      buildNativeKernels({ cacheDir: dir, run: broken }),
      (err: Error) =>
        err instanceof UserError &&
        /compiling the native kernels failed: bert_kernels.c:12:10: fatal error/.test(err.message),
    );
    assert.ok(!existsSync(addonPath(dir)), 'nothing half-built is left in the cache');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('BERT_NATIVE_KERNELS=0 turns the kernels off; an absent build says how to make one', () => {
  const saved = process.env.BERT_NATIVE_KERNELS;
  process.env.BERT_NATIVE_KERNELS = '0';
  try {
    assert.deepEqual(loadNativeKernels(native.cacheDir), { reason: 'BERT_NATIVE_KERNELS=0' });
  } finally {
    if (saved === undefined) delete process.env.BERT_NATIVE_KERNELS;
    else process.env.BERT_NATIVE_KERNELS = saved;
  }
  const empty = loadNativeKernels(join(native.cacheDir, 'nowhere'), { ignoreSwitch: true });
  assert.ok('reason' in empty && /bert setup native/.test(empty.reason));
});
