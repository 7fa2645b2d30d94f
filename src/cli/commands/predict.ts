import type { CommandModule } from 'yargs';
import { withBackendFlags } from '../common.js';
import { UserError } from '../../errors.js';
import { selectBackend, type BackendRequest } from '../../backend/select.js';
import { resolveCheckpoint } from '../../train/checkpoint.js';
import { disposeParams } from '../../model/params.js';
import { loadTaskModel } from '../../squad/evaluate.js';
import { answerQuestion, tagEntities } from '../../squad/predict.js';
import type { SquadMetadata } from '../../squad/finetune.js';

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
      if (loaded.task === 'squad') {
        if (flags.question === undefined || flags.context === undefined)
          throw new UserError('predict: a squad checkpoint needs --question and --context');
        const nBest = answerQuestion(
          loaded.model,
          loaded.tokenizer,
          loaded.meta as SquadMetadata,
          flags.question,
          flags.context,
        );
        const best = nBest[0] ?? { text: '', score: Number.NaN };
        if (flags.json)
          process.stdout.write(
            JSON.stringify({ answer: best.text, score: best.score, n_best: nBest.slice(0, 5) }) +
              '\n',
          );
        else process.stdout.write(`${best.text}\n`);
        return;
      }
      if (flags.text === undefined)
        throw new UserError('predict: a conll2003 checkpoint needs --text');
      const r = tagEntities(loaded.model, loaded.tokenizer, loaded.meta.max_seq_length, flags.text);
      if (flags.json) process.stdout.write(JSON.stringify(r) + '\n');
      else {
        for (const e of r.entities)
          process.stdout.write(`${e.type}\t${e.text}\t${e.start}-${e.end}\n`);
        if (r.entities.length === 0) process.stdout.write('(no entities)\n');
      }
    } finally {
      disposeParams(loaded.model.params);
    }
  },
};
