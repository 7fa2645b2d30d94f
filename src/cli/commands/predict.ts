import type { CommandModule } from 'yargs';
import { withBackendFlags } from '../common.js';
import { UserError } from '../../errors.js';
import { selectBackend, type BackendRequest } from '../../backend/select.js';
import { resolveCheckpoint } from '../../train/checkpoint.js';
import { disposeParams } from '../../model/params.js';
import { loadTaskModel } from '../../tasks/registry.js';

interface PredictFlags {
  checkpoint: string;
  question?: string;
  context?: string;
  text?: string;
  json: boolean;
  backend: BackendRequest;
  threads?: number;
}

export const predictCommand: CommandModule<object, PredictFlags> = {
  command: 'predict',
  describe:
    'Answer a question over a context (squad) or tag the entities of a sentence (conll2003)',
  builder: (y) =>
    withBackendFlags(y)
      .option('checkpoint', {
        type: 'string',
        demandOption: true,
        describe: 'A squad or conll2003 checkpoint (or its run directory)',
      })
      .option('question', { type: 'string', describe: 'squad: the question' })
      .option('context', { type: 'string', describe: 'squad: the passage to answer from' })
      .option('text', { type: 'string', describe: 'conll2003: the sentence to tag' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object' })
      .example(
        '$0 predict --checkpoint runs/squad/checkpoints/best --question "Who?" --context "..."',
        'an answer span',
      )
      .example(
        '$0 predict --checkpoint runs/conll2003/checkpoints/best --text "Alice flew to Paris ."',
        'entities',
      ) as never,
  handler: async (flags) => {
    const checkpoint = resolveCheckpoint(flags.checkpoint);
    await selectBackend(flags.backend, { threads: flags.threads ?? null });
    const loaded = await loadTaskModel(checkpoint);
    try {
      if (!loaded.task.predict)
        throw new UserError(
          `predict: ${loaded.task.name} checkpoints have no single-input prediction (squad, squad2 and conll2003 do)`,
        );
      const out = await loaded.task.predict(loaded, flags);
      process.stdout.write(flags.json ? JSON.stringify(out.json) + '\n' : out.text);
    } finally {
      disposeParams(loaded.model.params);
    }
  },
};
