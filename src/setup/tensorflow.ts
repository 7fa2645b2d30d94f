/**
 * `bert setup tensorflow`: the native TensorFlow backend without Google's
 * CDN. Steps, each skipped when its result is already there:
 *
 *   1. a TensorFlow wheel (--wheel FILE, or pip download tensorflow-cpu / tensorflow)
 *   2. its libraries and headers laid out as tfjs-node's deps/, in the cache
 *   3. @tensorflow/tfjs-node(-gpu) installed without its download script
 *   4. deps/ linked to the cached layout
 *   5. the addon compiled against it (once; cached, then copied back)
 *   6. a child Node loads it on the project's tfjs-core and computes
 *
 * docs/tensorflow-backend.md says what each step does and where it puts things.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { writeDirAtomic, writeJsonAtomic } from '../io/atomic.js';
import {
  addonCachePath,
  cacheRoot,
  entryDir,
  findCachedLayout,
  MANIFEST_FILE,
  type CacheHit,
  type LayoutManifest,
  type Variant,
} from './cache.js';
import { runCommand, type CommandRunner } from './commands.js';
import { createLinks, layoutDirectories, planLayout } from './layout.js';
import { checkPip, downloadWheel, wheelDistribution } from './pip.js';
import {
  addonTarget,
  compileAddon,
  copyAtomic,
  installedVersion,
  installPackage,
  linkDeps,
  packageDir,
  packageFor,
  removeIfUnbuilt,
  removePackages,
  sameFile,
  wantedVersion,
  type TfjsNodePackage,
} from './tfjs-node.js';
import { verifyBackend, type VerifyReport } from './verify.js';
import { checkTensorflowWheel, variantWarning } from './wheel.js';
import { extractZipEntry, readZipEntries } from './zip.js';

export interface SetupTensorflowOptions {
  /** A TensorFlow wheel to build from instead of downloading one. */
  wheel?: string;
  /** Build tfjs-node-gpu against the `tensorflow` (CUDA) wheel. */
  gpu?: boolean;
  /** Cache root; default $BERT_CACHE_DIR, $XDG_CACHE_HOME/bert or ~/.cache/bert. */
  cacheDir?: string;
  /** Rebuild the layout and the addon even when cached. */
  force?: boolean;
  /** Progress lines. */
  log: (line: string) => void;
  /** The project whose node_modules gets tfjs-node; default: this package's root. */
  projectDir?: string;
  /** Python used for pip (default python3). */
  python?: string;
  /** Skip the final child-process check (tests). */
  verify?: boolean;
  /** Replaces spawning real tools (tests). */
  run?: CommandRunner;
}

export interface SetupTensorflowResult {
  variant: Variant;
  package: TfjsNodePackage;
  packageVersion: string;
  tensorflowVersion: string;
  /** The cache entry holding the layout and the compiled addon. */
  layoutDir: string;
  addonPath: string;
  /** True when nothing had to be built, installed or linked. */
  alreadySetUp: boolean;
  seconds: number;
  verified: VerifyReport | null;
}

const MB = 1024 * 1024;
const mb = (bytes: number): string => `${Math.round(bytes / MB)} MB`;
const secondsSince = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

/**
 * Extract the layout planned from `wheelPath` into the cache entry `dir`,
 * atomically: a crash leaves no half-built entry that looks complete.
 */
export async function buildLayout(
  wheelPath: string,
  dir: string,
  variant: Variant,
  tensorflowVersion: string,
  log: (line: string) => void,
): Promise<LayoutManifest> {
  const entries = await readZipEntries(wheelPath);
  const plan = planLayout(
    entries.map((e) => e.name),
    basename(wheelPath),
  );
  const byName = new Map(entries.map((e) => [e.name, e]));
  const total = plan.files.reduce((s, f) => s + (byName.get(f.source)?.size ?? 0), 0);
  log(`extracting ${plan.files.length} files (${mb(total)}) from ${basename(wheelPath)}`);
  let manifest: LayoutManifest | null = null;
  await rm(dir, { recursive: true, force: true });
  await writeDirAtomic(dir, async (tmp) => {
    for (const d of layoutDirectories(plan)) await mkdir(join(tmp, d), { recursive: true });
    let headers = 0;
    const libraries: Record<string, number> = {};
    for (const file of plan.files) {
      const entry = byName.get(file.source);
      if (!entry) throw new UserError(`${wheelPath}: ${file.source} disappeared from the listing`);
      if (entry.size > 10 * MB) {
        const t0 = Date.now();
        log(`  ${file.target} (${mb(entry.size)})...`);
        await extractZipEntry(wheelPath, entry, join(tmp, file.target));
        log(`  ${file.target} done in ${secondsSince(t0)}`);
      } else {
        await extractZipEntry(wheelPath, entry, join(tmp, file.target));
      }
      if (file.target.startsWith('include/')) headers++;
      else libraries[basename(file.target)] = entry.size;
    }
    await createLinks(tmp, plan.links);
    manifest = {
      format: 1,
      variant,
      tensorflowVersion,
      wheel: basename(wheelPath),
      libraries,
      headers,
      created: new Date().toISOString(),
    };
    // Written last: readCompleteLayout trusts an entry only once this exists.
    await writeJsonAtomic(join(tmp, MANIFEST_FILE), manifest);
  });
  if (!manifest) throw new Error('layout manifest was not written');
  return manifest;
}

/** Steps 1-2: a complete layout in the cache, from the cache itself when possible. */
async function obtainLayout(
  options: SetupTensorflowOptions,
  root: string,
  variant: Variant,
  run: CommandRunner,
): Promise<{ hit: CacheHit; built: boolean }> {
  const { log, force = false } = options;
  let wheelPath: string;
  let downloaded: string | null = null;
  if (options.wheel) {
    wheelPath = resolve(options.wheel);
    const info = checkTensorflowWheel(wheelPath);
    if (!existsSync(wheelPath)) throw new UserError(`--wheel ${options.wheel}: no such file`);
    const hit = force ? null : await findCachedLayout(root, variant, info.version);
    if (hit) return { hit, built: false };
  } else {
    const hit = force ? null : await findCachedLayout(root, variant);
    if (hit) return { hit, built: false };
    const python = options.python ?? 'python3';
    const pip = await checkPip(run, python);
    const distribution = wheelDistribution(variant);
    const downloads = join(root, 'downloads');
    await rm(downloads, { recursive: true, force: true });
    await mkdir(downloads, { recursive: true });
    log(
      `downloading the ${distribution} wheel with ${pip.split(' from ')[0]} (pip's configured index)...`,
    );
    const t0 = Date.now();
    wheelPath = await downloadWheel(run, python, distribution, downloads);
    downloaded = wheelPath;
    log(`  ${basename(wheelPath)} (${mb((await stat(wheelPath)).size)}) in ${secondsSince(t0)}`);
  }
  try {
    const info = checkTensorflowWheel(wheelPath);
    const warning = variantWarning(info, variant === 'gpu');
    if (warning) log(warning);
    const dir = entryDir(root, info.version, variant);
    const t0 = Date.now();
    const manifest = await buildLayout(wheelPath, dir, variant, info.version, log);
    log(`libtensorflow ${info.version} (${variant}) laid out in ${dir} in ${secondsSince(t0)}`);
    return { hit: { dir, manifest }, built: true };
  } finally {
    // The layout is what is cached; the 270 MB wheel pip fetched is not worth keeping too.
    if (downloaded) await rm(dirname(downloaded), { recursive: true, force: true });
  }
}

/**
 * Build (or re-link) the native TensorFlow backend for this project. After
 * it returns, `selectBackend('auto')` picks 'tensorflow'. Throws one-line
 * UserErrors: no python3, no pip, no wheel, not a TensorFlow wheel, npm
 * failure, compile error (with the log's path), a backend that does not load.
 */
export async function setupTensorflow(
  options: SetupTensorflowOptions,
): Promise<SetupTensorflowResult> {
  const started = Date.now();
  const { log, force = false } = options;
  const run = options.run ?? runCommand;
  const variant: Variant = options.gpu ? 'gpu' : 'cpu';
  const projectDir = options.projectDir ?? packageRoot;
  const root = cacheRoot(options.cacheDir);
  const pkg = packageFor(variant);
  const pkgVersion = await wantedVersion(projectDir, pkg);
  if (process.platform !== 'linux') {
    throw new UserError(
      `bert setup tensorflow builds from Linux wheels only (this is ${process.platform}); see docs/tensorflow-backend.md`,
    );
  }

  const { hit, built } = await obtainLayout(options, root, variant, run);
  const tfVersion = hit.manifest.tensorflowVersion;
  if (!built) log(`libtensorflow ${tfVersion} (${variant}) found in the cache: ${hit.dir}`);

  let changed = built;
  const pkgDir = packageDir(projectDir, pkg);
  if ((await installedVersion(projectDir, pkg)) !== pkgVersion || force) {
    log(
      `installing ${pkg}@${pkgVersion} without its download script (npm install --no-save --ignore-scripts)...`,
    );
    const t0 = Date.now();
    const added = await installPackage(run, projectDir, pkg, pkgVersion);
    log(`  added ${added.length} packages in ${secondsSince(t0)}`);
    changed = true;
  }
  const other = packageFor(variant === 'cpu' ? 'gpu' : 'cpu');
  if (await removeIfUnbuilt(projectDir, other)) {
    log(`removed ${other} (installed alongside by npm, without an addon it would shadow ${pkg})`);
  }
  if (await linkDeps(pkgDir, hit.dir)) {
    log(`linked ${pkgDir}/deps -> ${hit.dir}`);
    changed = true;
  }

  const target = await addonTarget(pkgDir);
  const cachedAddon = addonCachePath(hit.dir, pkg, pkgVersion, target.napiVersion);
  if (force || built || !existsSync(cachedAddon)) {
    const logFile = join(hit.dir, 'build.log');
    log(`compiling the ${pkg} addon against libtensorflow ${tfVersion} (log: ${logFile})...`);
    const t0 = Date.now();
    await rm(target.path, { force: true });
    await compileAddon(run, pkgDir, logFile);
    if (!existsSync(target.path)) {
      throw new UserError(
        `the compile finished but left no addon at ${target.path}; full log: ${logFile}`,
      );
    }
    await copyAtomic(target.path, cachedAddon);
    log(`  compiled in ${secondsSince(t0)}, cached as ${cachedAddon}`);
    changed = true;
  } else if (!(await sameFile(cachedAddon, target.path))) {
    await copyAtomic(cachedAddon, target.path);
    log(`addon restored from the cache: ${cachedAddon}`);
    changed = true;
  }

  let verified: VerifyReport | null = null;
  if (options.verify !== false) {
    verified = await verifyBackend(run, projectDir, pkg);
    log(`checked: ${pkg} runs on the project's @tensorflow/tfjs-core (${verified.corePath})`);
  }
  const seconds = (Date.now() - started) / 1000;
  log(
    changed
      ? `tensorflow backend ready in ${seconds.toFixed(1)} s: --backend auto now picks it`
      : `already set up (libtensorflow ${tfVersion}, ${pkg}@${pkgVersion}); nothing to do`,
  );
  return {
    variant,
    package: pkg,
    packageVersion: pkgVersion,
    tensorflowVersion: tfVersion,
    layoutDir: hit.dir,
    addonPath: target.path,
    alreadySetUp: !changed,
    seconds,
    verified,
  };
}

/**
 * Undo the node_modules side of setup (the cache stays, so a later setup
 * only re-links). Returns the removed package folders.
 */
export async function removeTensorflow(options: {
  projectDir?: string;
  log: (line: string) => void;
}): Promise<string[]> {
  const projectDir = options.projectDir ?? packageRoot;
  const removed = await removePackages(projectDir);
  options.log(
    removed.length
      ? `removed ${removed.length} packages from node_modules (${removed.slice(0, 3).join(', ')}${removed.length > 3 ? ', ...' : ''}); the cache is kept`
      : 'no tfjs-node package in node_modules; nothing to remove',
  );
  return removed;
}
