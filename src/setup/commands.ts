/**
 * Running the outside tools setup needs (python3/pip, npm, node-pre-gyp)
 * behind one small interface, so the decisions about their failures are
 * testable with a fake runner.
 */
import { spawn } from 'node:child_process';
import { INJECTED_NODE_ENV } from '../ui/react-env.js';
import { createWriteStream } from 'node:fs';

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Also append stdout and stderr to this file (compile logs). */
  logFile?: string;
}

export interface CommandResult {
  /** Exit status; null when the program could not be started or was killed. */
  code: number | null;
  /** True when the program itself was not found (ENOENT). */
  notFound: boolean;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (
  command: string,
  args: readonly string[],
  options?: CommandOptions,
) => Promise<CommandResult>;

/** Keep the last `limit` characters: enough for an error's last lines without holding a whole build log. */
function appendCapped(current: string, chunk: string, limit = 64 * 1024): string {
  const s = current + chunk;
  return s.length > limit ? s.slice(s.length - limit) : s;
}

/** Our environment minus the NODE_ENV that the dashboard set for React (see ui/react-env.ts). */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (!env[INJECTED_NODE_ENV]) return env;
  const { NODE_ENV: _injected, [INJECTED_NODE_ENV]: _marker, ...rest } = env;
  return rest;
}

/** The real runner: spawn without a shell, collect output, never reject. */
export const runCommand: CommandRunner = (command, args, options = {}) =>
  new Promise((resolve) => {
    const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : null;
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (result: CommandResult): void => {
      if (settled) return;
      settled = true;
      if (log) log.end(() => resolve(result));
      else resolve(result);
    };
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (b: Buffer) => {
      stdout = appendCapped(stdout, b.toString());
      log?.write(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr = appendCapped(stderr, b.toString());
      log?.write(b);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      finish({
        code: null,
        notFound: err.code === 'ENOENT',
        stdout,
        stderr: stderr + String(err.message),
      });
    });
    child.on('close', (code) => finish({ code, notFound: false, stdout, stderr }));
  });

/** The last non-empty line of a tool's output, for a one-line error message. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const line = lines.at(-1) ?? '';
  return line.length > 200 ? line.slice(0, 197) + '...' : line;
}

/** The first `...Error: ...` line of a failed Node process's stderr (its stack's headline), else its last line. */
export function errorLine(text: string): string {
  const line = text.split('\n').find((l) => /\b\w*Error\b.*:/.test(l));
  return line ? lastLine(line) : lastLine(text);
}
