import type { CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import { plotRun } from '../../plot/plot.js';
import { UserError } from '../../errors.js';

interface PlotFlags {
  run: string;
  out?: string;
}

export const plotCommand: CommandModule<object, PlotFlags> = {
  command: 'plot <run>',
  describe:
    'Render loss/accuracy/lr curves of a run (metrics.jsonl) to SVG (or PNG with --out x.png)',
  builder: (y) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'Run directory' })
      .option('out', { type: 'string', describe: 'Output file (default <run>/plot.svg)' })
      .example('$0 plot runs/tiny', 'writes runs/tiny/plot.svg')
      .example('$0 plot runs/tiny --out tiny.png', 'a PNG') as never,
  handler: async (flags) => {
    if (!existsSync(flags.run)) throw new UserError(`${flags.run}: no such run directory`);
    const path = await plotRun(flags.run, flags.out);
    process.stdout.write(`${path}\n`);
  },
};
