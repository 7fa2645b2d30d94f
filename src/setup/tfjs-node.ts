/**
 * The tfjs-node package side of setup: install the JavaScript package
 * without its download script, point its `deps/` at a cached layout, and
 * compile (or re-link) its native addon against that layout.
 */
import {
  copyFile,
  lstat,
  mkdir,
  readFile,
  readdir,
  readlink,
  rename,
  rm,
  stat,
  symlink,
} from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { UserError } from '../errors.js';
import { tempSibling, writeJsonAtomic } from '../io/atomic.js';
import { lastLine, type CommandRunner } from './commands.js';
import type { Variant } from './cache.js';

export type TfjsNodePackage = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';

/** The version this project's tfjs-core expects; package.json's optionalDependencies pin the same. */
export const DEFAULT_TFJS_NODE_VERSION = '4.22.0';

/** Where setup records what its `npm install` added, so `--remove` can take exactly that away. */
export const INSTALL_RECORD = '.bert-setup-tensorflow.json';

export function packageFor(variant: Variant): TfjsNodePackage {
  return variant === 'gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
}

export function packageDir(projectDir: string, pkg: TfjsNodePackage): string {
  return join(projectDir, 'node_modules', pkg);
}

/** The version of `pkg` the project's package.json asks for (exact pins only), else the default. */
export async function wantedVersion(projectDir: string, pkg: TfjsNodePackage): Promise<string> {
  try {
    const json = JSON.parse(await readFile(join(projectDir, 'package.json'), 'utf8')) as {
      optionalDependencies?: Record<string, string>;
      dependencies?: Record<string, string>;
    };
    const v = json.optionalDependencies?.[pkg] ?? json.dependencies?.[pkg];
    if (v && /^\d+\.\d+\.\d+$/.test(v)) return v;
  } catch {
    // No readable package.json: fall back to the version this code was written against.
  }
  return DEFAULT_TFJS_NODE_VERSION;
}

export async function installedVersion(
  projectDir: string,
  pkg: TfjsNodePackage,
): Promise<string | null> {
  try {
    const json = JSON.parse(
      await readFile(join(packageDir(projectDir, pkg), 'package.json'), 'utf8'),
    ) as {
      version?: string;
    };
    return json.version ?? null;
  } catch {
    return null;
  }
}

/** Top-level package folders under node_modules ('name' and '@scope/name'). */
export async function listTopLevelPackages(projectDir: string): Promise<Set<string>> {
  const root = join(projectDir, 'node_modules');
  const found = new Set<string>();
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      for (const sub of await readdir(join(root, name)).catch(() => [] as string[]))
        found.add(`${name}/${sub}`);
    } else {
      found.add(name);
    }
  }
  return found;
}

interface InstallRecord {
  added: string[];
}

async function readInstallRecord(projectDir: string): Promise<InstallRecord> {
  try {
    const r = JSON.parse(
      await readFile(join(projectDir, 'node_modules', INSTALL_RECORD), 'utf8'),
    ) as InstallRecord;
    return { added: Array.isArray(r.added) ? r.added.filter((a) => typeof a === 'string') : [] };
  } catch {
    return { added: [] };
  }
}

/**
 * `npm install --no-save --ignore-scripts pkg@version` in the project: the
 * package's install script would try the unreachable CDN, and --no-save
 * leaves package.json and the lock file as they are. Records the top-level
 * packages it added.
 */
export async function installPackage(
  run: CommandRunner,
  projectDir: string,
  pkg: TfjsNodePackage,
  version: string,
  npm = 'npm',
): Promise<string[]> {
  const before = await listTopLevelPackages(projectDir);
  const r = await run(
    npm,
    ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `${pkg}@${version}`],
    { cwd: projectDir },
  );
  if (r.notFound)
    throw new UserError(`${npm} not found: bert setup tensorflow installs ${pkg} with npm`);
  if (r.code !== 0) {
    throw new UserError(
      `npm install ${pkg}@${version} failed (${lastLine(r.stderr || r.stdout) || `exit ${r.code}`})`,
    );
  }
  const after = await listTopLevelPackages(projectDir);
  const added = [...after].filter((p) => !before.has(p)).sort();
  const record = await readInstallRecord(projectDir);
  await writeJsonAtomic(join(projectDir, 'node_modules', INSTALL_RECORD), {
    added: [...new Set([...record.added, ...added])].sort(),
  });
  return added;
}

/**
 * Take the tfjs-node packages (and whatever setup's npm install added with
 * them) out of node_modules, so `auto` no longer finds the native backend.
 * The cache is kept. Returns what was removed.
 */
export async function removePackages(projectDir: string): Promise<string[]> {
  const record = await readInstallRecord(projectDir);
  const targets = [
    ...new Set<string>(['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', ...record.added]),
  ];
  const removed: string[] = [];
  for (const p of targets) {
    const at = join(projectDir, 'node_modules', p);
    if (existsSync(at)) {
      await rm(at, { recursive: true, force: true });
      removed.push(p);
    }
  }
  await rm(join(projectDir, 'node_modules', INSTALL_RECORD), { force: true });
  return removed;
}

/**
 * npm installs both optional tfjs-node packages together. One without a
 * compiled addon would be tried first by `--backend auto` (the GPU package
 * comes first), half-register its kernels and fail, so it is removed.
 * Returns true when it removed `pkg`.
 */
export async function removeIfUnbuilt(projectDir: string, pkg: TfjsNodePackage): Promise<boolean> {
  const dir = packageDir(projectDir, pkg);
  if (!existsSync(join(dir, 'package.json'))) return false;
  try {
    if (existsSync((await addonTarget(dir)).path)) return false;
  } catch {
    // An unreadable package.json is no usable package either.
  }
  await rm(dir, { recursive: true, force: true });
  return true;
}

/**
 * Make `<package>/deps` a link to the cached layout. Returns false when it
 * already was one (nothing to do).
 */
export async function linkDeps(pkgDir: string, layoutDir: string): Promise<boolean> {
  const deps = join(pkgDir, 'deps');
  try {
    if ((await lstat(deps)).isSymbolicLink() && (await readlink(deps)) === layoutDir) return false;
  } catch {
    // Not there yet.
  }
  await rm(deps, { recursive: true, force: true });
  await symlink(layoutDir, deps, 'dir');
  return true;
}

/** node-pre-gyp's choice: the highest N-API version the package lists that this Node supports. */
export function napiBuildVersion(
  packageNapiVersions: readonly number[],
  nodeNapiVersion: number,
): number {
  const usable = packageNapiVersions.filter((v) => v <= nodeNapiVersion);
  if (usable.length === 0) {
    throw new UserError(
      `this Node supports N-API ${nodeNapiVersion}, tfjs-node needs one of ${packageNapiVersions.join(', ')}`,
    );
  }
  return Math.max(...usable);
}

export interface AddonTarget {
  napiVersion: number;
  /** Where tfjs-node loads its addon from. */
  path: string;
}

/** Where the package will look for its compiled addon, from its package.json `binary` block. */
export async function addonTarget(pkgDir: string): Promise<AddonTarget> {
  const json = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as {
    binary?: { module_name?: string; module_path?: string; napi_versions?: number[] };
  };
  const b = json.binary ?? {};
  const napiVersion = napiBuildVersion(b.napi_versions ?? [8], Number(process.versions.napi));
  const modulePath = (b.module_path ?? './lib/napi-v{napi_build_version}').replace(
    '{napi_build_version}',
    String(napiVersion),
  );
  return { napiVersion, path: join(pkgDir, modulePath, `${b.module_name ?? 'tfjs_binding'}.node`) };
}

/**
 * Node's own headers for node-gyp: beside the running node (`<prefix>/include/node`),
 * so node-gyp does not try to download them. Null when they are not there.
 */
export function nodeHeadersDir(execPath: string = process.execPath): string | null {
  const prefix = dirname(dirname(execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

/**
 * Compile the addon in the package folder with node-pre-gyp (which drives
 * node-gyp) against `deps/`. Output goes to `logFile`; a failure is one line
 * naming it.
 */
export async function compileAddon(
  run: CommandRunner,
  pkgDir: string,
  logFile: string,
): Promise<void> {
  let preGyp: string;
  try {
    const req = createRequire(join(pkgDir, 'package.json'));
    preGyp = join(dirname(req.resolve('@mapbox/node-pre-gyp/package.json')), 'bin', 'node-pre-gyp');
  } catch {
    throw new UserError(
      `@mapbox/node-pre-gyp is not installed beside ${pkgDir} (re-run with --force)`,
    );
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  const headers = nodeHeadersDir();
  if (headers) env.npm_config_nodedir = headers;
  await rm(logFile, { force: true });
  const r = await run(process.execPath, [preGyp, 'install', '--build-from-source'], {
    cwd: pkgDir,
    env,
    logFile,
  });
  if (r.code !== 0) {
    const why = compileErrorLine(r.stderr + '\n' + r.stdout) || `exit ${r.code}`;
    throw new UserError(`compiling the tfjs-node addon failed (${why}); full log: ${logFile}`);
  }
}

/**
 * The line of a node-gyp log that says what went wrong: the compiler's or
 * linker's first `error:` (a missing header, an undefined symbol), else
 * gyp's own first complaint, else the last line.
 */
export function compileErrorLine(log: string): string {
  const lines = log.split('\n').map((l) => l.trim());
  const compiler = lines.find(
    (l) => /\berror:|undefined reference|cannot find -l/i.test(l) && !l.startsWith('gyp'),
  );
  const gyp =
    lines.find((l) => /^gyp ERR! (stack )?\w*Error/.test(l)) ??
    lines.find((l) => l.startsWith('gyp ERR!'));
  return lastLine(compiler ?? gyp ?? log);
}

/** Copy `from` to `to` through a temporary sibling, so a reader never sees half an addon. */
export async function copyAtomic(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const tmp = tempSibling(to);
  try {
    await copyFile(from, tmp);
    await rename(tmp, to);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** True when both files exist with the same size and bytes. */
export async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    if (sa.size !== sb.size) return false;
    const [ba, bb] = await Promise.all([readFile(a), readFile(b)]);
    return ba.equals(bb);
  } catch {
    return false;
  }
}
