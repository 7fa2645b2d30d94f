/**
 * Filesystem errors as the user should read them: the path they asked for
 * (not a temporary sibling) and the real cause. Node reports `mkdir -p` on
 * a read-only mount as ENOENT; the nearest existing parent says why.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FileSystemError, fsAction, isErrnoError } from '../errors.js';

/** Why a directory cannot be created under its nearest existing ancestor, or null if it can. */
function whyNotCreatable(path: string): string | null {
  let dir = resolve(path);
  for (;;) {
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
    let isDir: boolean;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      continue;
    }
    if (!isDir) return 'ENOTDIR';
    try {
      accessSync(dir, constants.W_OK);
      return null;
    } catch (err) {
      return isErrnoError(err) ? err.code : null;
    }
  }
}

/**
 * The FileSystemError for `err`, or null when it is not a filesystem error.
 * `fallbackPath` names the file when the error carries no path (a write on
 * an open handle); `temp`/`dest` map a temporary sibling back to the name
 * the user gave.
 */
export function describeFsError(
  err: unknown,
  options: { fallbackPath?: string; temp?: string; dest?: string } = {},
): FileSystemError | null {
  const { temp, dest } = options;
  const named = (path: string | undefined): string | undefined =>
    path && temp && dest && path.startsWith(temp) ? dest + path.slice(temp.length) : path;
  if (err instanceof FileSystemError) {
    const path = named(err.path ?? undefined);
    return path && path !== err.path ? err.withPath(path) : err;
  }
  if (!isErrnoError(err)) return null;
  const path = named(err.path ?? options.fallbackPath);
  if (err.code === 'ENOENT' && err.syscall === 'mkdir' && path) {
    const code = whyNotCreatable(path);
    if (code) return new FileSystemError(code, path, 'cannot create directory');
  }
  return new FileSystemError(err.code, path ?? null, fsAction(err.syscall));
}

/**
 * Run `fn`; a filesystem error it throws becomes a FileSystemError naming
 * `dest` (or the file under it) instead of the temporary `temp`. Other
 * errors pass through unchanged.
 */
export async function namingPath<T>(dest: string, fn: () => Promise<T>, temp?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw describeFsError(err, { fallbackPath: dest, temp, dest }) ?? err;
  }
}
