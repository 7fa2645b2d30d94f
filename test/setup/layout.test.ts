import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createLinks,
  INSTALL_SENTINEL,
  layoutDirectories,
  LIBRARY_LINKS,
  planLayout,
} from '../../src/setup/layout.js';
import { UserError } from '../../src/errors.js';
import { FAKE_WHEEL_ENTRIES, tempDir } from './fixtures.js';

const LISTING = FAKE_WHEEL_ENTRIES.map((e) => e.name);

test('planLayout maps the two libraries to lib/ and only the needed headers to include/', () => {
  const plan = planLayout(LISTING);
  assert.deepEqual(
    plan.files.map((f) => `${f.source} -> ${f.target}`),
    [
      'tensorflow/libtensorflow_cc.so.2 -> lib/libtensorflow_cc.so.2',
      'tensorflow/libtensorflow_framework.so.2 -> lib/libtensorflow_framework.so.2',
      'tensorflow/include/tensorflow/c/c_api.h -> include/tensorflow/c/c_api.h',
      'tensorflow/include/tensorflow/c/eager/c_api.h -> include/tensorflow/c/eager/c_api.h',
      'tensorflow/include/tensorflow/c/tf_status.h -> include/tensorflow/c/tf_status.h',
      'tensorflow/include/tensorflow/core/platform/ctstring.h -> include/tensorflow/core/platform/ctstring.h',
      'tensorflow/include/tensorflow/core/platform/ctstring_internal.h -> include/tensorflow/core/platform/ctstring_internal.h',
      'tensorflow/include/tsl/platform/ctstring.h -> include/tsl/platform/ctstring.h',
      'tensorflow/include/xla/tsl/c/tsl_status.h -> include/xla/tsl/c/tsl_status.h',
    ],
  );
});

test('planLayout adds the 2.9.1 names tfjs-node links against and checks for', () => {
  const plan = planLayout(LISTING);
  assert.deepEqual(plan.links, LIBRARY_LINKS);
  const sentinel = plan.links.find((l) => l.path === INSTALL_SENTINEL);
  assert.equal(sentinel?.target, 'libtensorflow_cc.so.2');
  assert.ok(
    plan.links.some(
      (l) =>
        l.path === 'lib/libtensorflow_framework.so' && l.target === 'libtensorflow_framework.so.2',
    ),
  );
});

test('planLayout names every missing library and header of a wheel that is not TensorFlow', () => {
  const noLibs = LISTING.filter((n) => !n.endsWith('.so.2') && !n.endsWith('eager/c_api.h'));
  assert.throws(
    () => planLayout(noLibs, 'odd.whl'),
    (err: unknown) =>
      err instanceof UserError &&
      err.message ===
        'odd.whl: not a usable TensorFlow wheel, missing tensorflow/libtensorflow_cc.so.2, ' +
          'tensorflow/libtensorflow_framework.so.2, tensorflow/include/tensorflow/c/eager/c_api.h',
  );
});

test('layoutDirectories lists parents before children', () => {
  const dirs = layoutDirectories(planLayout(LISTING));
  assert.equal(dirs[0], 'include');
  assert.ok(dirs.includes('lib'));
  assert.ok(dirs.indexOf('include/tensorflow') < dirs.indexOf('include/tensorflow/c/eager'));
  assert.ok(dirs.includes('include/xla/tsl/c'));
});

test('createLinks makes relative links, keeps correct ones and replaces wrong ones', async () => {
  const root = await tempDir();
  await mkdir(join(root, 'lib'));
  await writeFile(join(root, 'lib', 'libtensorflow_cc.so.2'), 'lib');
  // A stale file and a wrong link where links belong.
  await writeFile(join(root, 'lib', 'libtensorflow.so'), 'stale copy');
  await symlink('elsewhere.so', join(root, 'lib', 'libtensorflow.so.2'));
  await createLinks(root, LIBRARY_LINKS);
  for (const link of LIBRARY_LINKS) {
    assert.ok((await lstat(join(root, link.path))).isSymbolicLink(), link.path);
    assert.equal(await readlink(join(root, link.path)), link.target);
  }
  const before = (await lstat(join(root, INSTALL_SENTINEL))).ino;
  await createLinks(root, LIBRARY_LINKS);
  assert.equal(
    (await lstat(join(root, INSTALL_SENTINEL))).ino,
    before,
    'a correct link is left alone',
  );
});
