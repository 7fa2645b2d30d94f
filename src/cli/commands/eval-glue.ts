import type { CommandModule } from 'yargs';
import {
  withTrainingFlags,
  loadCommandConfig,
  checkPositive,
  type TrainingFlags,
} from '../common.js';
import type { FinetuneConfig } from '../../config/types.js';
import { notBuilt } from './not-built.js';

type EvalGlueFlags = TrainingFlags & { from?: string; tasks: string; seeds: number; data?: string };

export const evalGlueCommand: CommandModule<object, EvalGlueFlags> = {
  command: 'eval-glue',
  describe:
    'Fine-tune and evaluate every requested GLUE task from one checkpoint; print the GLUE table',
  builder: (y) =>
    withTrainingFlags(y)
      .option('from', { type: 'string', describe: "Pretrained checkpoint, HF dir, or 'none'" })
      .option('tasks', {
        type: 'string',
        default: 'all',
        describe: 'all, or a list: sst2,mrpc,...',
      })
      .option('seeds', {
        type: 'number',
        default: 1,
        describe: 'Repeat each task with N seeds; report mean ± std',
      })
      .option('data', { type: 'string', describe: 'GLUE root directory (default data/glue)' })
      .example('$0 eval-glue --from runs/tiny/checkpoints/latest --tasks all', 'the GLUE table')
      .example(
        '$0 eval-glue --from runs/tiny/checkpoints/latest --tasks cola,mrpc,rte --seeds 3',
        'small tasks',
      ) as never,
  handler: async (flags) => {
    checkPositive(flags as unknown as Record<string, unknown>, [
      'max-steps',
      'max-minutes',
      'threads',
      'seeds',
    ]);
    loadCommandConfig<FinetuneConfig>('finetune', flags, [
      { path: ['from'], value: flags.from },
      { path: ['data_dir'], value: flags.data },
      { path: ['train', 'seed'], value: flags.seed },
    ]);
    notBuilt('bert eval-glue', 7);
  },
};
