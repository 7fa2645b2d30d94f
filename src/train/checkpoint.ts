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
 * step-N that is incomplete. Saving a step that already exists swaps the two
 * with renames (see `saveCheckpoint`) so that a complete step N exists at
 * every instant; pruning renames a checkpoint away before deleting it.
 * Whatever a kill leaves half done is finished or removed by
 * `sweepCheckpoints`, which runs when a writer starts and before every save.
 */
import { existsSync, readdirSync, readlinkSync, lstatSync, realpathSync } from 'node:fs';
import { copyFile, open, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { tempSibling, writeDirAtomic, writeFileAtomic } from '../io/atomic.js';
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
  /** Total steps the LR schedule is defined over (from the config, not --max-steps); null: a run only its wall-clock budget ends. */
  total_steps: number | null;
  /** Where the data stream stands, as the loader reports it. */
  data_cursor: unknown;
  /** Anything else needed to continue bitwise (dropout seed counters, best metric, ...). */
  [key: string]: unknown;
}

const STEP_DIR = /^step-(\d+)$/;
/** A complete new copy of step N waiting to replace step-N (a same-step re-save). */
const INCOMING = /^\.step-(\d+)\.incoming$/;
/** The old copy of step N, swapped out, about to be deleted. */
const OUTGOING = /^\.step-(\d+)\.outgoing$/;

export function checkpointsDir(runDir: string): string {
  return join(runDir, 'checkpoints');
}

function isComplete(path: string): boolean {
  // trainer_state.json is written last: its presence marks a complete checkpoint.
  return existsSync(join(path, 'trainer_state.json'));
}

/**
 * Where step N's complete checkpoint is in `dir`: step-N, or, while a
 * same-step swap is half done, the copy waiting to come in or going out.
 */
function stepPath(dir: string, step: number): CheckpointDir | null {
  for (const name of [`step-${step}`, `.step-${step}.incoming`, `.step-${step}.outgoing`]) {
    const p = join(dir, name);
    if (isComplete(p)) return p;
  }
  return null;
}

/** Complete checkpoints of a run, oldest first (one per step, wherever a swap left it). */
export function listCheckpoints(runDir: string): Array<{ step: number; path: CheckpointDir }> {
  const dir = checkpointsDir(runDir);
  if (!existsSync(dir)) return [];
  const steps = new Set<number>();
  for (const name of readdirSync(dir)) {
    const m = STEP_DIR.exec(name) ?? INCOMING.exec(name) ?? OUTGOING.exec(name);
    if (m) steps.add(Number(m[1]));
  }
  return [...steps]
    .sort((a, b) => a - b)
    .map((step) => ({ step, path: stepPath(dir, step) }))
    .filter((c): c is { step: number; path: CheckpointDir } => c.path !== null);
}

/** fsync a directory, so the renames in it survive a power loss. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Point `link` at `target` (a sibling name) atomically: make a temporary link, rename over. */
async function pointLink(link: string, target: string): Promise<void> {
  const tmp = tempSibling(link);
  await symlink(target, tmp);
  await rename(tmp, link);
}

/** Rename `path` to a hidden temporary name (which a sweep removes), then delete it. */
async function removeByRenaming(path: string): Promise<void> {
  const away = tempSibling(path);
  await rename(path, away);
  await rm(away, { recursive: true, force: true });
}

/**
 * Replace step-N by the complete `.step-N.incoming`: step-N → .step-N.outgoing,
 * incoming → step-N, delete outgoing. A kill between any two of these leaves
 * a complete step N that `listCheckpoints` finds and `sweepCheckpoints` finishes.
 */
async function swapIn(dir: string, step: number): Promise<void> {
  const published = join(dir, `step-${step}`);
  const incoming = join(dir, `.step-${step}.incoming`);
  const outgoing = join(dir, `.step-${step}.outgoing`);
  if (existsSync(published)) {
    await rm(outgoing, { recursive: true, force: true });
    await rename(published, outgoing);
  }
  await rename(incoming, published);
  await syncDir(dir);
  if (existsSync(outgoing)) await removeByRenaming(outgoing);
}

/**
 * Put a checkpoints directory in order after a kill (the caller is the run's
 * only writer): finish half-done same-step swaps, remove hidden temporaries
 * (unfinished saves, prunes, link updates) and step directories that are not
 * complete (a prune killed while deleting). Returns what it did, one line each.
 */
export async function sweepCheckpoints(runDir: string): Promise<string[]> {
  const dir = checkpointsDir(runDir);
  if (!existsSync(dir)) return [];
  const done: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = INCOMING.exec(name);
    if (!m) continue;
    if (isComplete(join(dir, name))) {
      await swapIn(dir, Number(m[1]));
      done.push(`finished replacing step-${m[1]} (a re-save was interrupted)`);
    } else {
      await removeByRenaming(join(dir, name));
    }
  }
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const out = OUTGOING.exec(name);
    if (out) {
      if (!isComplete(join(dir, `step-${out[1]}`)) && isComplete(path)) {
        await rm(join(dir, `step-${out[1]}`), { recursive: true, force: true });
        await rename(path, join(dir, `step-${out[1]}`));
        done.push(`restored step-${out[1]} (a re-save was interrupted)`);
      } else {
        await removeByRenaming(path);
      }
    } else if (name.startsWith('.') && name.includes('.tmp-')) {
      await rm(path, { recursive: true, force: true });
      done.push(`removed ${name} (an unfinished save or prune)`);
    } else if (STEP_DIR.test(name) && !isComplete(path) && lstatSync(path).isDirectory()) {
      await removeByRenaming(path);
      done.push(`removed ${name} (incomplete: an interrupted prune or copy)`);
    }
  }
  return done;
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
  /** Also point these links here (e.g. `minute-10`); their targets are never pruned. */
  aliases?: string[];
}

/**
 * Write step-<N> atomically, update `latest` (and `best`), prune old ones.
 * Returns its path. Refuses (NonFiniteWeightsError) weights with NaN/Inf.
 *
 * When step-N exists already (a final save repeating a periodic one, or a
 * resumed finished run), the new copy is written completely as
 * `.step-N.incoming` first and then swapped in (`swapIn`): the old step-N
 * stays complete until the new one is.
 */
export async function saveCheckpoint(
  runDir: string,
  contents: CheckpointContents,
  options: SaveOptions,
): Promise<CheckpointDir> {
  const bad = firstNonFinite(contents.model);
  if (bad) throw new NonFiniteWeightsError(bad);
  const dir = checkpointsDir(runDir);
  await sweepCheckpoints(runDir);
  const step = contents.trainerState.step;
  const name = `step-${step}`;
  const path = join(dir, name);
  const resave = existsSync(path);
  await writeDirAtomic(resave ? join(dir, `.step-${step}.incoming`) : path, async (tmp) => {
    await writeSafetensors(join(tmp, 'model.safetensors'), contents.model, { format: 'pt' });
    if (contents.optimizer) {
      await writeSafetensors(join(tmp, 'optimizer.safetensors'), contents.optimizer);
    }
    await writeFile(join(tmp, 'config.json'), JSON.stringify(contents.config, null, 2) + '\n');
    await copyFile(contents.vocabPath, join(tmp, 'vocab.txt'));
    for (const [file, text] of Object.entries(contents.extraFiles ?? {})) {
      await writeFile(join(tmp, file), text);
    }
    // Written last (and synced): its presence marks a complete checkpoint.
    await writeFileAtomic(
      join(tmp, 'trainer_state.json'),
      JSON.stringify(contents.trainerState, null, 2) + '\n',
    );
  });
  if (resave) await swapIn(dir, step);
  await pointLink(join(dir, 'latest'), name);
  if (options.best) await pointLink(join(dir, 'best'), name);
  await linkCheckpoint(runDir, step, options.aliases ?? []);
  await pruneCheckpoints(runDir, options.keepLast);
  return path;
}

/** Point each of `aliases` (e.g. `minute-10`) at step-<step>, which must exist; pruning keeps linked steps. */
export async function linkCheckpoint(
  runDir: string,
  step: number,
  aliases: readonly string[],
): Promise<void> {
  const dir = checkpointsDir(runDir);
  for (const alias of aliases) await pointLink(join(dir, alias), `step-${step}`);
}

/**
 * Delete all but the newest `keepLast` step directories, never one a link
 * points at (`latest`, `best`, a `minute-<m>` snapshot). Each is renamed away first, so a kill mid-delete
 * leaves a hidden temporary (swept later), never a half-empty step-N.
 */
export async function pruneCheckpoints(runDir: string, keepLast: number): Promise<void> {
  const dir = checkpointsDir(runDir);
  const keep = new Set(
    readdirSync(dir)
      .map((name) => linkTarget(join(dir, name)))
      .filter((x): x is string => !!x),
  );
  const all = listCheckpoints(runDir);
  for (const c of all.slice(0, Math.max(0, all.length - keepLast))) {
    if (!keep.has(`step-${c.step}`)) await removeByRenaming(c.path);
  }
}

/**
 * The newest complete checkpoint of a run directory, or null: the highest
 * step (`latest` may lag it by one if a kill came between the two).
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
  if (!existsSync(p)) {
    // A step-N (or a `latest`/`best` link to it) caught between the renames of a re-save.
    const m = STEP_DIR.exec(linkTarget(p) ?? basename(p));
    const swapping = m ? stepPath(dirname(p), Number(m[1])) : null;
    if (swapping) return swapping;
    throw new UserError(`${flag} ${pathArg}: no such directory`);
  }
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
