/**
 * One writer per run directory: `<run>/run.lock` names the process that
 * writes the run (pid, host, start time, command). A second writer is
 * refused with one line; a lock whose process is gone (kill -9, power loss)
 * is stale and taken over with a note. Readers (eval, export) take no lock.
 *
 * The lock file appears whole or not at all: its content is written to a
 * temporary file first and hard-linked into place, which fails if a lock
 * already exists.
 */
import { readFileSync, unlinkSync, existsSync } from 'node:fs';
import { link, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import os from 'node:os';
import { UserError } from '../errors.js';
import { tempSibling } from '../io/atomic.js';

export const LOCK_FILE = 'run.lock';

export interface LockOwner {
  pid: number;
  host: string;
  /** When the owning process started (ISO time). */
  started: string;
  command: string;
}

export interface RunLock {
  /** The lock file's path now (it moves with its directory, see `moved`). */
  readonly path: string;
  /** Why an earlier lock was taken over, or null. */
  readonly note: string | null;
  /** The locked directory was renamed to `dir`: the lock is now there. */
  moved(dir: string): void;
  /** Remove the lock if it is still ours. */
  release(): Promise<void>;
}

function processStarted(): string {
  return new Date(Date.now() - process.uptime() * 1000).toISOString();
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid !== 'number' || typeof owner.host !== 'string') return null;
    return {
      pid: owner.pid,
      host: owner.host,
      started: String(owner.started ?? ''),
      command: String(owner.command ?? ''),
    };
  } catch {
    return null;
  }
}

/** When a process started, from /proc (Linux), in ms since the epoch; null where unknown. */
function startOfPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime, clock ticks since boot) counts from after the ")" closing the name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (!btime || !Number.isFinite(ticks)) return null;
    return (Number(btime[1]) + ticks / 100) * 1000;
  } catch {
    return null;
  }
}

/** Whether the lock's process still runs: same host, pid alive, and (where /proc says) the same process. */
function ownerAlive(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true; // cannot tell: assume it runs
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as { code?: string }).code === 'ESRCH') return false;
  }
  // The pid lives; a different process may have been given it since (e.g. after a restart):
  // then it started well after the lock was written.
  const start = startOfPid(owner.pid);
  const recorded = Date.parse(owner.started);
  if (start !== null && Number.isFinite(recorded) && Math.abs(start - recorded) > 60_000)
    return false;
  return true;
}

function describe(owner: LockOwner): string {
  const what = owner.command ? `bert ${owner.command}` : 'bert';
  return `${what} (pid ${owner.pid} on ${owner.host}, started ${owner.started})`;
}

/** Take the lock of run directory `dir` (which exists), or throw a UserError naming its writer. */
export async function lockRunDir(dir: string, command: string): Promise<RunLock> {
  const me: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    started: processStarted(),
    command,
  };
  const text = JSON.stringify(me, null, 2) + '\n';
  let path = join(dir, LOCK_FILE);
  let note: string | null = null;
  for (let attempt = 0; ; attempt++) {
    const tmp = tempSibling(path);
    await writeFile(tmp, text);
    try {
      await link(tmp, path);
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    const owner = readOwner(path);
    if (owner && ownerAlive(owner)) {
      const other = owner.host === os.hostname() ? '' : `; if it is gone, delete ${path}`;
      throw new UserError(
        `${dir}: this run is being written by ${describe(owner)}; one writer at a time — wait for it or stop it${other}`,
      );
    }
    if (attempt >= 5) throw new UserError(`${path}: could not take over the stale lock`);
    // Stale (or unreadable): move it aside, and check that what moved is what was judged stale.
    const aside = tempSibling(path);
    try {
      await rename(path, aside);
    } catch {
      continue; // someone else moved it first; look again
    }
    const moved = readOwner(aside);
    if (owner && moved && (moved.pid !== owner.pid || moved.started !== owner.started)) {
      // A live lock replaced the stale one meanwhile: put it back and look again.
      await link(aside, path).catch(() => undefined);
      await unlink(aside).catch(() => undefined);
      continue;
    }
    await unlink(aside).catch(() => undefined);
    note = owner
      ? `took over the lock of ${describe(owner)}, which is no longer running`
      : `replaced an unreadable lock file ${path}`;
  }
  let released = false;
  const releaseSync = (): void => {
    if (released) return;
    released = true;
    const owner = readOwner(path);
    if (owner && owner.pid === me.pid && owner.started === me.started) {
      try {
        unlinkSync(path);
      } catch {
        // already gone with its directory
      }
    }
  };
  // A process that exits without closing its session (an uncaught error) still frees the run.
  process.once('exit', releaseSync);
  return {
    get path() {
      return path;
    },
    note,
    moved(newDir: string) {
      path = join(newDir, LOCK_FILE);
    },
    async release() {
      process.off('exit', releaseSync);
      if (existsSync(path)) releaseSync();
      released = true;
    },
  };
}
