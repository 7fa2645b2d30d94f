import type { CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import { notBuilt } from './not-built.js';
import { UserError } from '../../errors.js';

interface ExportFlags {
  checkpoint: string;
  format: 'hf' | 'tfjs';
  out: string;
  force: boolean;
}

export const exportCommand: CommandModule<object, ExportFlags> = {
  command: 'export',
  describe: 'Export a checkpoint as a HuggingFace model directory',
  builder: (y) =>
    y
      .option('checkpoint', {
        type: 'string',
        demandOption: true,
        describe: 'Checkpoint directory',
      })
      .option('format', { choices: ['hf', 'tfjs'] as const, default: 'hf' as const })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'Output directory (must not exist unless --force)',
      })
      .option('force', { type: 'boolean', default: false })
      .example(
        '$0 export --checkpoint runs/tiny/checkpoints/latest --format hf --out exported/tiny',
        'for transformers',
      ) as never,
  handler: async (flags) => {
    if (!existsSync(flags.checkpoint))
      throw new UserError(`--checkpoint ${flags.checkpoint}: no such directory`);
    notBuilt('bert export', 8);
  },
};
