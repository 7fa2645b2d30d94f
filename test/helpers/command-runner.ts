/** Fake `CommandRunner`s for the setup tests: nothing is started, each answer is given. */
import type { CommandResult, CommandRunner } from '../../src/setup/commands.js';

/** A command's result: exit 0, found, no output, except where `r` says otherwise. */
export function commandResult(r: Partial<CommandResult> = {}): CommandResult {
  return { code: 0, notFound: false, stdout: '', stderr: '', ...r };
}

/** A runner that answers every command with `commandResult(r)` and records each call in `calls`. */
export function fakeRunner(r: Partial<CommandResult>, calls: string[][] = []): CommandRunner {
  return async (cmd, args) => {
    calls.push([cmd, ...args]);
    return commandResult(r);
  };
}
