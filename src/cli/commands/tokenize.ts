import type { CommandModule } from 'yargs';
import { loadCommandConfig } from '../common.js';
import { notBuilt } from './not-built.js';

interface TokenizeFlags {
  config?: string;
  set?: string[];
}

export const tokenizeCommand: CommandModule<object, TokenizeFlags> = {
  command: 'tokenize',
  describe: 'Train or load a WordPiece vocab and encode a corpus into token shards',
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'Tokenizer config (YAML)' })
      .option('set', { type: 'string', array: true, describe: 'Override a config key' })
      .example('$0 tokenize --config configs/tokenizer.yaml', 'vocab + shards') as never,
  handler: async (flags) => {
    loadCommandConfig('tokenizer', flags);
    notBuilt('bert tokenize', 3);
  },
};
