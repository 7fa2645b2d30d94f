/**
 * The `bert` command line: yargs root wiring the command modules in
 * ./commands. Returns the process exit code; UserErrors print as one line.
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { commands } from './commands/index.js';

function version(): string {
  return (
    JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }
  ).version;
}

export function buildCli(argv: string[]): Argv {
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
  for (const cmd of commands) y = y.command(cmd as CommandModule);
  return y;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli(argv).parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`bert: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
