import type { Argv, CommandModule } from 'yargs';
import { loadCommandConfig, UI_KINDS, type UiKind } from '../common.js';
import { createReporter } from '../../ui/reporter.js';
import { runReported } from '../reported-run.js';
import type { TokenizerConfig } from '../../tokenizer/config.js';
import { runEncode, runTokenize, runTrainVocab } from '../../tokenizer/run.js';

interface TokenizeFlags {
  config?: string;
  set?: string[];
  force: boolean;
  'index-format': 'bert' | 'megatron';
  ui?: UiKind;
}

interface TrainFlags {
  input: string[];
  out: string;
  cased: boolean;
  'vocab-size'?: number;
  'min-frequency'?: number;
  'limit-alphabet'?: number;
  force: boolean;
}

interface EncodeFlags {
  vocab: string;
  cased: boolean;
  input: string;
  'pair-input'?: string;
  format: 'jsonl';
  'max-length'?: number;
}

function reporterFor(ui: UiKind | undefined) {
  return createReporter(ui ?? 'auto', {
    runDir: null,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    isTTY: process.stdout.isTTY === true,
    env: process.env,
  });
}

const train: CommandModule<object, TrainFlags> = {
  command: 'train',
  describe: 'Train a WordPiece vocabulary (vocab.txt + tokenizer.json) on text files',
  builder: (y) =>
    y
      .option('input', {
        alias: 'i',
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'Text files',
      })
      .option('out', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'Output directory',
      })
      .option('cased', { type: 'boolean', default: false, describe: 'Keep case and accents' })
      .option('vocab-size', { type: 'number', describe: 'Vocabulary size (default 30522)' })
      .option('min-frequency', {
        type: 'number',
        describe: 'Least pair count to merge (default 2)',
      })
      .option('limit-alphabet', {
        type: 'number',
        describe: 'Most distinct characters kept (default 1000)',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Replace an existing vocab.txt',
      })
      .example(
        '$0 tokenize train -i data/corpus/sample.txt -o runs/vocab --vocab-size 8000',
        'vocab.txt',
      ) as never,
  handler: async (flags) => {
    const r = await runTrainVocab({
      inputs: flags.input,
      outputDir: flags.out,
      lowercase: !flags.cased,
      force: flags.force,
      train: {
        ...(flags['vocab-size'] !== undefined && { vocab_size: flags['vocab-size'] }),
        ...(flags['min-frequency'] !== undefined && { min_frequency: flags['min-frequency'] }),
        ...(flags['limit-alphabet'] !== undefined && { limit_alphabet: flags['limit-alphabet'] }),
      },
    });
    process.stdout.write(
      `wrote ${r.vocabPath} (${r.vocabSize} tokens) and ${r.tokenizerJsonPath}\n`,
    );
  },
};

const encode: CommandModule<object, EncodeFlags> = {
  command: 'encode',
  describe: 'Encode lines to JSON lines {"tokens":[…],"ids":[…]} with [CLS]/[SEP]',
  builder: (y) =>
    y
      .option('vocab', { type: 'string', demandOption: true, describe: 'vocab.txt' })
      .option('cased', {
        type: 'boolean',
        default: false,
        describe: 'Cased vocabulary (no lower-casing)',
      })
      .option('input', {
        type: 'string',
        nargs: 1,
        demandOption: true,
        describe: 'Text file, or - for stdin',
      })
      .option('pair-input', { type: 'string', nargs: 1, describe: 'Second segments, one per line' })
      .option('format', { choices: ['jsonl'] as const, default: 'jsonl' as const })
      .option('max-length', {
        type: 'number',
        describe: 'Truncate (longest first) to this many tokens',
      })
      .example(
        'echo "Hello [MASK]!" | $0 tokenize encode --vocab data/vocab/bert-base-uncased/vocab.txt --input -',
        '',
      ) as never,
  handler: async (flags) => {
    await runEncode(
      {
        vocab: flags.vocab,
        cased: flags.cased,
        input: flags.input,
        pairInput: flags['pair-input'],
        format: flags.format,
        maxLength: flags['max-length'],
      },
      process.stdout,
      process.stdin,
    );
  },
};

export const tokenizeCommand: CommandModule<object, TokenizeFlags> = {
  command: 'tokenize',
  describe: 'Train or load a WordPiece vocab and encode a corpus into token shards',
  builder: (y: Argv) =>
    y
      .command(train as CommandModule)
      .command(encode as CommandModule)
      .option('config', { alias: 'c', type: 'string', describe: 'Tokenizer config (YAML)' })
      .option('set', { type: 'string', array: true, describe: 'Override a config key' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Replace existing shards in output_dir',
      })
      .option('ui', {
        choices: UI_KINDS,
        describe: 'Progress display (default: ink on a terminal, plain otherwise)',
      })
      .option('index-format', {
        choices: ['bert', 'megatron'] as const,
        default: 'bert' as const,
        describe:
          'Shard index layout: ours, or Megatron-Core’s MMIDIDX (one sequence per sentence; docs/scale-out.md)',
      })
      .example('$0 tokenize --config configs/tokenizer.yaml', 'vocab + shards')
      .example(
        '$0 tokenize --config configs/tokenizer.yaml --index-format megatron',
        'shards Megatron-Core’s IndexedDataset opens (and pretrain here still reads)',
      ) as never,
  handler: async (flags) => {
    const config = loadCommandConfig<TokenizerConfig>('tokenizer', flags);
    const reporter = reporterFor(flags.ui);
    await runReported(
      reporter,
      { command: 'tokenize', backend: 'cpu', config: config as unknown as Record<string, unknown> },
      async () => {
        const r = await runTokenize(config, reporter, {
          force: flags.force,
          indexFormat: flags['index-format'],
        });
        const s = r.summary;
        return {
          summary: {
            documents: s.documents,
            sentences: s.sentences,
            tokens: s.tokens,
            unk: s.unk,
            unk_rate: s.unk_rate,
            shards: s.shards,
            vocab_size: s.manifest.vocab_size,
          },
          outputs: {
            shards: config.output_dir,
            vocab: r.vocabPath,
            tokenizer_json: r.tokenizerJsonPath,
          },
        };
      },
    );
  },
};
