import type { CommandModule } from 'yargs';
import { loadCommandConfig } from '../common.js';
import { commandGroup } from '../command-group.js';
import type { PretrainConfig } from '../../config/types.js';
import { ensureHeldoutShards, ensureShards } from '../../train/shards.js';
import { trainingPipelineConfig } from '../../data/config.js';
import { openShards } from '../../data/shards.js';
import { loadVocab } from '../../tokenizer/vocab.js';
import { inspectInstances, renderInstance, colorAllowed } from '../../data/inspect.js';
import { fetchGlue, type FetchProgress } from '../../tasks/glue/fetch.js';
import { parseGlueTaskList } from '../../tasks/glue/tasks.js';
import type { BertEvent } from '../../ui/events.js';

interface InspectFlags {
  config?: string;
  set?: string[];
  count: number;
  json: boolean;
  epoch: number;
  split: 'train' | 'heldout';
}

/** Logs of a short command go to stderr, so stdout stays clean for --json. */
const stderrReporter = {
  emit(e: BertEvent) {
    if (e.type === 'log' || e.type === 'warning') process.stderr.write(`${e.message}\n`);
  },
  close: async () => undefined,
};

const inspect: CommandModule<object, InspectFlags> = {
  command: 'inspect',
  describe: 'Print pretraining instances (after NSP pairing or MLM-only packing, and masking)',
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'Pretraining config (YAML)' })
      .option('set', { type: 'string', array: true, describe: 'Override a config key' })
      .option('count', { alias: 'n', type: 'number', default: 5 })
      .option('epoch', {
        type: 'number',
        default: 0,
        describe: 'Which epoch’s pairs and masks to show',
      })
      .option('split', {
        choices: ['train', 'heldout'] as const,
        default: 'train' as const,
        describe: 'heldout: the held-out documents, or data.heldout_corpus when set',
      })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON object per line' })
      .example('$0 data inspect -c configs/pretrain/tiny.yaml -n 3', 'masked tokens highlighted')
      .example(
        '$0 data inspect -c configs/pretrain/tiny.yaml -n 1000 --json > inst.jsonl',
        'for scripts',
      ) as never,
  handler: async (flags) => {
    const config = loadCommandConfig<PretrainConfig>('pretrain', flags);
    const separate = flags.split === 'heldout' && config.data.heldout_corpus !== null;
    const dir = separate
      ? await ensureHeldoutShards(config.data, stderrReporter)
      : await ensureShards(config.data, stderrReporter);
    const vocab = loadVocab(config.data.vocab);
    const records = inspectInstances(
      openShards(dir),
      vocab.tokens,
      trainingPipelineConfig(config),
      config.train.seed,
      flags.count,
      {
        epoch: flags.epoch,
        split: separate ? 'heldout_corpus' : flags.split,
      },
    );
    const color = colorAllowed(process.stdout);
    let i = 0;
    for (const r of records) {
      process.stdout.write(
        (flags.json ? JSON.stringify(r) : renderInstance(r, i, { color })) + '\n',
      );
      i++;
    }
  },
};

interface FetchFlags {
  what: string;
  tasks: string;
  out: string;
  'base-url'?: string;
  force: boolean;
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
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Replace incomplete task directories',
      })
      .example('$0 data fetch glue --tasks sst2,mrpc', 'the official GLUE archives') as never,
  handler: async (flags) => {
    const results = await fetchGlue({
      tasks: parseGlueTaskList(flags.tasks),
      out: flags.out,
      baseUrl: flags['base-url'],
      force: flags.force,
      onProgress: (e: FetchProgress) => {
        if (e.type === 'progress') return;
        const what =
          e.type === 'download' ? `downloading ${e.url} (${e.bytes} bytes)` : `${e.type} ${e.dir}`;
        process.stderr.write(`glue/${e.task}: ${what}\n`);
      },
    });
    for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
  },
};

export const dataCommand = commandGroup('data', 'Inspect pretraining instances; fetch data sets', [
  inspect as CommandModule,
  fetchCmd as CommandModule,
]);
