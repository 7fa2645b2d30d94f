/**
 * Run directories: runs/<name>/ with config.resolved.yaml, run.json,
 * metrics.jsonl and checkpoints/. What a writer may do to them:
 *
 * - A run directory is never the working directory, the runs root, the home
 *   directory, the package, or above any of them (`checkRunPath`), so no
 *   name or --run, with or without --force, can reach outside the run.
 * - One writer at a time (run-lock.ts); a start puts what a kill left in
 *   order (`sweepCheckpoints`, hidden temporaries).
 * - An existing run is never clobbered without --force; --force replaces
 *   only a bert run, and only when the new run is about to write: until
 *   `replaceOld()` the new run's files go to a hidden staging directory
 *   beside it, and a command that fails before then leaves the old run as
 *   it was.
 */
import { existsSync, readdirSync, realpathSync, renameSync, statSync } from 'node:fs';
import { mkdir, rm, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { createRequire } from 'node:module';
import { stringify as toYaml } from 'yaml';
import { UserError } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { packageRoot } from '../paths.js';
import type { BackendChoice } from '../backend/select.js';
import { lockRunDir, type RunLock } from './run-lock.js';
import { sweepCheckpoints } from './checkpoint.js';

export type RunMode = 'new' | 'force' | 'resume';

export interface RunInfo {
  command: string;
  argv: string[];
  started: string;
  ended?: string;
  status?: string;
  backend: { name: string; attempts: BackendChoice['attempts']; threads: number | null } | null;
  versions: Record<string, string>;
  git_sha: string | null;
  host: { platform: string; arch: string; cpus: number };
}

/** The real path of `path`, following links in the part of it that exists. */
function realish(path: string): string {
  let head = path;
  const tail: string[] = [];
  while (!existsSync(head)) {
    const up = dirname(head);
    if (up === head) break;
    tail.unshift(basename(head));
    head = up;
  }
  return join(existsSync(head) ? realpathSync(head) : head, ...tail);
}

function isSameOrAbove(dir: string, other: string): boolean {
  return dir === other || other.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * The absolute path of run directory `dir`, or a UserError when it is, or
 * contains, the working directory, the runs root, the home directory or the
 * package, or has a hidden name (kept for bert's caches and temporaries).
 */
export function checkRunPath(dir: string): string {
  const path = resolve(dir);
  const real = realish(path);
  const protectedDirs: Array<[string, string]> = [
    [process.cwd(), 'the working directory'],
    [resolve('runs'), 'the runs root'],
    [os.homedir(), 'the home directory'],
    [packageRoot, 'the bert package'],
  ];
  for (const [p, what] of protectedDirs) {
    if (isSameOrAbove(real, realish(p))) {
      throw new UserError(
        `${dir}: not usable as a run directory (it is or contains ${what}); give the run a directory of its own, e.g. runs/<name>`,
      );
    }
  }
  if (basename(path).startsWith('.')) {
    throw new UserError(
      `${dir}: not usable as a run directory (hidden names are kept for bert's caches and temporaries); choose another name`,
    );
  }
  return path;
}

/** Whether `dir` holds a bert run (what --force may replace). */
function isRunDir(dir: string): boolean {
  return ['run.json', 'config.resolved.yaml', 'metrics.jsonl', 'checkpoints', 'run.lock'].some(
    (f) => existsSync(join(dir, f)),
  );
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code !== 'ESRCH';
  }
}

/** Hidden siblings of run `path` made by --force: the new run being staged, the old one being removed. */
const STAGING = (base: string): RegExp =>
  new RegExp(
    `^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(replacing|replaced)-(\\d+)-[0-9a-f]+$`,
  );

/**
 * Put right what a killed --force left beside run `path`: an old run set
 * aside but not yet deleted comes back if the new one never took its place,
 * else it is deleted; an abandoned staging directory is deleted.
 */
async function sweepForceLeftovers(path: string): Promise<string[]> {
  const parent = dirname(path);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) return [];
  const pattern = STAGING(basename(path));
  const found = readdirSync(parent)
    .map((name) => ({ name, m: pattern.exec(name) }))
    .filter((x) => x.m && !pidAlive(Number(x.m[2])));
  const notes: string[] = [];
  // The old run first: it may need to come back before staging leftovers go.
  for (const { name } of found.filter((x) => x.m![1] === 'replaced')) {
    const aside = join(parent, name);
    if (!existsSync(path)) {
      renameSync(aside, path);
      notes.push(
        `${path}: restored the old run (a --force was interrupted before the new run took its place)`,
      );
    } else {
      await rm(aside, { recursive: true, force: true });
    }
  }
  for (const { name } of found.filter((x) => x.m![1] === 'replacing')) {
    await rm(join(parent, name), { recursive: true, force: true });
  }
  return notes;
}

/** Hidden temporaries of atomic writes in the run directory itself (run.json, config, lock). */
async function sweepRunTemporaries(path: string): Promise<void> {
  for (const name of readdirSync(path)) {
    if (name.startsWith('.') && name.includes('.tmp-'))
      await rm(join(path, name), { recursive: true, force: true });
  }
}

/** A run directory held by this process as its one writer. */
export interface RunClaim {
  /** The run directory (absolute). */
  readonly path: string;
  /** Where the run's files go now: `path`, or the staging directory of a --force replacement until `replaceOld()`. */
  readonly writeDir: string;
  /** What was found and put right (stale lock, leftovers of a kill), one line each. */
  readonly notes: string[];
  /** --force: the old run is deleted and the staged one takes its place (idempotent, synchronous). */
  replaceOld(): void;
  /** Release the lock; an unfinished --force replacement is dropped, the old run left as it was. */
  release(): Promise<void>;
}

/**
 * Claim run directory `dir` for writing: check the path, sweep leftovers,
 * take the lock, create (new), reuse (--resume) or stage a replacement
 * (--force over an existing run). Returns the claim; see RunClaim.
 */
export async function claimRunDir(dir: string, mode: RunMode, command: string): Promise<RunClaim> {
  const path = checkRunPath(dir);
  const notes = await sweepForceLeftovers(path);
  const exists = existsSync(path);
  if (exists && !statSync(path).isDirectory()) {
    throw new UserError(`${dir}: exists and is not a directory`);
  }
  const nonEmpty = exists && readdirSync(path).length > 0;
  const simple = async (): Promise<RunClaim> => {
    await mkdir(path, { recursive: true });
    const lock = await lockRunDir(path, command);
    if (lock.note) notes.push(lock.note);
    await sweepRunTemporaries(path);
    for (const line of await sweepCheckpoints(path)) notes.push(`checkpoints: ${line}`);
    return {
      path,
      writeDir: path,
      notes,
      replaceOld: () => undefined,
      release: () => lock.release(),
    };
  };
  if (mode === 'resume') {
    if (!nonEmpty) throw new UserError(`--resume ${dir}: no such run (nothing to resume)`);
    return simple();
  }
  if (!nonEmpty) return simple();
  if (mode !== 'force') {
    // Only pretrain has --resume: the hint names it only there.
    const resume = command === 'pretrain' ? 'pass --resume to continue it or ' : 'pass ';
    throw new UserError(`${dir}: run directory already exists; ${resume}--force to replace it`);
  }
  if (!isRunDir(path)) {
    throw new UserError(
      `${dir}: not a bert run (no run.json, config.resolved.yaml, metrics.jsonl or checkpoints/); --force replaces only runs, so move it away yourself or choose another directory`,
    );
  }
  return stageReplacement(path, command, notes);
}

async function stageReplacement(path: string, command: string, notes: string[]): Promise<RunClaim> {
  // Hold the old run's lock (no one may be writing it) until it is gone.
  const oldLock: RunLock = await lockRunDir(path, command);
  if (oldLock.note) notes.push(oldLock.note);
  const sibling = (what: string): string =>
    join(
      dirname(path),
      `.${basename(path)}.${what}-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
  const staging = sibling('replacing');
  let newLock: RunLock;
  try {
    await mkdir(staging);
    newLock = await lockRunDir(staging, command);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    await oldLock.release();
    throw err;
  }
  let replaced = false;
  let removal: Promise<void> = Promise.resolve();
  return {
    path,
    get writeDir() {
      return replaced ? path : staging;
    },
    notes,
    replaceOld() {
      if (replaced) return;
      const aside = sibling('replaced');
      // Two renames; a kill between them is undone by sweepForceLeftovers (the old run comes back).
      renameSync(path, aside);
      oldLock.moved(aside);
      renameSync(staging, path);
      newLock.moved(path);
      replaced = true;
      removal = rm(aside, { recursive: true, force: true });
    },
    async release() {
      if (replaced) {
        await removal;
        await oldLock.release(); // gone with the old run; this only drops its exit hook
        await newLock.release();
      } else {
        await rm(staging, { recursive: true, force: true });
        await oldLock.release();
      }
    },
  };
}

function gitSha(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: packageRoot,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

const require = createRequire(import.meta.url);

export function packageVersion(name: string): string | null {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

export function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.versions.node };
  out.bert = (require(join(packageRoot, 'package.json')) as { version: string }).version;
  for (const pkg of [
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-node',
  ]) {
    const v = packageVersion(pkg);
    if (v) out[pkg] = v;
  }
  return out;
}

export function runInfo(command: string, argv: string[], backend: BackendChoice | null): RunInfo {
  return {
    command,
    argv,
    started: new Date().toISOString(),
    backend: backend
      ? { name: backend.backend, attempts: backend.attempts, threads: backend.threads }
      : null,
    versions: versions(),
    git_sha: gitSha(),
    host: { platform: process.platform, arch: process.arch, cpus: availableCores() },
  };
}

export function availableCores(): number {
  return os.availableParallelism();
}

/** Save the resolved config and run.json (atomically). On resume, run.json gains a `resumes` entry. */
export async function writeRunFiles(
  runDir: string,
  config: unknown,
  info: RunInfo,
  mode: RunMode,
): Promise<void> {
  const header = `# Resolved config of this run (file + --set + flags, defaults filled in).\n`;
  await writeFileAtomic(join(runDir, 'config.resolved.yaml'), header + toYaml(config));
  const runJson = join(runDir, 'run.json');
  if (mode === 'resume' && existsSync(runJson)) {
    const prev = JSON.parse(await readFile(runJson, 'utf8')) as RunInfo & { resumes?: RunInfo[] };
    prev.resumes = [...(prev.resumes ?? []), info];
    await writeJsonAtomic(runJson, prev);
  } else {
    await writeJsonAtomic(runJson, info);
  }
}

/** Mark the run's end in run.json. */
export async function finishRunFile(runDir: string, status: string): Promise<void> {
  const runJson = join(runDir, 'run.json');
  if (!existsSync(runJson)) return;
  const info = JSON.parse(await readFile(runJson, 'utf8')) as RunInfo & { resumes?: RunInfo[] };
  const target = info.resumes?.length ? info.resumes[info.resumes.length - 1] : info;
  target.ended = new Date().toISOString();
  target.status = status;
  await writeJsonAtomic(runJson, info);
}
