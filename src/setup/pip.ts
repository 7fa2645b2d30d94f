/**
 * Getting a TensorFlow wheel with pip: `python3 -m pip download --no-deps`
 * of `tensorflow-cpu` (or `tensorflow` for the GPU build). pip finds it on
 * PyPI, or on whatever index or mirror the user's pip configuration names.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { lastLine, type CommandRunner } from './commands.js';
import type { Variant } from './cache.js';

/** The pip distribution that holds the libraries for each variant. */
export function wheelDistribution(variant: Variant): string {
  return variant === 'gpu' ? 'tensorflow' : 'tensorflow-cpu';
}

const NO_WHEEL_HINT = 'or pass --wheel FILE.whl';

/** Check that `python -m pip` works; throws the one-line error for each way it does not. */
export async function checkPip(run: CommandRunner, python: string): Promise<string> {
  const r = await run(python, ['-m', 'pip', '--version']);
  if (r.notFound) {
    throw new UserError(
      `${python} not found: bert setup tensorflow needs Python 3 with pip to download the TensorFlow wheel (install python3), ${NO_WHEEL_HINT}`,
    );
  }
  if (r.code !== 0) {
    const why = lastLine(r.stderr || r.stdout);
    if (/No module named pip/i.test(why)) {
      throw new UserError(
        `${python} has no pip (${why}): install it (python3 -m ensurepip, or apt install python3-pip), ${NO_WHEEL_HINT}`,
      );
    }
    throw new UserError(
      `${python} -m pip --version failed (${why || `exit ${r.code}`}), ${NO_WHEEL_HINT}`,
    );
  }
  return lastLine(r.stdout);
}

/** The one `.whl` pip left in `dir` for `distribution`; errors when there is none. */
export function pickDownloadedWheel(
  fileNames: readonly string[],
  distribution: string,
  dir: string,
): string {
  const prefix = distribution.replace(/[-.]/g, '_').toLowerCase() + '-';
  const wheels = fileNames
    .filter((n) => n.endsWith('.whl') && n.toLowerCase().startsWith(prefix))
    .sort();
  if (wheels.length === 0) {
    throw new UserError(
      `pip download ${distribution} left no ${prefix}*.whl in ${dir}, ${NO_WHEEL_HINT}`,
    );
  }
  return wheels[wheels.length - 1];
}

/**
 * Download the newest wheel of `distribution` (pinned by `version` when
 * given) into `dir` and return its path. Binary only: a source build of
 * TensorFlow is not something to start by accident.
 */
export async function downloadWheel(
  run: CommandRunner,
  python: string,
  distribution: string,
  dir: string,
  version?: string,
): Promise<string> {
  const spec = version ? `${distribution}==${version}` : distribution;
  const r = await run(python, [
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--only-binary=:all:',
    '--dest',
    dir,
    spec,
  ]);
  if (r.notFound) throw new UserError(`${python} not found, ${NO_WHEEL_HINT}`);
  if (r.code !== 0) {
    const why = lastLine(r.stderr || r.stdout);
    throw new UserError(
      `pip could not download ${spec} (${why || `exit ${r.code}`}), ${NO_WHEEL_HINT}`,
    );
  }
  const names = await readdir(dir).catch(() => [] as string[]);
  return join(dir, pickDownloadedWheel(names, distribution, dir));
}
