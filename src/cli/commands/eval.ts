import type { CommandModule } from 'yargs';
import { withBackendFlags, type UiKind, UI_KINDS } from '../common.js';
import type { BackendRequest } from '../../train/backend.js';
import { notBuilt } from './not-built.js';
import { UserError } from '../../errors.js';
import { existsSync } from 'node:fs';

interface EvalFlags {
  checkpoint: string;
  split: 'dev' | 'test';
  data?: string;
  json: boolean;
  backend: BackendRequest;
  threads?: number;
  ui?: UiKind;
}

export const evalCommand: CommandModule<object, EvalFlags> = {
  command: 'eval',
  describe: 'Evaluate one fine-tuned checkpoint: metrics and GLUE-submission predictions',
  builder: (y) =>
    withBackendFlags(y)
      .option('checkpoint', {
        type: 'string',
        demandOption: true,
        describe: 'Fine-tuned checkpoint directory',
      })
      .option('split', { choices: ['dev', 'test'] as const, default: 'dev' as const })
      .option('data', {
        type: 'string',
        describe: 'GLUE root directory (default: the one used for training)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object' })
      .option('ui', { choices: UI_KINDS })
      .example('$0 eval --checkpoint runs/sst2/checkpoints/best', 'dev metrics')
      .example(
        '$0 eval --checkpoint runs/sst2/checkpoints/best --split test --json',
        'predictions for the GLUE server',
      ) as never,
  handler: async (flags) => {
    if (!existsSync(flags.checkpoint))
      throw new UserError(`--checkpoint ${flags.checkpoint}: no such directory`);
    notBuilt('bert eval', 7);
  },
};
