/**
 * The cache of built libtensorflow layouts and compiled addons, outside
 * node_modules so that `npm ci` (which wipes node_modules) costs a re-link,
 * not a rebuild:
 *
 *   <cache>/tfjs-node/<tf-version>-<cpu|gpu>/
 *     lib/, include/          the layout tfjs-node's deps/ points at
 *     bert-setup.json         manifest, written last: its presence = complete
 *     addon/<package>-<version>/napi-v<N>/tfjs_binding.node
 *     build.log               the last addon compile's output
 *
 * <cache> is `cacheDir`, else $BERT_CACHE_DIR, else $XDG_CACHE_HOME/bert,
 * else ~/.cache/bert.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LIBTENSORFLOW_CC, LIBTENSORFLOW_FRAMEWORK } from './layout.js';

export type Variant = 'cpu' | 'gpu';

export const MANIFEST_FILE = 'bert-setup.json';

export interface LayoutManifest {
  /** Format of this file; bump when the layout changes so old entries rebuild. */
  format: 1;
  variant: Variant;
  tensorflowVersion: string;
  /** The wheel it was built from (file name only). */
  wheel: string;
  /** Sizes of the two libraries, to notice a truncated or replaced copy. */
  libraries: Record<string, number>;
  headers: number;
  created: string;
}

/** The cache root (`<cache>` above) for the given option and environment. */
export function cacheRoot(
  cacheDir: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  if (cacheDir) return cacheDir;
  if (env.BERT_CACHE_DIR) return env.BERT_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'bert');
  return join(home, '.cache', 'bert');
}

export function entryName(tensorflowVersion: string, variant: Variant): string {
  return `${tensorflowVersion}-${variant}`;
}

export function entryDir(root: string, tensorflowVersion: string, variant: Variant): string {
  return join(root, 'tfjs-node', entryName(tensorflowVersion, variant));
}

/** Where the compiled addon for one tfjs-node package version is kept. */
export function addonCachePath(
  entry: string,
  pkg: string,
  pkgVersion: string,
  napiVersion: number,
): string {
  return join(
    entry,
    'addon',
    `${pkg.replace(/^@tensorflow\//, '')}-${pkgVersion}`,
    `napi-v${napiVersion}`,
    'tfjs_binding.node',
  );
}

/** Compare dotted versions numerically ('2.10.0' > '2.9.1'); suffixes compare as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    const d = !Number.isNaN(nx) && !Number.isNaN(ny) ? nx - ny : x.localeCompare(y);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * From the entry names in `<cache>/tfjs-node/`, the TensorFlow versions built
 * for `variant` (newest first), restricted to `version` when given.
 */
export function candidateVersions(
  entryNames: readonly string[],
  variant: Variant,
  version?: string,
): string[] {
  const suffix = `-${variant}`;
  return entryNames
    .filter((n) => n.endsWith(suffix) && !n.startsWith('.'))
    .map((n) => n.slice(0, -suffix.length))
    .filter((v) => v.length > 0 && (version === undefined || v === version))
    .sort((a, b) => compareVersions(b, a));
}

/** Parse a manifest, or null when it is not one this version of bert wrote. */
export function parseManifest(text: string): LayoutManifest | null {
  try {
    const m = JSON.parse(text) as Partial<LayoutManifest>;
    if (m.format !== 1 || (m.variant !== 'cpu' && m.variant !== 'gpu')) return null;
    if (typeof m.tensorflowVersion !== 'string' || typeof m.wheel !== 'string') return null;
    if (!m.libraries || typeof m.libraries !== 'object') return null;
    return m as LayoutManifest;
  } catch {
    return null;
  }
}

/**
 * A complete cached layout: its manifest parses and both libraries have the
 * sizes it recorded. Returns the manifest, or null on any miss.
 */
export async function readCompleteLayout(entry: string): Promise<LayoutManifest | null> {
  let manifest: LayoutManifest | null;
  try {
    manifest = parseManifest(await readFile(join(entry, MANIFEST_FILE), 'utf8'));
  } catch {
    return null;
  }
  if (!manifest) return null;
  for (const lib of [LIBTENSORFLOW_CC, LIBTENSORFLOW_FRAMEWORK]) {
    const expected = manifest.libraries[lib];
    try {
      const s = await stat(join(entry, 'lib', lib));
      if (!s.isFile() || s.size !== expected) return null;
    } catch {
      return null;
    }
  }
  return manifest;
}

export interface CacheHit {
  dir: string;
  manifest: LayoutManifest;
}

/** The newest complete cached layout for `variant` (and `version`, when given), or null. */
export async function findCachedLayout(
  root: string,
  variant: Variant,
  version?: string,
): Promise<CacheHit | null> {
  let names: string[];
  try {
    names = await readdir(join(root, 'tfjs-node'));
  } catch {
    return null;
  }
  for (const v of candidateVersions(names, variant, version)) {
    const dir = entryDir(root, v, variant);
    const manifest = await readCompleteLayout(dir);
    if (manifest) return { dir, manifest };
  }
  return null;
}
