/**
 * TensorFlow wheel file names (PEP 427): which distribution, version and
 * platform a `.whl` holds, read from its name alone so a wrong file is
 * rejected before 270 MB are opened.
 */
import { basename } from 'node:path';
import { UserError } from '../errors.js';

export interface WheelInfo {
  /** Normalised distribution name: 'tensorflow', 'tensorflow_cpu', ... */
  distribution: string;
  version: string;
  buildTag: string | null;
  pythonTag: string;
  abiTag: string;
  /** e.g. 'manylinux_2_27_x86_64' (may be a '.'-joined set of tags). */
  platformTag: string;
}

/** The distributions whose wheels carry libtensorflow_cc / libtensorflow_framework. */
export const TENSORFLOW_DISTRIBUTIONS = [
  'tensorflow',
  'tensorflow_cpu',
  'tensorflow_gpu',
  'tf_nightly',
] as const;

/** Parse `name-ver(-build)?-py-abi-plat.whl`; null when the name is not a wheel name. */
export function parseWheelFileName(fileName: string): WheelInfo | null {
  const name = basename(fileName);
  if (!name.endsWith('.whl')) return null;
  const parts = name.slice(0, -'.whl'.length).split('-');
  if (parts.length !== 5 && parts.length !== 6) return null;
  const [distribution, version] = parts;
  const buildTag = parts.length === 6 ? parts[2] : null;
  const [pythonTag, abiTag, platformTag] = parts.slice(-3);
  if (!distribution || !/^\d+(\.\d+)*([a-z0-9.+]*)$/i.test(version)) return null;
  if (!pythonTag || !abiTag || !platformTag) return null;
  return {
    distribution: distribution.toLowerCase().replace(/[-_.]+/g, '_'),
    version,
    buildTag,
    pythonTag,
    abiTag,
    platformTag,
  };
}

/** Node's `process.arch` for the CPU a platform tag targets, or null when it names none we know. */
export function wheelArch(platformTag: string): 'x64' | 'arm64' | null {
  if (/x86_64|amd64/i.test(platformTag)) return 'x64';
  if (/aarch64|arm64/i.test(platformTag)) return 'arm64';
  return null;
}

/**
 * Parse and check that a wheel can feed the tfjs-node binding on this
 * machine: a TensorFlow distribution, built for Linux on this CPU. Throws a
 * one-line UserError naming the file otherwise.
 */
export function checkTensorflowWheel(
  fileName: string,
  host: { platform: string; arch: string } = process,
): WheelInfo {
  const info = parseWheelFileName(fileName);
  if (!info) {
    throw new UserError(
      `${fileName}: not a wheel file name (expected name-version-python-abi-platform.whl)`,
    );
  }
  if (!(TENSORFLOW_DISTRIBUTIONS as readonly string[]).includes(info.distribution)) {
    throw new UserError(
      `${fileName}: a '${info.distribution}' wheel, expected one of ${TENSORFLOW_DISTRIBUTIONS.join(', ')}`,
    );
  }
  if (host.platform !== 'linux') {
    throw new UserError(
      `bert setup tensorflow builds from Linux wheels only (this is ${host.platform}); see docs/tensorflow-backend.md`,
    );
  }
  if (!/linux/i.test(info.platformTag)) {
    throw new UserError(`${fileName}: built for '${info.platformTag}', expected a manylinux wheel`);
  }
  const arch = wheelArch(info.platformTag);
  if (arch !== host.arch) {
    throw new UserError(
      `${fileName}: built for ${arch ?? info.platformTag}, but this machine is ${host.arch}`,
    );
  }
  return info;
}

/** A warning when the wheel does not match the requested variant (it still works, just not as asked). */
export function variantWarning(info: WheelInfo, gpu: boolean): string | null {
  if (gpu && info.distribution === 'tensorflow_cpu') {
    return `warning: ${info.distribution} ${info.version} has no CUDA support; tfjs-node-gpu built on it runs on the CPU`;
  }
  return null;
}
