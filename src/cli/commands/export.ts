import type { CommandModule } from 'yargs';
import { exportHf } from '../../export/hf.js';
import { exportTf } from '../../export/google.js';
import { withBackendFlags } from '../common.js';
import { selectBackend, type BackendRequest } from '../../backend/select.js';

interface ExportFlags {
  checkpoint: string;
  format: 'hf' | 'tf';
  out: string;
  force: boolean;
  backend: BackendRequest;
  threads?: number;
}

/*
 * --format hf (transformers) or tf (google-research/bert's TensorFlow
 * checkpoint); a TF.js user loads the exported model.safetensors with our
 * loader (docs/export.md says why there is no tfjs layers/graph format).
 */
export const exportCommand: CommandModule<object, ExportFlags> = {
  command: 'export',
  describe:
    'Export a checkpoint as a HuggingFace model directory (transformers from_pretrained) or a TensorFlow checkpoint (google-research/bert)',
  builder: (y) =>
    withBackendFlags(y)
      .option('checkpoint', {
        type: 'string',
        demandOption: true,
        describe: 'Checkpoint directory, or a run directory (its latest checkpoint)',
      })
      .option('format', {
        choices: ['hf', 'tf'] as const,
        default: 'hf' as const,
        describe:
          'hf: config.json + model.safetensors + tokenizer files; tf: bert_config.json + bert_model.ckpt.* + vocab.txt (google-research/bert)',
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
      )
      .example(
        '$0 export --checkpoint runs/tiny/checkpoints/latest --format tf --out exported/tiny-tf',
        'a TensorFlow checkpoint for run_classifier.py --init_checkpoint=exported/tiny-tf/bert_model.ckpt',
      ) as never,
  handler: async (flags) => {
    // The weights pass through tensors on their way to the file: any backend gives the same bytes.
    await selectBackend(flags.backend, { threads: flags.threads ?? null });
    if (flags.format === 'tf') {
      const t = await exportTf({
        checkpoint: flags.checkpoint,
        out: flags.out,
        force: flags.force,
      });
      for (const note of t.notes) process.stderr.write(`note: ${note}\n`);
      process.stdout.write(
        `exported ${t.source} as a TensorFlow checkpoint (${t.variables} variables, ${t.parameters.toLocaleString('en-US')} parameters) to ${t.out}\n` +
          `  ${t.files.join(', ')}\n`,
      );
      return;
    }
    const r = await exportHf({ checkpoint: flags.checkpoint, out: flags.out, force: flags.force });
    process.stdout.write(
      `exported ${r.source} as ${r.architecture} (${r.parameters.toLocaleString('en-US')} parameters) to ${r.out}\n` +
        `  ${r.files.join(', ')}\n`,
    );
  },
};
