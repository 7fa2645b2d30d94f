import type { CommandModule } from 'yargs';
import { basename, dirname, join } from 'node:path';
import { withBackendFlags, withSkipBadRowsFlag } from '../common.js';
import { selectBackend, type BackendRequest } from '../../backend/select.js';
import { resolveCheckpoint } from '../../train/checkpoint.js';
import { taskOfCheckpoint } from '../../tasks/registry.js';

interface EvalFlags {
  checkpoint: string;
  split: 'dev' | 'test';
  data?: string;
  out?: string;
  json: boolean;
  'skip-bad-rows'?: boolean;
  backend: BackendRequest;
  threads?: number;
}

/** Predictions go beside the run (runs/<run>/predictions/), never inside a checkpoint. */
function defaultOutDir(checkpoint: string): string {
  const parent = dirname(checkpoint);
  if (basename(parent) === 'checkpoints') return join(dirname(parent), 'predictions');
  return join('predictions', basename(checkpoint));
}

export const evalCommand: CommandModule<object, EvalFlags> = {
  command: 'eval',
  describe: 'Evaluate one fine-tuned checkpoint: metrics and GLUE-submission predictions',
  builder: (y) =>
    withSkipBadRowsFlag(withBackendFlags(y))
      .option('checkpoint', {
        type: 'string',
        demandOption: true,
        describe: 'Fine-tuned checkpoint (or its run directory)',
      })
      .option('split', { choices: ['dev', 'test'] as const, default: 'dev' as const })
      .option('data', {
        type: 'string',
        describe: "The task's data directory (default: the one used for fine-tuning)",
      })
      .option('out', {
        type: 'string',
        describe: 'Where predictions go (default runs/<run>/predictions)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print one JSON object per split',
      })
      .example('$0 eval --checkpoint runs/sst2/checkpoints/best', 'dev metrics')
      .example(
        '$0 eval --checkpoint runs/sst2/checkpoints/best --split test --json',
        'predictions for the GLUE server',
      ) as never,
  handler: async (flags) => {
    const checkpoint = resolveCheckpoint(flags.checkpoint);
    const backend = await selectBackend(flags.backend, { threads: flags.threads ?? null });
    const task = taskOfCheckpoint(checkpoint);
    const results = await task.evaluate({
      checkpoint,
      split: flags.split,
      dataDir: flags.data,
      skipBadRows: flags['skip-bad-rows'] ?? false,
      outDir: flags.out ?? defaultOutDir(checkpoint),
    });
    if (flags.json) {
      for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    for (const r of results) {
      process.stdout.write(
        `${task.name} ${r.split} (${r.examples} examples, backend ${backend.backend})\n`,
      );
      for (const [k, v] of Object.entries(r.metrics))
        process.stdout.write(`  ${k.padEnd(12)} ${v.toFixed(4)}\n`);
      if (Object.keys(r.metrics).length === 0)
        process.stdout.write('  (unlabelled split: no metrics)\n');
      process.stdout.write(`  predictions ${r.predictions}\n`);
    }
  },
};
