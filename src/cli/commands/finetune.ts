import type { CommandModule } from 'yargs';
import {
  withTrainingFlags,
  loadCommandConfig,
  checkPositive,
  type TrainingFlags,
} from '../common.js';
import type { FinetuneConfig } from '../../config/types.js';
import { notBuilt } from './not-built.js';

type FinetuneFlags = TrainingFlags & { task?: string; from?: string; data?: string };

export const finetuneCommand: CommandModule<object, FinetuneFlags> = {
  command: 'finetune [task]',
  describe: 'Fine-tune a pretrained BERT on a GLUE task (glue/sst2, glue/mrpc, ...)',
  builder: (y) =>
    withTrainingFlags(y)
      .positional('task', {
        type: 'string',
        describe: 'glue/<task>: cola sst2 mrpc stsb qqp mnli qnli rte wnli',
      })
      .option('from', {
        type: 'string',
        describe: "Pretrained checkpoint, run dir, HuggingFace BERT dir, or 'none' (random init)",
      })
      .option('data', { type: 'string', describe: 'GLUE root directory (default data/glue)' })
      .example(
        '$0 finetune glue/sst2 --from runs/tiny/checkpoints/latest',
        "BERT's recipe on SST-2",
      )
      .example(
        '$0 finetune glue/mrpc --from none --max-steps 200',
        'a random-init baseline',
      ) as never,
  handler: async (flags) => {
    checkPositive(flags as unknown as Record<string, unknown>, [
      'max-steps',
      'max-minutes',
      'threads',
    ]);
    loadCommandConfig<FinetuneConfig>('finetune', flags, [
      { path: ['task'], value: flags.task },
      { path: ['from'], value: flags.from },
      { path: ['data_dir'], value: flags.data },
      { path: ['train', 'seed'], value: flags.seed },
    ]);
    notBuilt('bert finetune', 7);
  },
};
