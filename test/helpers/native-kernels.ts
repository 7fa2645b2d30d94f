/**
 * The native kernels built for real (`bert setup native`) into a temporary
 * cache before a test file's tests, and removed after them. CI installs a C
 * compiler and oneDNN (.ci/run), so there a failed build fails the file;
 * elsewhere the tests that need the kernels skip with the reason.
 */
import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNativeKernels, type LoadedKernels } from '../../src/backend/native-addon.js';

export interface NativeKernelsBuild {
  /** The temporary cache the kernels were built into (set once the file's `before` ran). */
  readonly cacheDir: string;
  /** The built kernels; when there are none, skips `t` with why and returns undefined. */
  need(t: { skip(reason: string): void }): LoadedKernels | undefined;
}

/** Register the build (test.before) and the clean-up (test.after) for the calling test file. */
export function nativeKernelsForTests(): NativeKernelsBuild {
  let built: LoadedKernels | null = null;
  let whyNot = '';
  let cacheDir = '';
  test.before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'bert-native-'));
    try {
      built = await buildNativeKernels({ cacheDir });
    } catch (err) {
      whyNot = (err as Error).message;
      if (process.env.CI) throw err;
    }
  });
  test.after(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });
  return {
    get cacheDir() {
      return cacheDir;
    },
    need(t) {
      if (built) return built;
      console.log(`skipping: native kernels could not be built here: ${whyNot}`);
      t.skip(whyNot);
      return undefined;
    },
  };
}
