import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setupTensorflow, type SetupTensorflowOptions } from '../../src/setup/tensorflow.js';
import type { CommandResult, CommandRunner } from '../../src/setup/commands.js';
import { UserError } from '../../src/errors.js';
import { tempDir, writeFakeWheel } from './fixtures.js';
import { commandResult } from '../helpers/command-runner.js';

const BINARY = {
  module_name: 'tfjs_binding',
  module_path: './lib/napi-v{napi_build_version}',
  napi_versions: [8],
};

/**
 * A project folder, a runner that plays npm (writes the packages) and
 * node-pre-gyp (writes an addon), and a fake TensorFlow `wheel` to build from.
 */
async function fakeWorld(compile: Partial<CommandResult> = {}) {
  const project = await tempDir();
  const cache = await tempDir();
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ optionalDependencies: { '@tensorflow/tfjs-node': '4.22.0' } }),
  );
  const calls: string[] = [];
  const run: CommandRunner = async (cmd, args, options) => {
    if (cmd === 'npm') {
      calls.push('npm');
      for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
        const dir = join(project, 'node_modules', name);
        await mkdir(dir, { recursive: true });
        await writeFile(
          join(dir, 'package.json'),
          JSON.stringify({ name, version: '4.22.0', binary: BINARY }),
        );
      }
      const preGyp = join(project, 'node_modules', '@mapbox', 'node-pre-gyp');
      await mkdir(preGyp, { recursive: true });
      await writeFile(
        join(preGyp, 'package.json'),
        '{"name":"@mapbox/node-pre-gyp","version":"1.0.9"}',
      );
      return commandResult();
    }
    if (args[0]?.endsWith('node-pre-gyp')) {
      calls.push('compile');
      // What matters to the addon: deps/ must already hold the layout when it compiles.
      assert.ok(
        existsSync(join(options?.cwd ?? '', 'deps', 'include', 'tensorflow', 'c', 'c_api.h')),
      );
      if (compile.code) return commandResult(compile);
      const out = join(options?.cwd ?? '', 'lib', 'napi-v8', 'tfjs_binding.node');
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, 'compiled addon');
      return commandResult();
    }
    calls.push(`unexpected ${cmd}`);
    return commandResult({ code: null, notFound: true });
  };
  const logs: string[] = [];
  const options = (more: Partial<SetupTensorflowOptions> = {}): SetupTensorflowOptions => ({
    projectDir: project,
    cacheDir: cache,
    verify: false,
    run,
    log: (l) => logs.push(l),
    ...more,
  });
  const wheel = await writeFakeWheel(await tempDir());
  return { project, cache, calls, logs, options, wheel };
}

const linuxOnly = {
  skip: process.platform !== 'linux' ? 'setup builds from Linux wheels only' : false,
};

test(
  'setupTensorflow builds the cached layout, installs, links and compiles once; the second run does nothing',
  linuxOnly,
  async () => {
    const w = await fakeWorld();
    const first = await setupTensorflow(w.options({ wheel: w.wheel }));
    assert.equal(first.alreadySetUp, false);
    assert.equal(first.tensorflowVersion, '9.9.0');
    assert.deepEqual(w.calls, ['npm', 'compile']);

    const entry = join(w.cache, 'tfjs-node', '9.9.0-cpu');
    assert.equal(first.layoutDir, entry);
    assert.equal(
      await readlink(join(entry, 'lib', 'libtensorflow.so.2.9.1')),
      'libtensorflow_cc.so.2',
    );
    assert.equal((await readFile(join(entry, 'lib', 'libtensorflow_cc.so.2'))).length, 4096);
    assert.ok(existsSync(join(entry, 'include', 'xla', 'tsl', 'c', 'tsl_status.h')));
    assert.ok(
      !existsSync(join(entry, 'include', 'tensorflow', 'core', 'platform', 'env.h')),
      'unneeded headers stay out',
    );
    const manifest = JSON.parse(await readFile(join(entry, 'bert-setup.json'), 'utf8')) as {
      headers: number;
    };
    assert.equal(manifest.headers, 7);
    assert.equal(
      await readFile(
        join(entry, 'addon', 'tfjs-node-4.22.0', 'napi-v8', 'tfjs_binding.node'),
        'utf8',
      ),
      'compiled addon',
    );

    const pkg = join(w.project, 'node_modules', '@tensorflow', 'tfjs-node');
    assert.equal(await readlink(join(pkg, 'deps')), entry);
    assert.ok(
      !existsSync(join(w.project, 'node_modules', '@tensorflow', 'tfjs-node-gpu')),
      'the unbuilt GPU package is removed',
    );
    assert.ok(w.logs.some((l) => l.includes('removed @tensorflow/tfjs-node-gpu')));

    w.calls.length = 0;
    w.logs.length = 0;
    const second = await setupTensorflow(w.options({ wheel: w.wheel }));
    assert.equal(second.alreadySetUp, true);
    assert.deepEqual(w.calls, [], 'no npm, no compile');
    assert.match(
      w.logs.at(-1) ?? '',
      /^already set up \(libtensorflow 9\.9\.0, @tensorflow\/tfjs-node@4\.22\.0\)/,
    );
  },
);

test(
  'after node_modules is wiped, setup reinstalls and restores the cached addon without compiling',
  linuxOnly,
  async () => {
    const w = await fakeWorld();
    await setupTensorflow(w.options({ wheel: w.wheel }));
    await rm(join(w.project, 'node_modules'), { recursive: true });
    w.calls.length = 0;
    // No --wheel this time: the cache alone must be enough (no pip either).
    const again = await setupTensorflow(w.options());
    assert.deepEqual(w.calls, ['npm']);
    assert.equal(again.alreadySetUp, false);
    const addon = join(
      w.project,
      'node_modules',
      '@tensorflow',
      'tfjs-node',
      'lib',
      'napi-v8',
      'tfjs_binding.node',
    );
    assert.equal(await readFile(addon, 'utf8'), 'compiled addon');
    assert.ok(
      (
        await lstat(join(w.project, 'node_modules', '@tensorflow', 'tfjs-node', 'deps'))
      ).isSymbolicLink(),
    );
  },
);

test('--force rebuilds the layout and recompiles', linuxOnly, async () => {
  const w = await fakeWorld();
  await setupTensorflow(w.options({ wheel: w.wheel }));
  w.calls.length = 0;
  const forced = await setupTensorflow(w.options({ wheel: w.wheel, force: true }));
  assert.equal(forced.alreadySetUp, false);
  assert.deepEqual(w.calls, ['npm', 'compile']);
  const names = await readdir(join(w.cache, 'tfjs-node'));
  assert.deepEqual(names, ['9.9.0-cpu'], 'no temporary folders left behind');
});

test(
  "a compile error is one line with the compiler's message and the log path",
  linuxOnly,
  async () => {
    const w = await fakeWorld({
      code: 1,
      stderr: 'x.cc:1:10: fatal error: tensorflow/c/c_api.h: No such file\ngyp ERR! not ok\n',
    });
    await assert.rejects(setupTensorflow(w.options({ wheel: w.wheel })), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.equal(
        err.message,
        `compiling the tfjs-node addon failed (x.cc:1:10: fatal error: tensorflow/c/c_api.h: No such file); full log: ${join(w.cache, 'tfjs-node', '9.9.0-cpu', 'build.log')}`,
      );
      return true;
    });
  },
);

test('without a cached layout or --wheel, a missing python3 is the error', linuxOnly, async () => {
  const w = await fakeWorld();
  await assert.rejects(setupTensorflow(w.options({ python: 'python3' })), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /^python3 not found: .*or pass --wheel FILE\.whl$/);
    return true;
  });
});

test(
  '--wheel naming a missing file or a non-TensorFlow wheel fails before any work',
  linuxOnly,
  async () => {
    const w = await fakeWorld();
    const dir = await tempDir();
    const missing = join(dir, 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl');
    await assert.rejects(setupTensorflow(w.options({ wheel: missing })), /: no such file$/);
    await assert.rejects(
      setupTensorflow(
        w.options({ wheel: join(dir, 'numpy-2.0.0-cp311-cp311-manylinux_2_27_x86_64.whl') }),
      ),
      /a 'numpy' wheel/,
    );
    assert.deepEqual(w.calls, []);
  },
);

test(
  '--gpu builds tfjs-node-gpu under a -gpu cache entry and drops the unbuilt CPU package',
  linuxOnly,
  async () => {
    const w = await fakeWorld();
    const r = await setupTensorflow(w.options({ wheel: w.wheel, gpu: true }));
    assert.equal(r.package, '@tensorflow/tfjs-node-gpu');
    assert.equal(r.layoutDir, join(w.cache, 'tfjs-node', '9.9.0-gpu'));
    assert.ok(
      existsSync(
        join(r.layoutDir, 'addon', 'tfjs-node-gpu-4.22.0', 'napi-v8', 'tfjs_binding.node'),
      ),
    );
    assert.equal(
      await readlink(join(w.project, 'node_modules', '@tensorflow', 'tfjs-node-gpu', 'deps')),
      r.layoutDir,
    );
    assert.ok(!existsSync(join(w.project, 'node_modules', '@tensorflow', 'tfjs-node')));
  },
);
