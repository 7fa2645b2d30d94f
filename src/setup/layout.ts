/**
 * The libtensorflow layout tfjs-node 4.22 expects in its `deps/` folder,
 * planned from a TensorFlow wheel's file listing (docs/tensorflow-backend.md):
 *
 *   lib/libtensorflow_cc.so.2, lib/libtensorflow_framework.so.2   (from the wheel)
 *   lib/libtensorflow.so{,.2,.2.9.1} -> libtensorflow_cc.so.2
 *   lib/libtensorflow_framework.so{,.2.9.1} -> libtensorflow_framework.so.2
 *   include/{tensorflow/c/**, tensorflow/core/platform/ctstring*.h,
 *            tsl/platform/ctstring*.h, xla/tsl/c/*.h}
 *
 * binding.gyp links `-ltensorflow -ltensorflow_framework`, and install.js
 * skips its CDN download when `lib/libtensorflow.so.2.9.1` exists — hence
 * the 2.9.1 names pointing at the 2.x libraries of the wheel.
 */
import { mkdir, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';

/** Where the wheel keeps the package (libraries at its top, headers under include/). */
const WHEEL_PACKAGE = 'tensorflow/';
const WHEEL_INCLUDE = 'tensorflow/include/';

export const LIBTENSORFLOW_CC = 'libtensorflow_cc.so.2';
export const LIBTENSORFLOW_FRAMEWORK = 'libtensorflow_framework.so.2';

/** The names the binding links and install.js checks, and what each points at. */
export const LIBRARY_LINKS: readonly LayoutLink[] = [
  { path: 'lib/libtensorflow.so', target: LIBTENSORFLOW_CC },
  { path: 'lib/libtensorflow.so.2', target: LIBTENSORFLOW_CC },
  { path: 'lib/libtensorflow.so.2.9.1', target: LIBTENSORFLOW_CC },
  { path: 'lib/libtensorflow_framework.so', target: LIBTENSORFLOW_FRAMEWORK },
  { path: 'lib/libtensorflow_framework.so.2.9.1', target: LIBTENSORFLOW_FRAMEWORK },
];

/** The file whose presence makes tfjs-node's install.js skip its download. */
export const INSTALL_SENTINEL = 'lib/libtensorflow.so.2.9.1';

/** Header paths (relative to the wheel's include/) the binding's sources reach. */
const HEADER_PATTERNS: readonly RegExp[] = [
  /^tensorflow\/c\/.+\.h$/,
  /^tensorflow\/core\/platform\/ctstring[^/]*\.h$/,
  /^tsl\/platform\/ctstring[^/]*\.h$/,
  /^xla\/tsl\/c\/[^/]+\.h$/,
];

/** Headers that must be there for binding.gyp to compile at all. */
const REQUIRED_HEADERS = ['tensorflow/c/c_api.h', 'tensorflow/c/eager/c_api.h'];

export interface LayoutFile {
  /** Path inside the wheel. */
  source: string;
  /** Path inside the layout (deps/). */
  target: string;
}

export interface LayoutLink {
  /** Path of the link inside the layout. */
  path: string;
  /** Link text (relative, so the layout can move). */
  target: string;
}

export interface LayoutPlan {
  files: LayoutFile[];
  links: LayoutLink[];
}

/**
 * Which wheel members become which layout files, and which links to add.
 * `wheelName` is only for the error message. Throws a UserError naming what
 * is missing when the listing is not a usable TensorFlow wheel.
 */
export function planLayout(listing: readonly string[], wheelName = 'wheel'): LayoutPlan {
  const names = new Set(listing);
  const missing = [LIBTENSORFLOW_CC, LIBTENSORFLOW_FRAMEWORK]
    .map((lib) => WHEEL_PACKAGE + lib)
    .filter((n) => !names.has(n));
  const headers = listing
    .filter((n) => n.startsWith(WHEEL_INCLUDE) && !n.endsWith('/'))
    .map((n) => n.slice(WHEEL_INCLUDE.length))
    .filter((rel) => HEADER_PATTERNS.some((re) => re.test(rel)))
    .sort();
  const headerSet = new Set(headers);
  missing.push(...REQUIRED_HEADERS.filter((h) => !headerSet.has(h)).map((h) => WHEEL_INCLUDE + h));
  if (missing.length) {
    throw new UserError(
      `${wheelName}: not a usable TensorFlow wheel, missing ${missing.join(', ')}`,
    );
  }
  return {
    files: [
      { source: WHEEL_PACKAGE + LIBTENSORFLOW_CC, target: 'lib/' + LIBTENSORFLOW_CC },
      { source: WHEEL_PACKAGE + LIBTENSORFLOW_FRAMEWORK, target: 'lib/' + LIBTENSORFLOW_FRAMEWORK },
      ...headers.map((rel) => ({ source: WHEEL_INCLUDE + rel, target: 'include/' + rel })),
    ],
    links: [...LIBRARY_LINKS],
  };
}

/** The directories a plan's files need, parents first. */
export function layoutDirectories(plan: LayoutPlan): string[] {
  const dirs = new Set<string>();
  for (const p of [...plan.files.map((f) => f.target), ...plan.links.map((l) => l.path)]) {
    const parts = p.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

/**
 * Create (or repair) the plan's symbolic links under `root`. A link that
 * already points at the right target is left alone; anything else at that
 * path is replaced.
 */
export async function createLinks(root: string, links: readonly LayoutLink[]): Promise<void> {
  for (const link of links) {
    const at = join(root, link.path);
    let current: string | null = null;
    try {
      current = await readlink(at);
    } catch {
      current = null;
    }
    if (current === link.target) continue;
    await rm(at, { force: true, recursive: true });
    await mkdir(join(at, '..'), { recursive: true });
    await symlink(link.target, at);
  }
}
