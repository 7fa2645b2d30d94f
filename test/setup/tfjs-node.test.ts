import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  addonTarget,
  compileErrorLine,
  INSTALL_RECORD,
  installPackage,
  linkDeps,
  napiBuildVersion,
  packageFor,
  removeIfUnbuilt,
  removePackages,
  wantedVersion,
} from '../../src/setup/tfjs-node.js';
import type { CommandRunner } from '../../src/setup/commands.js';
import { commandResult, fakeRunner } from '../helpers/command-runner.js';
import { UserError } from '../../src/errors.js';
import { tempDir } from './fixtures.js';

const BINARY = {
  module_name: 'tfjs_binding',
  module_path: './lib/napi-v{napi_build_version}',
  napi_versions: [3, 4, 5, 6, 7, 8],
};

async function fakePackage(projectDir: string, name: string, version = '4.22.0'): Promise<string> {
  const dir = join(projectDir, 'node_modules', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version, binary: BINARY }));
  return dir;
}

test('packageFor: tfjs-node for CPU, tfjs-node-gpu for GPU', () => {
  assert.equal(packageFor('cpu'), '@tensorflow/tfjs-node');
  assert.equal(packageFor('gpu'), '@tensorflow/tfjs-node-gpu');
});

test('napiBuildVersion picks the highest N-API version both sides support', () => {
  assert.equal(napiBuildVersion([3, 4, 5, 6, 7, 8], 9), 8);
  assert.equal(napiBuildVersion([3, 4, 5, 6, 7, 8], 6), 6);
  assert.throws(() => napiBuildVersion([8], 5), UserError);
});

test('addonTarget follows the package.json binary block', async () => {
  const dir = await fakePackage(await tempDir(), '@tensorflow/tfjs-node');
  const t = await addonTarget(dir);
  assert.equal(t.napiVersion, 8);
  assert.equal(t.path, join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'));
});

test('wantedVersion reads an exact pin from package.json, else 4.22.0', async () => {
  const dir = await tempDir();
  assert.equal(await wantedVersion(dir, '@tensorflow/tfjs-node'), '4.22.0');
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({
      optionalDependencies: {
        '@tensorflow/tfjs-node': '4.21.0',
        '@tensorflow/tfjs-node-gpu': '^4.22.0',
      },
    }),
  );
  assert.equal(await wantedVersion(dir, '@tensorflow/tfjs-node'), '4.21.0');
  assert.equal(
    await wantedVersion(dir, '@tensorflow/tfjs-node-gpu'),
    '4.22.0',
    'a range is not a pin',
  );
});

test("compileErrorLine finds the compiler error, else gyp's complaint", () => {
  const log = [
    'gyp info it worked if it ends with ok',
    '  CXX(target) Release/obj.target/tfjs_binding/binding/tfjs_backend.o',
    '../binding/tfjs_backend.h:24:10: fatal error: tensorflow/c/c_api.h: No such file or directory',
    'gyp ERR! build error',
    'gyp ERR! stack Error: `make` failed with exit code: 2',
    'gyp ERR! not ok',
  ].join('\n');
  assert.equal(
    compileErrorLine(log),
    '../binding/tfjs_backend.h:24:10: fatal error: tensorflow/c/c_api.h: No such file or directory',
  );
  assert.equal(
    compileErrorLine(
      'gyp ERR! find Python\ngyp ERR! stack Error: Could not find any Python installation to use\ngyp ERR! not ok',
    ),
    'gyp ERR! stack Error: Could not find any Python installation to use',
  );
  assert.equal(compileErrorLine('something odd\nlast words\n'), 'last words');
});

test('linkDeps points deps/ at the layout and reports when it already did', async () => {
  const project = await tempDir();
  const pkg = await fakePackage(project, '@tensorflow/tfjs-node');
  await mkdir(join(pkg, 'deps', 'lib'), { recursive: true }); // what a failed install.js leaves
  assert.equal(await linkDeps(pkg, '/cache/2.21.0-cpu'), true);
  assert.equal(await readlink(join(pkg, 'deps')), '/cache/2.21.0-cpu');
  assert.equal(await linkDeps(pkg, '/cache/2.21.0-cpu'), false);
  assert.equal(await linkDeps(pkg, '/cache/2.22.0-cpu'), true);
});

test('installPackage runs npm without scripts or saving and records what it added; removePackages takes exactly that away', async () => {
  const project = await tempDir();
  await fakePackage(project, 'kept-before');
  const calls: string[][] = [];
  const npm: CommandRunner = async (cmd, args, options) => {
    calls.push([cmd, ...args, `cwd=${options?.cwd}`]);
    await fakePackage(project, '@tensorflow/tfjs-node');
    await fakePackage(project, 'adm-zip', '0.5.0');
    return commandResult();
  };
  const added = await installPackage(npm, project, '@tensorflow/tfjs-node', '4.22.0');
  assert.deepEqual(added, ['@tensorflow/tfjs-node', 'adm-zip']);
  assert.deepEqual(calls[0], [
    'npm',
    'install',
    '--no-save',
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '@tensorflow/tfjs-node@4.22.0',
    `cwd=${project}`,
  ]);
  assert.ok(existsSync(join(project, 'node_modules', INSTALL_RECORD)));

  const removed = await removePackages(project);
  assert.deepEqual(removed.sort(), ['@tensorflow/tfjs-node', 'adm-zip']);
  assert.ok(existsSync(join(project, 'node_modules', 'kept-before')), 'packages there before stay');
  assert.ok(!existsSync(join(project, 'node_modules', INSTALL_RECORD)));
});

test('installPackage: npm failures are one line', async () => {
  const project = await tempDir();
  const missing = fakeRunner({ code: null, notFound: true });
  await assert.rejects(
    installPackage(missing, project, '@tensorflow/tfjs-node', '4.22.0'),
    /^UserError: npm not found/,
  );
  const offline = fakeRunner({
    code: 1,
    stderr: 'npm error code ENOTFOUND\nnpm error network request failed\n',
  });
  await assert.rejects(installPackage(offline, project, '@tensorflow/tfjs-node', '4.22.0'), {
    message: 'npm install @tensorflow/tfjs-node@4.22.0 failed (npm error network request failed)',
  });
});

test('removeIfUnbuilt removes the other variant only while it has no addon', async () => {
  const project = await tempDir();
  assert.equal(await removeIfUnbuilt(project, '@tensorflow/tfjs-node-gpu'), false, 'absent');
  const gpu = await fakePackage(project, '@tensorflow/tfjs-node-gpu');
  await mkdir(join(gpu, 'lib', 'napi-v8'), { recursive: true });
  await writeFile(join(gpu, 'lib', 'napi-v8', 'tfjs_binding.node'), 'addon');
  assert.equal(await removeIfUnbuilt(project, '@tensorflow/tfjs-node-gpu'), false, 'built: kept');
  const cpu = await fakePackage(project, '@tensorflow/tfjs-node');
  assert.equal(await removeIfUnbuilt(project, '@tensorflow/tfjs-node'), true);
  assert.ok(!existsSync(cpu));
});
