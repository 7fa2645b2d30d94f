/**
 * Run directories: runs/<name>/ with config.resolved.yaml, run.json and
 * metrics.jsonl. An existing run is never clobbered without --force;
 * --resume reuses it explicitly.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { createRequire } from 'node:module';
import { stringify as toYaml } from 'yaml';
import { UserError } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { packageRoot } from '../paths.js';
import type { BackendChoice } from './backend.js';

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

/** Create (or, with --resume, reuse) the run directory. Returns its absolute path. */
export async function prepareRunDir(
  dir: string,
  mode: RunMode,
  /** Whether the command has --resume (only pretrain does): the hint names it only then. */
  resumable = true,
): Promise<string> {
  const path = resolve(dir);
  const exists = existsSync(path);
  if (exists && !statSync(path).isDirectory()) {
    throw new UserError(`${dir}: exists and is not a directory`);
  }
  const nonEmpty = exists && readdirSync(path).length > 0;
  if (mode === 'resume') {
    if (!nonEmpty) throw new UserError(`--resume ${dir}: no such run (nothing to resume)`);
    return path;
  }
  if (nonEmpty) {
    if (mode !== 'force') {
      throw new UserError(
        `${dir}: run directory already exists; ${resumable ? 'pass --resume to continue it or --force to replace it' : 'pass --force to replace it'}`,
      );
    }
    await rm(path, { recursive: true, force: true });
  }
  await mkdir(path, { recursive: true });
  return path;
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
