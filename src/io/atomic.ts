import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A temporary sibling name for `path`, in the same directory so rename(2) is atomic. */
export function tempSibling(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

/**
 * Write `data` to `path` so that readers see either the old file or the whole
 * new one, never a torn write: write a temporary sibling, fsync, rename.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Build a directory under a temporary name with `fill`, then rename it to
 * `path` (which must not exist). A crash mid-way leaves only the hidden
 * temporary directory, never a half-written `path`.
 */
export async function writeDirAtomic(
  path: string,
  fill: (tmpDir: string) => Promise<void>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  await mkdir(tmp);
  try {
    await fill(tmp);
    const dh = await open(tmp, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
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
