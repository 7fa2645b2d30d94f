/**
 * The `bert` command line: yargs root wiring the command modules in
 * ./commands. Returns the process exit code. UserErrors and filesystem
 * errors (a read-only place, a full disk) print as one line and exit 1;
 * they are caught here, before the WASM backend's process handlers would
 * turn them into a stack trace and exit 7. With `--ui json`, a failure that
 * no `run_end` event reported yet gets one on stdout.
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { describeFsError } from '../io/fs-errors.js';
import { JsonReporter } from '../ui/json-reporter.js';
import { now, type RunEndEvent } from '../ui/events.js';
import { packageRoot } from '../paths.js';
import { commands } from './commands/index.js';

function version(): string {
  return (
    JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }
  ).version;
}

export function buildCli(argv: string[], commandModules = commands): Argv {
  let y = yargs(argv)
    .scriptName('bert')
    .usage('$0 <command> [options]\n\nTrain BERT end to end on TensorFlow.js.')
    .version(version())
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'Name a command (bert --help lists them).')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .epilogue('Docs: README.md. Configs: configs/. Schemas for editors: schemas/.')
    .fail((msg, err) => {
      if (err) throw err;
      throw new UserError(msg, 1);
    });
  for (const cmd of commandModules) y = y.command(cmd as CommandModule);
  return y;
}

/** True when the command line asks for `--ui json` (read before yargs, which may be what fails). */
export function wantsJsonUi(argv: string[]): boolean {
  return argv.some((a, i) => a === '--ui=json' || (a === '--ui' && argv[i + 1] === 'json'));
}

/** The `run_end` a JSON consumer gets when the command failed before reporting one. */
function failedRunEnd(message: string): RunEndEvent {
  return {
    type: 'run_end',
    time: now(),
    status: 'failed',
    elapsed_s: process.uptime(),
    summary: {},
    outputs: {},
    error: message,
  };
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli(argv).parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const userError = err instanceof UserError ? err : describeFsError(err);
    if (!userError) throw err;
    if (wantsJsonUi(argv) && !JsonReporter.wroteRunEnd) {
      process.stdout.write(JSON.stringify(failedRunEnd(userError.message)) + '\n');
    }
    process.stderr.write(`bert: ${userError.message}\n`);
    return userError.exitCode;
  }
}
