import type { CommandModule } from 'yargs';
import { notBuilt } from './not-built.js';

/** Commands that later issues build; here so `bert --help` shows the whole tool honestly. */
export const ciCommand: CommandModule = {
  command: 'ci',
  describe: 'Regression run: train, evaluate, compare with a baseline, exit non-zero on regression',
  builder: (y) =>
    y
      .option('config', { type: 'string', default: 'configs/ci/regression.yaml' })
      .option('baseline', { type: 'string' })
      .option('update-baseline', { type: 'boolean', default: false })
      .option('json', { type: 'boolean', default: false })
      .example('$0 ci --config configs/ci/regression.yaml', ''),
  handler: () => notBuilt('bert ci', 9),
};
