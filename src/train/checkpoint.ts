/**
 * Checkpoint directories (docs/architecture.md, "Checkpoints"):
 *
 *   <run>/checkpoints/step-<N>/   model.safetensors      weights, HuggingFace names and shapes
 *                                 optimizer.safetensors  optimizer slots (absent in exports)
 *                                 trainer_state.json     step, epoch, data cursor, RNG, schedule
 *                                 config.json            HF BertConfig (+ bert's own fields)
 *                                 vocab.txt
 *   <run>/checkpoints/latest -> step-<N>   (symlink, replaced atomically)
 *   <run>/checkpoints/best   -> step-<M>
 *
 * A checkpoint is built in a hidden temporary directory and renamed into
 * place, so a crash (even kill -9) mid-write never leaves a directory named
 * step-N that is incomplete; leftovers are cleaned at the next save.
 */
import { existsSync, readdirSync, readlinkSync, lstatSync, realpathSync } from 'node:fs';
import { copyFile, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { tempSibling, writeDirAtomic } from '../io/atomic.js';
import { readSafetensors, writeSafetensors, type TensorData } from '../io/safetensors.js';

export type CheckpointDir = string;

export interface CheckpointContents {
  model: ReadonlyMap<string, TensorData>;
  optimizer?: ReadonlyMap<string, TensorData>;
  trainerState: TrainerState;
  /** HF-style config.json object. */
  config: Record<string, unknown>;
  /** Path of the vocab.txt to copy in. */
  vocabPath: string;
  /** Extra files to write verbatim (e.g. tokenizer.json), name → content. */
  extraFiles?: Record<string, string>;
}

export interface TrainerState {
  step: number;
  epoch: number;
  /** Total steps the LR schedule is defined over (from the config, not --max-steps). */
  total_steps: number;
  /** Where the data stream stands, as the loader reports it. */
  data_cursor: unknown;
  /** Anything else needed to continue bitwise (dropout seed counters, best metric, ...). */
  [key: string]: unknown;
}

const STEP_DIR = /^step-(\d+)$/;

export function checkpointsDir(runDir: string): string {
  return join(runDir, 'checkpoints');
}

/** Complete checkpoints of a run, oldest first. */
export function listCheckpoints(runDir: string): Array<{ step: number; path: CheckpointDir }> {
  const dir = checkpointsDir(runDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, m: STEP_DIR.exec(name) }))
    .filter((x) => x.m && existsSync(join(dir, x.name, 'trainer_state.json')))
    .map((x) => ({ step: Number(x.m![1]), path: join(dir, x.name) }))
    .sort((a, b) => a.step - b.step);
}

/** Point `link` at `target` (a sibling name) atomically: make a temporary link, rename over. */
async function pointLink(link: string, target: string): Promise<void> {
  const tmp = tempSibling(link);
  await symlink(target, tmp);
  await rename(tmp, link);
}

/** Remove hidden temporaries left by a crashed save. */
async function cleanTemporaries(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.') && name.includes('.tmp-')) {
      await rm(join(dir, name), { recursive: true, force: true });
    }
  }
}

function linkTarget(link: string): string | null {
  try {
    if (!lstatSync(link).isSymbolicLink()) return null;
    return basename(readlinkSync(link));
  } catch {
    return null;
  }
}

/** Raised instead of writing a checkpoint whose weights hold NaN or ±Inf: nothing on disk is ever poisoned. */
export class NonFiniteWeightsError extends Error {
  constructor(readonly tensor: string) {
    super(`weights became non-finite (first in ${tensor})`);
    this.name = 'NonFiniteWeightsError';
  }
}

function firstNonFinite(tensors: ReadonlyMap<string, TensorData>): string | null {
  for (const [name, t] of tensors) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return name;
  }
  return null;
}

export interface SaveOptions {
  /** Keep this many newest step directories (plus `best`). */
  keepLast: number;
  /** Also point `best` here. */
  best?: boolean;
}

/**
 * Write step-<N> atomically, update `latest` (and `best`), prune old ones.
 * Returns its path. Refuses (NonFiniteWeightsError) weights with NaN/Inf.
 */
export async function saveCheckpoint(
  runDir: string,
  contents: CheckpointContents,
  options: SaveOptions,
): Promise<CheckpointDir> {
  const bad = firstNonFinite(contents.model);
  if (bad) throw new NonFiniteWeightsError(bad);
  const dir = checkpointsDir(runDir);
  await cleanTemporaries(dir);
  const name = `step-${contents.trainerState.step}`;
  const path = join(dir, name);
  if (existsSync(path)) {
    // Same step saved again (e.g. the final save right after a periodic one): replace it atomically.
    const old = tempSibling(path);
    await rename(path, old);
    await rm(old, { recursive: true, force: true });
  }
  await writeDirAtomic(path, async (tmp) => {
    await writeSafetensors(join(tmp, 'model.safetensors'), contents.model, { format: 'pt' });
    if (contents.optimizer) {
      await writeSafetensors(join(tmp, 'optimizer.safetensors'), contents.optimizer);
    }
    await writeFile(join(tmp, 'config.json'), JSON.stringify(contents.config, null, 2) + '\n');
    await copyFile(contents.vocabPath, join(tmp, 'vocab.txt'));
    for (const [file, text] of Object.entries(contents.extraFiles ?? {})) {
      await writeFile(join(tmp, file), text);
    }
    // Written last: its presence marks a complete checkpoint.
    await writeFile(
      join(tmp, 'trainer_state.json'),
      JSON.stringify(contents.trainerState, null, 2) + '\n',
    );
  });
  await pointLink(join(dir, 'latest'), name);
  if (options.best) await pointLink(join(dir, 'best'), name);
  await pruneCheckpoints(runDir, options.keepLast);
  return path;
}

/** Delete all but the newest `keepLast` step directories, never the ones `latest`/`best` point at. */
export async function pruneCheckpoints(runDir: string, keepLast: number): Promise<void> {
  const dir = checkpointsDir(runDir);
  const keep = new Set(
    [linkTarget(join(dir, 'latest')), linkTarget(join(dir, 'best'))].filter(
      (x): x is string => !!x,
    ),
  );
  const all = listCheckpoints(runDir);
  for (const c of all.slice(0, Math.max(0, all.length - keepLast))) {
    if (!keep.has(basename(c.path))) await rm(c.path, { recursive: true, force: true });
  }
}

/**
 * The newest complete checkpoint of a run directory (for --resume), or null.
 * Follows `latest` when it points at a complete checkpoint, else the highest step.
 */
export function latestCheckpoint(runDir: string): CheckpointDir | null {
  const all = listCheckpoints(runDir);
  if (all.length === 0) return null;
  return all[all.length - 1].path;
}

/**
 * Accept a checkpoint directory, a `latest`/`best` link, or a run directory
 * (meaning its latest checkpoint). Throws a UserError that says what was expected.
 */
export function resolveCheckpoint(pathArg: string, flag = '--checkpoint'): CheckpointDir {
  const p = resolve(pathArg);
  if (!existsSync(p)) throw new UserError(`${flag} ${pathArg}: no such directory`);
  if (existsSync(join(p, 'trainer_state.json')) || existsSync(join(p, 'model.safetensors'))) {
    return realpathSync(p);
  }
  const fromRun = latestCheckpoint(p);
  if (fromRun) return fromRun;
  throw new UserError(
    `${flag} ${pathArg}: not a checkpoint (expected model.safetensors + config.json, or a run directory with checkpoints/)`,
  );
}

export interface LoadedCheckpoint {
  path: CheckpointDir;
  model: Map<string, TensorData>;
  optimizer: Map<string, TensorData> | null;
  trainerState: TrainerState | null;
  config: Record<string, unknown>;
  vocabPath: string;
}

export async function loadCheckpoint(dir: CheckpointDir): Promise<LoadedCheckpoint> {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath))
    throw new UserError(`${dir}: config.json missing (not a checkpoint?)`);
  const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
  const model = (await readSafetensors(join(dir, 'model.safetensors'))).tensors;
  const optPath = join(dir, 'optimizer.safetensors');
  const optimizer = existsSync(optPath) ? (await readSafetensors(optPath)).tensors : null;
  const statePath = join(dir, 'trainer_state.json');
  const trainerState = existsSync(statePath)
    ? (JSON.parse(await readFile(statePath, 'utf8')) as TrainerState)
    : null;
  const vocabPath = join(dir, 'vocab.txt');
  if (!existsSync(vocabPath)) throw new UserError(`${dir}: vocab.txt missing`);
  return { path: dir, model, optimizer, trainerState, config, vocabPath };
}
