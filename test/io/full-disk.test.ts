/**
 * Real read-only and full filesystems: each case runs the CLI inside a
 * user + mount namespace (`unshare -rm`) over a small tmpfs, so the errors
 * come from the kernel through the same code a user's full disk reaches.
 * Where unprivileged namespaces are not allowed the suite skips with that
 * reason; test/io/fs-errors.test.ts covers the same code with errors any
 * process can cause (ENOTDIR, /dev/full).
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { latestCheckpoint, loadCheckpoint } from '../../src/train/checkpoint.js';
import { tinyPretrainSettings } from '../helpers/tiny-pretrain.js';

const bin = join(packageRoot, 'bin', 'bert.js');
const root = mkdtempSync(join(tmpdir(), 'bert-full-disk-'));
const mnt = join(root, 'mnt');
mkdirSync(mnt);

/** Why a tmpfs cannot be mounted here, or undefined when it can. */
function noMount(): string | undefined {
  const r = spawnSync(
    'unshare',
    ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$1"', 'sh', mnt],
    {
      encoding: 'utf8',
    },
  );
  if (r.error) return `unshare not available: ${r.error.message}`;
  return r.status === 0
    ? undefined
    : `cannot mount a tmpfs in a user namespace (unshare -rm): ${r.stderr.trim()}`;
}
const skip = noMount();

/** The tiny pretraining run (test/helpers/tiny-pretrain.ts) over the shipped sample corpus: seconds, 13 MB a checkpoint. */
const SMALL = tinyPretrainSettings(join(root, 'shards')).flatMap((s) => ['--set', s]);

function pretrainArgs(run: string, extra: string[]): string[] {
  return [
    'pretrain',
    '-c',
    'configs/pretrain/tiny.yaml',
    ...SMALL,
    ...extra,
    '--backend',
    'wasm',
    '--run',
    run,
  ];
}

/** The last event a `--ui json` run printed on stdout; every line must parse as JSON. */
function lastEvent(stdout: string): Record<string, unknown> {
  const events = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return events[events.length - 1]!;
}

/**
 * Run `bert args` with a fresh tmpfs (`options`: mount options) at `mnt`,
 * then `after` (shell, e.g. copying what the run left out of the mount,
 * which vanishes with the namespace).
 */
function inMount(options: string, args: string[], after = 'true') {
  const script = `mount -t tmpfs -o "$1" tmpfs "$2" || exit 99; shift 2; "$@"; rc=$?; ${after}; exit $rc`;
  const r = spawnSync(
    'unshare',
    ['-rm', 'sh', '-c', script, 'sh', options, mnt, process.execPath, bin, ...args],
    { encoding: 'utf8', cwd: packageRoot },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function bert(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: packageRoot });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('real read-only and full filesystems', { skip }, () => {
  let checkpoint: string;
  before(() => {
    // A checkpoint to export and embed from, on the ordinary disk (also tokenizes the shards).
    const run = join(root, 'ok');
    const r = bert(...pretrainArgs(run, ['--max-steps', '1', '--ui', 'plain']));
    assert.equal(r.code, 0, r.err);
    checkpoint = join(run, 'checkpoints', 'latest');
  });

  test('pretrain --run on a read-only mount: one line naming the path and EROFS, exit 1, run_end failed', () => {
    const run = join(mnt, 'run');
    const r = inMount('size=1m,ro', pretrainArgs(run, ['--max-steps', '1', '--ui', 'json']));
    assert.equal(r.code, 1, r.err);
    assert.equal(r.err, `bert: ${run}: cannot create directory: read-only file system (EROFS)\n`);
    const last = lastEvent(r.out);
    assert.equal(last.type, 'run_end');
    assert.equal(last.status, 'failed');
    assert.equal(last.error, `${run}: cannot create directory: read-only file system (EROFS)`);
  });

  test('disk full mid-run: the run stops at its last complete checkpoint, one line, exit 1', () => {
    const run = join(mnt, 'run');
    const kept = join(root, 'kept');
    // 30 MB: step-1 and step-2 (13 MB each) fit, step-3 does not.
    const r = inMount(
      'size=30m',
      pretrainArgs(run, [
        '--set',
        'train.save_every=1',
        '--set',
        'train.keep_last=5',
        '--max-steps',
        '6',
        '--ui',
        'json',
      ]),
      `cp -a "${run}" "${kept}"`,
    );
    assert.equal(r.code, 1, r.err);
    const lines = r.err.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.err);
    assert.match(
      lines[0]!,
      new RegExp(
        `^bert: ${run}/checkpoints/step-3/\\S+: cannot write: no space left on device \\(ENOSPC\\); ` +
          `the run stopped; last complete checkpoint: ${run}/checkpoints/step-2 ` +
          `\\(free space, then: bert pretrain --resume ${run}\\)$`,
      ),
    );
    const end = lastEvent(r.out);
    assert.equal(end.type, 'run_end');
    assert.equal(end.status, 'failed');
    assert.equal(`bert: ${String(end.error)}`, lines[0]);
    // What the run left: two complete checkpoints, no temporary, whole metrics lines.
    const ckpts = readdirSync(join(kept, 'checkpoints')).sort();
    assert.deepEqual(ckpts, ['latest', 'step-1', 'step-2']);
    const latest = latestCheckpoint(kept);
    assert.equal(latest, join(kept, 'checkpoints', 'step-2'));
    return loadCheckpoint(latest!).then((c) => {
      assert.equal((c.trainerState as { step: number }).step, 2);
      const metrics = readFileSync(join(kept, 'metrics.jsonl'), 'utf8').trimEnd().split('\n');
      for (const l of metrics) JSON.parse(l);
      assert.equal(JSON.parse(metrics[metrics.length - 1]!).type, 'run_end');
      assert.equal(JSON.parse(readFileSync(join(kept, 'run.json'), 'utf8')).status, 'failed');
    });
  });

  test('export --out on a read-only mount: one line, exit 1', () => {
    const out = join(mnt, 'hf');
    const r = inMount('size=1m,ro', [
      'export',
      '--checkpoint',
      checkpoint,
      '--out',
      out,
      '--backend',
      'wasm',
    ]);
    assert.equal(r.code, 1, r.err);
    assert.equal(r.err, `bert: ${out}: cannot create directory: read-only file system (EROFS)\n`);
  });

  test('embed --out on a read-only mount and on a full one: one line each, no temporary left', () => {
    const input = join(root, 'sentences.txt');
    writeFileSync(
      input,
      readFileSync(join(packageRoot, 'data/corpus/sample.txt'), 'utf8')
        .split('\n')
        .slice(0, 300)
        .join('\n') + '\n',
    );
    const out = join(mnt, 'e.npy');
    const embed = ['embed', '--checkpoint', checkpoint, '--input', input, '--out', out];
    const ro = inMount('size=1m,ro', [...embed, '--backend', 'wasm']);
    assert.equal(ro.code, 1, ro.err);
    // The plain progress display shares stderr; the error is its last line.
    assert.equal(
      ro.err.trimEnd().split('\n').pop(),
      `bert: ${out}: cannot open: read-only file system (EROFS)`,
    );
    // 300 × 32 float32 rows = 38 KB: more than an 8 KB tmpfs holds.
    const left = join(root, 'left.txt');
    const full = inMount(
      'size=8k',
      [...embed, '--backend', 'wasm', '--ui', 'json'],
      `ls -A "${mnt}" > "${left}"`,
    );
    assert.equal(full.code, 1, full.err);
    assert.equal(full.err, `bert: ${out}: cannot write: no space left on device (ENOSPC)\n`);
    assert.equal(readFileSync(left, 'utf8'), '', 'the temporary file was removed');
    const end = lastEvent(full.out);
    assert.equal(end.type, 'run_end');
    assert.equal(end.status, 'failed');
    assert.equal(end.error, `${out}: cannot write: no space left on device (ENOSPC)`);
  });
});

test('the tmpfs probe itself leaves no mount behind', () => {
  assert.equal(existsSync(mnt), true);
  assert.deepEqual(readdirSync(mnt), []);
});
