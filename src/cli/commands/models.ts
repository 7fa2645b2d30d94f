import type { CommandModule } from 'yargs';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { commandGroup } from '../command-group.js';
import { fetchModel } from '../../google/fetch-model.js';
import {
  cachedModelDir,
  KNOWN_MODELS,
  modelsCacheDir,
  MODEL_MANIFEST,
  readModelManifest,
} from '../../google/models.js';

interface ListFlags {
  json: boolean;
}

const list: CommandModule<object, ListFlags> = {
  command: 'list',
  describe: 'The google-research/bert checkpoints known by name, and which are cached',
  builder: (y) =>
    y.option('json', {
      type: 'boolean',
      default: false,
      describe: 'One JSON object per line',
    }) as never,
  handler: (flags) => {
    const rows = KNOWN_MODELS.map((m) => ({
      name: m.name,
      layers: m.layers,
      hidden: m.hidden,
      heads: m.heads,
      cased: m.cased,
      description: m.description,
      cached: cachedModelDir(m.name),
    }));
    // Anything else in the cache with a manifest (fetched under a name no longer listed).
    const root = modelsCacheDir();
    const known = new Set(KNOWN_MODELS.map((m) => m.name.replace(/^google\//, '')));
    const extra = existsSync(root)
      ? readdirSync(root).filter((d) => !known.has(d) && existsSync(join(root, d, MODEL_MANIFEST)))
      : [];
    if (flags.json) {
      for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
      for (const d of extra)
        process.stdout.write(
          JSON.stringify({
            name: readModelManifest(join(root, d))?.name ?? d,
            cached: join(root, d),
          }) + '\n',
        );
      return;
    }
    const width = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows) {
      const size = `L${r.layers}/H${r.hidden}/A${r.heads}`.padEnd(13);
      process.stdout.write(
        `${r.name.padEnd(width)}  ${size} ${r.cached ? 'cached ' : '       '} ${r.description}\n`,
      );
    }
    for (const d of extra)
      process.stdout.write(`${d}  cached (not in the known list) ${join(root, d)}\n`);
    process.stdout.write(`cache: ${root}\n`);
  },
};

interface FetchFlags {
  name: string;
  'base-url'?: string;
  force: boolean;
}

const fetchCmd: CommandModule<object, FetchFlags> = {
  command: 'fetch <name>',
  describe: 'Download a google-research/bert checkpoint into the cache and check that it loads',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'A name from `bert models list`' })
      .option('base-url', {
        type: 'string',
        describe: 'Mirror instead of https://storage.googleapis.com (also BERT_MODELS_BASE_URL)',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Download again even if cached',
      })
      .example('$0 models fetch google/bert_uncased_L-2_H-128_A-2', 'BERT-Tiny (17 MB)')
      .example(
        '$0 finetune glue/sst2 --from google/bert_uncased_L-2_H-128_A-2',
        'then fine-tune from it by name',
      ) as never,
  handler: async (flags) => {
    const bar = new cliProgress.SingleBar(
      {
        format: '{bar} {percentage}% {value}/{total} bytes',
        stream: process.stderr,
        noTTYOutput: true,
        notTTYSchedule: 5000,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const r = await fetchModel({
      name: flags.name,
      baseUrl: flags['base-url'],
      force: flags.force,
      onEvent: (e) => {
        if (e.type === 'start') {
          process.stderr.write(
            `${flags.name}: ${e.resumeFrom > 0 ? `resuming at byte ${e.resumeFrom} of` : 'downloading'} ${e.url}\n`,
          );
        } else if (e.type === 'restart') {
          process.stderr.write(`${flags.name}: starting over (${e.reason})\n`);
        } else if (e.type === 'progress') {
          if (!started && e.total !== null) {
            bar.start(e.total, e.received);
            started = true;
          } else if (started) bar.update(e.received);
        } else if (e.type === 'verify') {
          if (started) bar.stop();
          started = false;
          process.stderr.write(`${flags.name}: checking the checkpoint\n`);
        }
      },
    }).finally(() => {
      if (started) bar.stop();
    });
    process.stdout.write(
      r.status === 'present'
        ? `${r.name}: already cached in ${r.dir}\n`
        : `${r.name}: ${r.bytes.toLocaleString('en-US')} bytes, checkpoint checked, in ${r.dir}\n`,
    );
  },
};

export const modelsCommand = commandGroup(
  'models',
  'Published google-research/bert checkpoints: list, fetch into the cache',
  [list as CommandModule, fetchCmd as CommandModule],
);
