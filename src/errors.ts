/**
 * A mistake the user can fix (bad config, missing file, wrong checkpoint).
 * The CLI prints its message as one line, without a stack trace, and exits
 * with `exitCode` (1 unless said otherwise).
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** A command whose config and flags were valid but whose work is not built yet: exit 2. */
export class NotBuiltError extends UserError {
  constructor(what: string, issue?: number) {
    super(`${what} is not built yet${issue ? ` (issue #${issue})` : ''}`, 2);
    this.name = 'NotBuiltError';
  }
}

/** What each filesystem error code means, worded for the user. */
const FS_CAUSES: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for this file system',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a parent path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files on this system',
  EBUSY: 'resource busy',
  EIO: 'input/output error',
  EXDEV: 'cannot move across file systems',
};

/** What the failed system call was doing, as a verb phrase. */
const FS_ACTIONS: Record<string, string> = {
  mkdir: 'cannot create directory',
  open: 'cannot open',
  write: 'cannot write',
  fsync: 'cannot sync',
  close: 'cannot close',
  rename: 'cannot rename',
  unlink: 'cannot remove',
  rmdir: 'cannot remove',
  rm: 'cannot remove',
  copyfile: 'cannot copy',
  symlink: 'cannot create link',
  ftruncate: 'cannot truncate',
  scandir: 'cannot list',
  read: 'cannot read',
};

/** Codes that mean the disk (or the quota) is full. */
export const DISK_FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** A Node.js filesystem error (`err.code` like 'ENOSPC', usually `err.path` and `err.syscall`). */
export function isErrnoError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    (err as NodeJS.ErrnoException).code! in FS_CAUSES
  );
}

/**
 * A filesystem error the user can act on (a read-only place, no permission,
 * a full disk), as one line naming the path and the cause, e.g.
 *   runs/tiny: cannot create directory: read-only file system (EROFS)
 */
export class FileSystemError extends UserError {
  readonly code: string;
  readonly path: string | null;
  readonly action: string | null;
  readonly note: string;
  constructor(code: string, path: string | null, action: string | null, note = '') {
    const cause = `${FS_CAUSES[code] ?? code.toLowerCase()} (${code})`;
    super(`${path ?? '(unknown path)'}: ${action ? `${action}: ` : ''}${cause}${note}`);
    this.name = 'FileSystemError';
    this.code = code;
    this.path = path;
    this.action = action;
    this.note = note;
  }

  /** The same error with more to say after the cause (e.g. what was kept). */
  withNote(note: string): FileSystemError {
    return new FileSystemError(this.code, this.path, this.action, this.note + note);
  }

  /** The same error naming another path (the one the user gave, not a temporary). */
  withPath(path: string): FileSystemError {
    return new FileSystemError(this.code, path, this.action, this.note);
  }
}

/**
 * The FileSystemError for a Node.js filesystem error, or null for anything
 * else. `fallbackPath` names the file when the error does not (a failed
 * write on an open file handle carries no path).
 */
export function fileSystemError(err: unknown, fallbackPath?: string): FileSystemError | null {
  if (err instanceof FileSystemError) return err;
  if (!isErrnoError(err)) return null;
  return new FileSystemError(err.code, err.path ?? fallbackPath ?? null, fsAction(err.syscall));
}

/** What a failed system call was doing ('cannot create directory' for mkdir), or null. */
export function fsAction(syscall: string | undefined): string | null {
  return FS_ACTIONS[syscall ?? ''] ?? syscall ?? null;
}

/** The one line the CLI prints for `err` (without the `bert: ` prefix). */
export function errorLine(err: unknown): string {
  if (err instanceof UserError) return err.message;
  const fsError = fileSystemError(err);
  if (fsError) return fsError.message;
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
