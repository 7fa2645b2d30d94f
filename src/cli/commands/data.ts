import type { CommandModule, Argv } from 'yargs';
import { loadCommandConfig } from '../common.js';
import type { PretrainConfig } from '../../config/types.js';
import { notBuilt } from './not-built.js';

interface InspectFlags {
  config?: string;
  set?: string[];
  count: number;
  json: boolean;
  epoch: number;
}

const inspect: CommandModule<object, InspectFlags> = {
  command: 'inspect',
  describe: 'Print pretraining instances (after NSP pairing and masking)',
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'Pretraining config (YAML)' })
      .option('set', { type: 'string', array: true, describe: 'Override a config key' })
      .option('count', { alias: 'n', type: 'number', default: 5 })
      .option('epoch', { type: 'number', default: 0, describe: 'Which epoch’s masks to show' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON object per line' })
      .example('$0 data inspect -c configs/pretrain/tiny.yaml -n 3', 'masked tokens highlighted')
      .example(
        '$0 data inspect -c configs/pretrain/tiny.yaml -n 1000 --json > inst.jsonl',
        'for scripts',
      ) as never,
  handler: async (flags) => {
    loadCommandConfig<PretrainConfig>('pretrain', flags);
    notBuilt('bert data inspect', 4);
  },
};

interface FetchFlags {
  what: string;
  tasks: string;
  out: string;
  'base-url'?: string;
}

const fetchCmd: CommandModule<object, FetchFlags> = {
  command: 'fetch <what>',
  describe: 'Download a public data set (glue) into data/',
  builder: (y) =>
    y
      .positional('what', { choices: ['glue'], describe: 'Data set' })
      .option('tasks', { type: 'string', default: 'all' })
      .option('out', { type: 'string', default: 'data/glue' })
      .option('base-url', { type: 'string', describe: 'Mirror to download from' })
      .example('$0 data fetch glue --tasks sst2,mrpc', 'the official GLUE archives') as never,
  handler: async () => {
    notBuilt('bert data fetch', 7);
  },
};

export const dataCommand: CommandModule = {
  command: 'data <command>',
  describe: 'Inspect pretraining instances; fetch data sets',
  builder: (y: Argv) =>
    y
      .command(inspect as CommandModule)
      .command(fetchCmd as CommandModule)
      .demandCommand(1),
  handler: () => undefined,
};
