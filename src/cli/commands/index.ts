import type { CommandModule } from 'yargs';
import { tokenizeCommand } from './tokenize.js';
import { dataCommand } from './data.js';
import { pretrainCommand } from './pretrain.js';
import { finetuneCommand } from './finetune.js';
import { evalCommand } from './eval.js';
import { predictCommand } from './predict.js';
import { evalGlueCommand } from './eval-glue.js';
import { exportCommand } from './export.js';
import { envCommand } from './env.js';
import { embedCommand } from './embed.js';
import { ciCommand } from './ci.js';
import { plotCommand } from './plot.js';
import { setupCommand } from './setup.js';
import { modelsCommand } from './models.js';

/** Every `bert` subcommand, in the order `bert --help` lists them. */
export const commands: CommandModule[] = [
  tokenizeCommand,
  dataCommand,
  pretrainCommand,
  finetuneCommand,
  evalCommand,
  predictCommand,
  evalGlueCommand,
  exportCommand,
  embedCommand,
  modelsCommand,
  plotCommand,
  ciCommand,
  setupCommand,
  envCommand,
] as CommandModule[];
