import type { CommandModule } from 'yargs';
import {
  withTrainingFlags,
  loadCommandConfig,
  checkPositive,
  type TrainingFlags,
} from '../common.js';
import type { PretrainConfig } from '../../config/types.js';
import { notBuilt } from './not-built.js';

export const pretrainCommand: CommandModule<object, TrainingFlags> = {
  command: 'pretrain',
  describe: 'Pretrain BERT with masked LM (80/10/10 over 15%) + next-sentence prediction',
  builder: (y) =>
    withTrainingFlags(y)
      .example('$0 pretrain --config configs/pretrain/tiny.yaml', 'BERT-Tiny on the sample corpus')
      .example(
        '$0 pretrain -c configs/pretrain/mini.yaml --set train.lr=5e-4 --max-steps 2000',
        'override',
      )
      .example(
        '$0 pretrain --resume runs/tiny --max-steps 4000',
        'continue (or extend) a run',
      ) as never,
  handler: async (flags) => {
    checkPositive(flags as unknown as Record<string, unknown>, [
      'max-steps',
      'max-minutes',
      'threads',
    ]);
    loadCommandConfig<PretrainConfig>('pretrain', flags, [
      { path: ['train', 'seed'], value: flags.seed },
    ]);
    notBuilt('bert pretrain', 5);
  },
};
