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
} from '../backend/select.js';
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

/** How a training command ended, for the run_end event, run.json and the exit code. */
export interface SessionEnd {
  status: 'completed' | 'stopped' | 'failed';
  step?: number;
  summary: Record<string, number | string>;
  outputs: Record<string, string>;
}

export interface OpenSession extends Session {
  /** Close reporters and mark run.json (no run_end event: for errors and special endings). */
  close(status: string): Promise<void>;
  /** Emit run_end, set the exit code (1 failed, 130 stopped by a signal or q), then close. */
  end(result: SessionEnd): Promise<void>;
}

export async function openSession(o: SessionOptions): Promise<OpenSession> {
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
  const started = Date.now();
  const close = async (status: string): Promise<void> => {
    await finishRunFile(runDir, status);
    await reporter.close();
    stop.dispose();
  };
  return {
    runDir,
    mode: o.mode,
    backend,
    reporter,
    stopRequested: () => stop.signal.stopRequested(),
    stopReason: () => stop.signal.reason,
    started,
    close,
    async end(r: SessionEnd) {
      reporter.emit({
        type: 'run_end',
        time: now(),
        status: r.status,
        step: r.step,
        elapsed_s: (Date.now() - started) / 1000,
        summary: r.summary,
        outputs: r.outputs,
      });
      if (r.status === 'failed') process.exitCode = 1;
      else if (r.status === 'stopped' && stop.signal.reason) process.exitCode = 130;
      await close(r.status);
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
