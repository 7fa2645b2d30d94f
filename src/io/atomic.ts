import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { namingPath } from './fs-errors.js';

/** A temporary sibling name for `path`, in the same directory so rename(2) is atomic. */
export function tempSibling(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

/**
 * Write all of `data` at the handle's position. `FileHandle.write` may write
 * less than asked and still succeed (a disk filling up mid-write): loop, so
 * the shortfall surfaces as the ENOSPC of the next write instead of a
 * silently truncated file.
 */
export async function writeAll(fh: FileHandle, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  for (let off = 0; off < bytes.length;) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
    off += bytesWritten;
  }
}

/** Remove a temporary left by a failed write; a failure here must not hide the first one. */
async function discard(tmp: string): Promise<void> {
  await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Build a temporary sibling of `path` with `build`, then rename it to `path`.
 * A failure removes the temporary (so a full disk gets its space back) and
 * is rethrown; filesystem errors are FileSystemErrors naming `path`, not the temporary.
 */
async function buildThenRename(path: string, build: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempSibling(path);
  await namingPath(
    path,
    async () => {
      await mkdir(dirname(path), { recursive: true });
      try {
        await build(tmp);
        await rename(tmp, path);
      } catch (err) {
        await discard(tmp);
        throw err;
      }
    },
    tmp,
  );
}

/** Open `path` with `flags`, let `write` use the handle, then fsync and close it. */
async function openWriteSync(
  path: string,
  flags: 'w' | 'r',
  write: (fh: FileHandle) => Promise<void> = async () => undefined,
): Promise<void> {
  const fh = await open(path, flags);
  try {
    await write(fh);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write `data` to `path` so that readers see either the old file or the whole
 * new one, never a torn write: write a temporary sibling, fsync, rename.
 * A filesystem error (read-only place, full disk, ...) is a FileSystemError
 * naming `path`.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await buildThenRename(path, (tmp) => openWriteSync(tmp, 'w', (fh) => fh.writeFile(data)));
}

/**
 * Build a directory under a temporary name with `fill`, then rename it to
 * `path` (which must not exist). A crash mid-way leaves only the hidden
 * temporary directory, never a half-written `path`; a failure (a full disk)
 * removes it, so the space is free again. Filesystem errors are
 * FileSystemErrors naming `path` (or the file under it), not the temporary.
 */
export async function writeDirAtomic(
  path: string,
  fill: (tmpDir: string) => Promise<void>,
): Promise<void> {
  await buildThenRename(path, async (tmp) => {
    await mkdir(tmp);
    await fill(tmp);
    await openWriteSync(tmp, 'r');
  });
}

/** Write a JSON file atomically, pretty-printed, with a trailing newline. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Like writeDirAtomic, but `path` may exist: the new directory is built
 * completely first, and the old one is replaced only then.
 */
export async function replaceDirAtomic(
  path: string,
  fill: (tmpDir: string) => Promise<void>,
): Promise<void> {
  const fresh = tempSibling(path);
  await writeDirAtomic(fresh, fill);
  const old = tempSibling(path);
  let moved = false;
  try {
    await rename(path, old);
    moved = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      await rm(fresh, { recursive: true, force: true });
      throw err;
    }
  }
  await rename(fresh, path);
  if (moved) await rm(old, { recursive: true, force: true });
}
