/**
 * Is a checkpoint directory whole? What --resume checks before trusting the
 * newest checkpoint: every file there and parseable, each safetensors file
 * exactly as long as its header says, and the values finite (as they were
 * when saved). A checkpoint that fails is skipped for the previous one, with
 * a warning naming it and why.
 */
import { existsSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UserError } from '../errors.js';
import { readSafetensors } from '../io/safetensors.js';
import { listCheckpoints, type CheckpointDir } from './checkpoint.js';

export type { CheckpointDir };

/** Bytes a safetensors file must have: 8 + header length + the end of its last tensor. */
async function expectedSafetensorsSize(path: string): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(8);
    if (size < 8 || (await fh.read(head, 0, 8, 0)).bytesRead < 8)
      throw new UserError(`${path}: shorter than a safetensors header`);
    const n = Number(head.readBigUInt64LE(0));
    if (n > size - 8)
      throw new UserError(`${path}: header length ${n} exceeds the file size ${size}`);
    const json = Buffer.alloc(n);
    await fh.read(json, 0, n, 8);
    let header: Record<string, { data_offsets?: [number, number] }>;
    try {
      header = JSON.parse(json.toString('utf8')) as typeof header;
    } catch {
      throw new UserError(`${path}: safetensors header is not valid JSON`);
    }
    let end = 0;
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      end = Math.max(end, entry?.data_offsets?.[1] ?? 0);
    }
    return 8 + n + end;
  } finally {
    await fh.close();
  }
}

async function checkSafetensors(path: string): Promise<void> {
  const expected = await expectedSafetensorsSize(path);
  const size = statSync(path).size;
  if (size !== expected)
    throw new UserError(`${path}: ${size} bytes where its header describes ${expected}`);
  for (const [name, t] of (await readSafetensors(path)).tensors) {
    if (t.dtype !== 'float32') continue;
    const d = t.data;
    for (let i = 0; i < d.length; i++)
      if (!Number.isFinite(d[i])) throw new UserError(`${path}: ${name} holds ${d[i]}`);
  }
}

async function checkJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(
      `${path}: ${existsSync(path) ? 'not valid JSON' : 'missing'} (${(err as Error).message})`,
    );
  }
}

/** Why checkpoint `dir` cannot be resumed from (one line naming the file), or null when it is whole. */
export async function checkpointProblem(dir: CheckpointDir): Promise<string | null> {
  try {
    const state = await checkJson(join(dir, 'trainer_state.json'));
    if (typeof state.step !== 'number')
      throw new UserError(`${join(dir, 'trainer_state.json')}: no step`);
    await checkJson(join(dir, 'config.json'));
    const vocab = join(dir, 'vocab.txt');
    if (!existsSync(vocab) || statSync(vocab).size === 0)
      throw new UserError(`${vocab}: missing or empty`);
    await checkSafetensors(join(dir, 'model.safetensors'));
    const optimizer = join(dir, 'optimizer.safetensors');
    if (existsSync(optimizer)) await checkSafetensors(optimizer);
    return null;
  } catch (err) {
    if (err instanceof UserError) return err.message;
    const e = err as { code?: string; path?: string; message: string };
    return e.code === 'ENOENT' && e.path ? `${e.path}: missing` : e.message;
  }
}

/**
 * The newest checkpoint of a run that is whole, or null. Each newer one
 * that is not is reported through `skipped` (its directory and why).
 */
export async function latestWholeCheckpoint(
  runDir: string,
  skipped: (dir: CheckpointDir, problem: string) => void,
): Promise<CheckpointDir | null> {
  const all = listCheckpoints(runDir);
  for (let i = all.length - 1; i >= 0; i--) {
    const problem = await checkpointProblem(all[i].path);
    if (problem === null) return all[i].path;
    skipped(all[i].path, problem);
  }
  return null;
}

/** A warning line for a skipped checkpoint. */
export function skippedMessage(dir: CheckpointDir, problem: string): string {
  return `skipping checkpoint ${basename(dir)}: ${problem}`;
}
