/**
 * Filesystem errors become one line naming the user's path and the cause.
 * These use errors the kernel really returns without privileges: ENOTDIR
 * (a parent that is a file) and ENOSPC from /dev/full, Linux's always-full
 * device. test/io/full-disk.test.ts does the same on real tmpfs mounts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSystemError, errorLine } from '../../src/errors.js';
import { describeFsError } from '../../src/io/fs-errors.js';
import { writeDirAtomic, writeFileAtomic } from '../../src/io/atomic.js';
import { MetricsFileReporter } from '../../src/ui/metrics-file.js';
import { TeeReporter } from '../../src/ui/tee.js';
import type { BertEvent } from '../../src/ui/events.js';

const root = mkdtempSync(join(tmpdir(), 'bert-fs-errors-'));
const aFile = join(root, 'a-file');
writeFileSync(aFile, 'not a directory\n');

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

test('an atomic write under a file is one line naming the path (ENOTDIR), nothing left behind', async () => {
  const target = join(aFile, 'run', 'config.yaml');
  const err = await rejection(writeFileAtomic(target, 'x: 1\n'));
  assert.ok(err instanceof FileSystemError, String(err));
  assert.equal(err.code, 'ENOTDIR');
  assert.equal(
    err.message,
    `${join(aFile, 'run')}: cannot create directory: a parent path is not a directory (ENOTDIR)`,
  );
  assert.equal(err.exitCode, 1);
});

test('a failure inside an atomic directory names the destination, not the temporary, and removes it', async () => {
  const dest = join(root, 'ckpt', 'step-3');
  const err = await rejection(
    writeDirAtomic(dest, async (tmp) => {
      await writeFile(join(tmp, 'model.safetensors'), 'x');
      // A real ENOENT from the kernel, on a path inside the temporary directory.
      await writeFile(join(tmp, 'missing-dir', 'vocab.txt'), 'x');
    }),
  );
  assert.ok(err instanceof FileSystemError, String(err));
  assert.equal(
    err.message,
    `${join(dest, 'missing-dir', 'vocab.txt')}: cannot open: no such file or directory (ENOENT)`,
  );
  assert.deepEqual(readdirSync(join(root, 'ckpt')), [], 'the temporary directory is gone');
  assert.equal(existsSync(dest), false);
});

test('errors that are not filesystem errors pass through unchanged', async () => {
  const bug = new TypeError('not a filesystem problem');
  assert.equal(describeFsError(bug), null);
  const err = await rejection(
    writeDirAtomic(join(root, 'bug'), async () => {
      throw bug;
    }),
  );
  assert.equal(err, bug);
});

test('a write on a full device (/dev/full): ENOSPC with the fallback path', async () => {
  const { open } = await import('node:fs/promises');
  const fh = await open('/dev/full', 'w');
  const raw = await rejection(fh.write(Buffer.alloc(10)));
  await fh.close();
  assert.equal((raw as NodeJS.ErrnoException).code, 'ENOSPC');
  assert.equal((raw as NodeJS.ErrnoException).path, undefined, 'a handle write carries no path');
  const err = describeFsError(raw, { fallbackPath: 'out/e.npy' });
  assert.equal(err?.message, 'out/e.npy: cannot write: no space left on device (ENOSPC)');
  assert.equal(errorLine(raw), '(unknown path): cannot write: no space left on device (ENOSPC)');
});

test('metrics.jsonl on a full disk: a timer flush does not crash, the next emit throws one line', async () => {
  const metrics = new MetricsFileReporter('/dev/full', { flushMs: 20 });
  const step = { type: 'step', time: 't', step: 1 } as unknown as BertEvent;
  // A step line waits in the buffer; the timer's flush hits ENOSPC. Were it thrown
  // there, node:test would report an uncaught exception for this test.
  metrics.emit(step);
  await new Promise((r) => setTimeout(r, 80));
  const err = (() => {
    try {
      metrics.emit(step);
    } catch (e) {
      return e;
    }
    assert.fail('expected the stored failure');
  })();
  assert.ok(err instanceof FileSystemError, String(err));
  assert.equal(err.message, '/dev/full: cannot write: no space left on device (ENOSPC)');
  await metrics.close().catch(() => undefined);
});

test('a reporter failing in a tee does not keep the event from the others', () => {
  const seen: string[] = [];
  const failing = {
    emit: () => {
      throw new Error('disk full');
    },
    close: async () => undefined,
  };
  const keeping = { emit: (e: BertEvent) => void seen.push(e.type), close: async () => undefined };
  const tee = new TeeReporter([failing, keeping]);
  assert.throws(() => tee.emit({ type: 'log', time: 't', message: 'm' } as BertEvent), /disk full/);
  assert.deepEqual(seen, ['log']);
});

test('mkdir -p below a directory that exists is fine; ENOENT elsewhere stays ENOENT', async () => {
  await mkdir(join(root, 'x', 'y'), { recursive: true });
  const raw = await rejection(writeFile(join(root, 'nope', 'f'), 'x'));
  assert.equal(describeFsError(raw)?.code, 'ENOENT');
});
