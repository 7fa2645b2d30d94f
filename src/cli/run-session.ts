/**
 * What every training command does around its loop: claim the run directory
 * (checked path, one writer, no clobbering; run-dir.ts), pick the backend,
 * save config + run.json, set up reporters and the graceful-stop signal,
 * and close it all at the end.
 *
 * With --force over an existing run, the old run stays until the loop
 * announces `run_start` (every input read and checked, the model built) or
 * the command calls `startWriting()`; a command that fails before that
 * leaves the old run as it was.
 */
import { join, relative, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import {
  selectBackend,
  describeChoice,
  type BackendChoice,
  type BackendRequest,
} from '../backend/select.js';
import {
  claimRunDir,
  writeRunFiles,
  runInfo,
  finishRunFile,
  type RunMode,
} from '../train/run-dir.js';
import { createReporter } from '../ui/reporter.js';
import { StopSignal } from '../ui/stop-signal.js';
import { now, type BertEvent, type Reporter } from '../ui/events.js';
import type { UiReporter } from '../ui/types.js';
import type { UiKind } from './common.js';
import { DISK_FULL_CODES, FileSystemError, UserError, errorLine } from '../errors.js';
import { describeFsError } from '../io/fs-errors.js';
import { latestCheckpoint } from '../train/checkpoint.js';
import type { RunControl } from '../train/loop.js';

export interface Session {
  runDir: string;
  mode: RunMode;
  backend: BackendChoice;
  reporter: Reporter;
  stopRequested: () => boolean;
  /** Why the stop was asked for, or null. */
  stopReason: () => string | null;
  started: number;
  /** The new run starts writing: with --force, the old run is replaced now (see the top of this file). */
  startWriting(): void;
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
  /**
   * The run failed with `err`: emit run_end (status failed, with the error
   * line), close what can be closed, and return the error to throw. A full
   * disk stops the run like Ctrl-C does, minus the final save (there is no
   * room for it): the error names what failed and the last complete
   * checkpoint, which the atomic writes kept intact.
   */
  fail(err: unknown): Promise<unknown>;
}

/**
 * Run a training command's work in its session: end the session with the
 * ending the work returns, or fail it with the error the work (or the ending) threw.
 */
export async function runInSession(
  session: OpenSession,
  work: () => Promise<SessionEnd>,
): Promise<void> {
  try {
    await session.end(await work());
  } catch (err) {
    throw await session.fail(err);
  }
}

/** `path` relative to the working directory when it lies inside it, for shorter messages. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** A full-disk error with what the run kept and how to continue it. */
function diskFullNote(err: FileSystemError, command: string, runDir: string, given: string) {
  const kept = latestCheckpoint(runDir);
  const resume =
    kept && command === 'pretrain' ? ` (free space, then: bert pretrain --resume ${given})` : '';
  return err.withNote(
    `; the run stopped; last complete checkpoint: ${kept ? shown(kept) : 'none'}${resume}`,
  );
}

/** Events that mean the loop has checked its inputs and is about to write the run. */
const WRITING_EVENTS: ReadonlySet<BertEvent['type']> = new Set(['run_start', 'step', 'checkpoint']);

export async function openSession(o: SessionOptions): Promise<OpenSession> {
  const claim = await claimRunDir(o.runDir, o.mode, o.command);
  const runDir = claim.path;
  let backend: BackendChoice;
  let ui: UiReporter;
  try {
    backend = await selectBackend(o.backend, { threads: o.threads });
    await writeRunFiles(claim.writeDir, o.config, runInfo(o.command, o.argv, backend), o.mode);
    ui = createReporter(o.ui ?? 'auto', {
      runDir: claim.writeDir,
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      isTTY: process.stdout.isTTY === true,
      env: process.env,
    });
  } catch (err) {
    await claim.release();
    throw err;
  }
  const startWriting = (): void => claim.replaceOld();
  const reporter: UiReporter = {
    kind: ui.kind,
    emit(event) {
      if (WRITING_EVENTS.has(event.type)) startWriting();
      ui.emit(event);
    },
    close: () => ui.close(),
    onStop: (cb) => ui.onStop(cb),
  };
  const stop = StopSignal.forProcess();
  stop.signal.attach(reporter);
  stop.signal.onStop((reason) =>
    reporter.emit({
      type: 'log',
      time: now(),
      message: `${reason}: finishing the step, then saving a checkpoint`,
    }),
  );
  for (const message of claim.notes) reporter.emit({ type: 'log', time: now(), message });
  reporter.emit({ type: 'log', time: now(), message: describeChoice(backend) });
  const started = Date.now();
  // Every step is tried even when an earlier one fails (on a full disk run.json and the
  // metrics file both fail); the first error is thrown at the end.
  const close = async (status: string): Promise<void> => {
    const errors: unknown[] = [];
    const attempt = async (step: () => unknown): Promise<void> => {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    };
    await attempt(() => finishRunFile(claim.writeDir, status));
    await attempt(() => reporter.close());
    await attempt(() => stop.dispose());
    await attempt(() => claim.release());
    if (errors.length > 0) throw errors[0];
  };
  let ended = false;
  return {
    runDir,
    mode: o.mode,
    backend,
    reporter,
    stopRequested: () => stop.signal.stopRequested(),
    stopReason: () => stop.signal.reason,
    started,
    startWriting,
    close,
    async end(r: SessionEnd) {
      ended = true;
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
    async fail(err: unknown) {
      let error = describeFsError(err) ?? err;
      if (error instanceof FileSystemError && DISK_FULL_CODES.has(error.code)) {
        error = diskFullNote(error, o.command, runDir, o.runDir);
      }
      // Each step on its own: on a full disk the metrics file and run.json fail too,
      // and the first error is the one to report.
      if (!ended) {
        ended = true;
        try {
          reporter.emit({
            type: 'run_end',
            time: now(),
            status: 'failed',
            elapsed_s: (Date.now() - started) / 1000,
            summary: {},
            outputs: {},
            error: errorLine(error),
          });
        } catch {
          // reported below, as the command's error
        }
      }
      // The run's own error is the one to report, not a failure to close after it.
      await close('failed').catch(() => undefined);
      return error;
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
  if (flags.run) return { dir: flags.run, mode: 'new' };
  if (name === '' || name.startsWith('.') || /[\\/]/.test(name)) {
    throw new UserError(
      `name ${JSON.stringify(name)}: not usable as a run name (the run directory would be runs/${name}); use letters, digits, -, _ and ., not starting with a dot, or pass --run DIR`,
    );
  }
  return { dir: join('runs', name), mode: 'new' };
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

/** The run control a training command hands its client: the session, and --max-steps (--max-minutes is a config key, train.budget_minutes). */
export function runControl(session: Session, flags: { 'max-steps'?: number }): RunControl {
  return {
    runDir: session.runDir,
    stopAtStep: flags['max-steps'] ?? null,
    reporter: session.reporter,
    stopRequested: session.stopRequested,
    backend: session.backend,
  };
}

/**
 * The session of a training command (`pretrain`, `finetune`, `eval-glue`): its run
 * directory (new, or replaced with --force, or resumed), and the backend, threads and
 * UI its flags and config ask for.
 */
export function openCommandSession(
  command: string,
  flags: { backend: BackendRequest; ui?: UiKind; force?: boolean },
  config: { train: { threads: number | null } },
  target: { dir: string; mode: 'new' | 'resume' },
): Promise<OpenSession> {
  return openSession({
    command,
    argv: process.argv.slice(2),
    runDir: target.dir,
    mode: flags.force && target.mode === 'new' ? 'force' : target.mode,
    backend: flags.backend,
    threads: config.train.threads,
    ui: flags.ui,
    config,
  });
}
