import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  addonCachePath,
  cacheRoot,
  candidateVersions,
  compareVersions,
  entryDir,
  findCachedLayout,
  MANIFEST_FILE,
  parseManifest,
  type LayoutManifest,
} from '../../src/setup/cache.js';
import { tempDir } from './fixtures.js';

test('cacheRoot: the option, then BERT_CACHE_DIR, then XDG_CACHE_HOME/bert, then ~/.cache/bert', () => {
  const env = { BERT_CACHE_DIR: '/b', XDG_CACHE_HOME: '/x' };
  assert.equal(cacheRoot('/opt', env, '/home/u'), '/opt');
  assert.equal(cacheRoot(undefined, env, '/home/u'), '/b');
  assert.equal(cacheRoot(undefined, { XDG_CACHE_HOME: '/x' }, '/home/u'), '/x/bert');
  assert.equal(cacheRoot(undefined, {}, '/home/u'), '/home/u/.cache/bert');
});

test('cache entries are named <tf-version>-<variant>, addons by package and N-API version', () => {
  assert.equal(entryDir('/c', '2.21.0', 'cpu'), '/c/tfjs-node/2.21.0-cpu');
  assert.equal(
    addonCachePath('/c/tfjs-node/2.21.0-gpu', '@tensorflow/tfjs-node-gpu', '4.22.0', 8),
    '/c/tfjs-node/2.21.0-gpu/addon/tfjs-node-gpu-4.22.0/napi-v8/tfjs_binding.node',
  );
});

test('compareVersions orders numerically, not as text', () => {
  assert.equal(compareVersions('2.10.0', '2.9.1'), 1);
  assert.equal(compareVersions('2.21.0', '2.21.0'), 0);
  assert.equal(compareVersions('2.21', '2.21.1'), -1);
});

test('candidateVersions picks the variant, newest first, and honours a pinned version', () => {
  const names = [
    '2.9.1-cpu',
    '2.21.0-cpu',
    '2.21.0-gpu',
    '.2.22.0-cpu.tmp-1-ab',
    'downloads',
    '-cpu',
  ];
  assert.deepEqual(candidateVersions(names, 'cpu'), ['2.21.0', '2.9.1']);
  assert.deepEqual(candidateVersions(names, 'gpu'), ['2.21.0']);
  assert.deepEqual(candidateVersions(names, 'cpu', '2.9.1'), ['2.9.1']);
  assert.deepEqual(candidateVersions(names, 'cpu', '3.0.0'), []);
});

test('parseManifest rejects other formats and broken JSON', () => {
  assert.equal(parseManifest('{'), null);
  assert.equal(parseManifest('{"format":2,"variant":"cpu"}'), null);
  assert.equal(
    parseManifest(
      '{"format":1,"variant":"tpu","tensorflowVersion":"1","wheel":"w","libraries":{}}',
    ),
    null,
  );
  assert.ok(
    parseManifest(
      '{"format":1,"variant":"cpu","tensorflowVersion":"1","wheel":"w","libraries":{}}',
    ),
  );
});

async function fakeEntry(
  root: string,
  version: string,
  sizes = { cc: 10, fw: 5 },
): Promise<string> {
  const dir = entryDir(root, version, 'cpu');
  await mkdir(join(dir, 'lib'), { recursive: true });
  await writeFile(join(dir, 'lib', 'libtensorflow_cc.so.2'), Buffer.alloc(sizes.cc));
  await writeFile(join(dir, 'lib', 'libtensorflow_framework.so.2'), Buffer.alloc(sizes.fw));
  const manifest: LayoutManifest = {
    format: 1,
    variant: 'cpu',
    tensorflowVersion: version,
    wheel: `tensorflow_cpu-${version}.whl`,
    libraries: { 'libtensorflow_cc.so.2': sizes.cc, 'libtensorflow_framework.so.2': sizes.fw },
    headers: 0,
    created: '2026-01-01T00:00:00Z',
  };
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
  return dir;
}

test('findCachedLayout: a hit needs the manifest and both libraries at their recorded sizes', async () => {
  const root = await tempDir();
  assert.equal(await findCachedLayout(root, 'cpu'), null, 'no cache folder at all');
  const old = await fakeEntry(root, '2.9.1');
  const newer = await fakeEntry(root, '2.21.0');
  assert.equal((await findCachedLayout(root, 'cpu'))?.dir, newer, 'newest complete entry wins');
  assert.equal(await findCachedLayout(root, 'gpu'), null, 'other variant misses');
  assert.equal((await findCachedLayout(root, 'cpu', '2.9.1'))?.manifest.tensorflowVersion, '2.9.1');

  await truncate(join(newer, 'lib', 'libtensorflow_cc.so.2'), 3);
  assert.equal((await findCachedLayout(root, 'cpu'))?.dir, old, 'a truncated library is a miss');
  await writeFile(join(old, MANIFEST_FILE), 'not json');
  assert.equal(await findCachedLayout(root, 'cpu'), null, 'a broken manifest is a miss');
});
