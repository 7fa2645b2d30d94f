/**
 * What every training command does around its loop: resolve the run
 * directory (no clobbering), pick the backend, save config + run.json, set
 * up reporters and the graceful-stop signal, and close it all at the end.
 */
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import {
  selectBackend,
  describeChoice,
  type BackendChoice,
  type BackendRequest,
} from '../train/backend.js';
import {
  prepareRunDir,
  writeRunFiles,
  runInfo,
  finishRunFile,
  type RunMode,
} from '../train/run-dir.js';
import { createReporter } from '../ui/reporter.js';
import { StopSignal } from '../ui/stop-signal.js';
import { now, type Reporter } from '../ui/events.js';
import type { UiReporter } from '../ui/types.js';
import type { UiKind } from './common.js';
import { UserError } from '../errors.js';

export interface Session {
  runDir: string;
  mode: RunMode;
  backend: BackendChoice;
  reporter: Reporter;
  stopRequested: () => boolean;
  /** Why the stop was asked for, or null. */
  stopReason: () => string | null;
  started: number;
}

export interface SessionOptions {
  command: string;
  argv: string[];
  runDir: string;
  mode: RunMode;
  backend: BackendRequest;
  threads: number | null;
  ui: UiKind | undefined;
  config: unknown;
}

export async function openSession(
  o: SessionOptions,
): Promise<Session & { close(status: string): Promise<void> }> {
  const runDir = await prepareRunDir(o.runDir, o.mode);
  const backend = await selectBackend(o.backend, { threads: o.threads });
  await writeRunFiles(runDir, o.config, runInfo(o.command, o.argv, backend), o.mode);
  const reporter: UiReporter = createReporter(o.ui ?? 'auto', {
    runDir,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    isTTY: process.stdout.isTTY === true,
    env: process.env,
  });
  const stop = StopSignal.forProcess();
  stop.signal.attach(reporter);
  stop.signal.onStop((reason) =>
    reporter.emit({
      type: 'log',
      time: now(),
      message: `${reason}: finishing the step, then saving a checkpoint`,
    }),
  );
  reporter.emit({ type: 'log', time: now(), message: describeChoice(backend) });
  return {
    runDir,
    mode: o.mode,
    backend,
    reporter,
    stopRequested: () => stop.signal.stopRequested(),
    stopReason: () => stop.signal.reason,
    started: Date.now(),
    async close(status: string) {
      await finishRunFile(runDir, status);
      await reporter.close();
      stop.dispose();
    },
  };
}

/** The run directory a command writes to: --resume DIR, else --run, else runs/<name>. */
export function runDirFor(
  flags: { run?: string; resume?: string | boolean },
  name: string,
): { dir: string; mode: 'new' | 'resume' } {
  if (typeof flags.resume === 'string' && flags.resume !== '') {
    if (flags.run && resolve(flags.run) !== resolve(flags.resume)) {
      throw new UserError('--run and --resume name different directories; give one');
    }
    return { dir: flags.resume, mode: 'resume' };
  }
  if (flags.resume === true)
    throw new UserError('--resume: expected the run directory to continue');
  return { dir: flags.run ?? join('runs', name), mode: 'new' };
}

/** The saved config of a run being resumed. */
export function resolvedConfigPath(runDir: string): string {
  const p = join(runDir, 'config.resolved.yaml');
  if (!existsSync(p))
    throw new UserError(
      `--resume ${runDir}: config.resolved.yaml missing (not a bert run directory?)`,
    );
  return p;
}
