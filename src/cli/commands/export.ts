import type { CommandModule } from 'yargs';
import { exportHf } from '../../export/hf.js';
import { withBackendFlags } from '../common.js';
import { selectBackend, type BackendRequest } from '../../backend/select.js';

interface ExportFlags {
  checkpoint: string;
  format: 'hf';
  out: string;
  force: boolean;
  backend: BackendRequest;
  threads?: number;
}

/*
 * Only --format hf: a TF.js user loads the exported model.safetensors with our
 * loader (docs/export.md says why there is no tfjs layers/graph format).
 */
export const exportCommand: CommandModule<object, ExportFlags> = {
  command: 'export',
  describe: 'Export a checkpoint as a HuggingFace model directory (transformers from_pretrained)',
  builder: (y) =>
    withBackendFlags(y)
      .option('checkpoint', {
        type: 'string',
        demandOption: true,
        describe: 'Checkpoint directory, or a run directory (its latest checkpoint)',
      })
      .option('format', {
        choices: ['hf'] as const,
        default: 'hf' as const,
        describe: 'config.json + model.safetensors + tokenizer files',
      })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'Output directory (must not exist unless --force)',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Replace an existing --out directory',
      })
      .example(
        '$0 export --checkpoint runs/tiny/checkpoints/latest --format hf --out exported/tiny',
        'for transformers',
      )
      .example(
        '$0 export --checkpoint runs/sst2/checkpoints/best --out exported/sst2',
        'a fine-tuned classifier (BertForSequenceClassification)',
      ) as never,
  handler: async (flags) => {
    // The weights pass through tensors on their way to the file: any backend gives the same bytes.
    await selectBackend(flags.backend, { threads: flags.threads ?? null });
    const r = await exportHf({ checkpoint: flags.checkpoint, out: flags.out, force: flags.force });
    process.stdout.write(
      `exported ${r.source} as ${r.architecture} (${r.parameters.toLocaleString('en-US')} parameters) to ${r.out}\n` +
        `  ${r.files.join(', ')}\n`,
    );
  },
};
