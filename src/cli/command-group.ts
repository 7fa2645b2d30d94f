/** `bert <group> <command>`: a command that only hands over to one of its subcommands. */
import type { Argv, CommandModule } from 'yargs';

export function commandGroup(
  name: string,
  describe: string,
  subcommands: readonly CommandModule[],
): CommandModule {
  return {
    command: `${name} <command>`,
    describe,
    builder: (y: Argv) =>
      subcommands.reduce((withSub, sub) => withSub.command(sub), y).demandCommand(1),
    handler: () => undefined,
  };
}
