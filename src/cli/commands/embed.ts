import type { CommandModule } from 'yargs';
import { UI_KINDS, withBackendFlags, checkPositive, type UiKind } from '../common.js';
import { createReporter } from '../../ui/reporter.js';
import { runReported } from '../reported-run.js';
import { now } from '../../ui/events.js';
import { selectBackend, type BackendRequest } from '../../backend/select.js';
import { POOLINGS, outputFormatOf, runEmbed, type Pooling } from '../../export/embed.js';
import { resolveCheckpoint } from '../../train/checkpoint.js';
import { isGoogleSource } from '../../google/checkpoint.js';
import { UserError } from '../../errors.js';
import { existsSync } from 'node:fs';

interface EmbedFlags {
  checkpoint: string;
  input: string;
  pooling: Pooling;
  out: string;
  'batch-size': number;
  'max-length'?: number;
  ui?: UiKind;
  backend: BackendRequest;
  threads?: number;
}

export const embedCommand: CommandModule<object, EmbedFlags> = {
  command: 'embed',
  describe: 'Sentence embeddings from a checkpoint or HF directory (cls, pooler or mean pooling)',
  builder: (y) =>
    withBackendFlags(y)
      .option('checkpoint', {
        type: 'string',
        demandOption: true,
        describe: 'Our checkpoint (or run directory) or a HuggingFace BERT directory',
      })
      .option('input', {
        type: 'string',
        demandOption: true,
        describe: 'Text file, one sentence a line',
      })
      .option('pooling', {
        choices: POOLINGS,
        default: 'cls' as const,
        describe: "cls: last hidden state's [CLS]; pooler: tanh(dense([CLS])); mean: over tokens",
      })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe:
          'FILE.jsonl ({"index", "embedding"} a line) or FILE.npy (float32 [lines, hidden])',
      })
      .option('batch-size', { type: 'number', default: 32, describe: 'Sentences per forward pass' })
      .option('max-length', {
        type: 'number',
        describe: "Truncate to this many tokens (default: the model's max_position_embeddings)",
      })
      .option('ui', {
        choices: UI_KINDS,
        describe: 'Progress display on stderr (default plain; json = events on stdout)',
      })
      .example('$0 embed --checkpoint runs/tiny/checkpoints/latest --input s.txt --out e.jsonl', '')
      .example(
        '$0 embed --checkpoint exported/bert-base --input s.txt --pooling mean --out e.npy',
        'numpy.load(e.npy)',
      ) as never,
  handler: async (flags) => {
    checkPositive(flags as unknown as Record<string, unknown>, ['batch-size', 'max-length']);
    // Mistakes in the flags are one line on stderr, before any progress display starts.
    if (!isGoogleSource(flags.checkpoint)) resolveCheckpoint(flags.checkpoint, '--checkpoint');
    outputFormatOf(flags.out);
    if (!existsSync(flags.input)) throw new UserError(`--input ${flags.input}: no such file`);
    const backend = await selectBackend(flags.backend, { threads: flags.threads ?? null });
    const ui = flags.ui ?? 'plain';
    // Progress goes to stderr (stdout keeps the one-line result); --ui json keeps its event stream on stdout.
    const reporter = createReporter(ui, {
      runDir: null,
      stdout: ui === 'json' ? process.stdout : process.stderr,
      stderr: process.stderr,
      stdin: process.stdin,
      isTTY: process.stderr.isTTY === true,
      env: process.env,
    });
    let result = '';
    await runReported(
      reporter,
      {
        command: 'embed',
        backend: backend.backend,
        config: { ...flags } as unknown as Record<string, unknown>,
      },
      async () => {
        const r = await runEmbed({
          checkpoint: flags.checkpoint,
          input: flags.input,
          pooling: flags.pooling,
          out: flags.out,
          batchSize: flags['batch-size'],
          maxLength: flags['max-length'],
          reporter,
        });
        reporter.emit({
          type: 'log',
          time: now(),
          message: `${r.sentences} sentences (${r.tokens} tokens, ${r.truncated} truncated) in ${r.seconds.toFixed(2)} s: ${r.sentencesPerSecond.toFixed(1)} sentences/s, ${r.tokensPerSecond.toFixed(0)} tokens/s (${backend.backend})`,
        });
        if (ui !== 'json') {
          result = `${flags.out}: ${r.sentences} × ${r.dims} (${flags.pooling}), ${r.sentencesPerSecond.toFixed(1)} sentences/s, ${r.tokensPerSecond.toFixed(0)} tokens/s\n`;
        }
        return {
          summary: {
            sentences: r.sentences,
            dims: r.dims,
            tokens: r.tokens,
            truncated: r.truncated,
            sentences_per_s: r.sentencesPerSecond,
            tokens_per_s: r.tokensPerSecond,
          },
          outputs: { embeddings: flags.out },
        };
      },
    );
    // The one-line result goes to stdout once the progress display has closed.
    if (result) process.stdout.write(result);
  },
};
