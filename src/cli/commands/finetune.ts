import type { CommandModule } from 'yargs';
import {
  withTrainingFlags,
  withSkipBadRowsFlag,
  loadCommandConfig,
  checkTrainingFlags,
  type TrainingFlags,
} from '../common.js';
import type { FinetuneConfig } from '../../config/types.js';
import { openCommandSession, runControl, runDirFor, runInSession } from '../run-session.js';
import { findTask } from '../../tasks/registry.js';
import { UserError } from '../../errors.js';

type FinetuneFlags = TrainingFlags & {
  task?: string;
  'skip-bad-rows'?: boolean;
  from?: string;
  data?: string;
  'doc-stride'?: number;
  'max-query-length'?: number;
  'held-out-every'?: number;
  'null-score-diff-threshold'?: number;
};

export const finetuneCommand: CommandModule<object, FinetuneFlags> = {
  command: 'finetune [task]',
  describe: 'Fine-tune a pretrained BERT on a GLUE task (glue/sst2, ...), squad or conll2003',
  builder: (y) =>
    withSkipBadRowsFlag(withTrainingFlags(y))
      .positional('task', {
        type: 'string',
        describe:
          'glue/<task>: cola sst2 mrpc stsb qqp mnli qnli rte wnli; squad (v1.1); squad2 (v2.0); conll2003',
      })
      .option('doc-stride', {
        type: 'number',
        describe: 'squad: context window stride (default 128)',
      })
      .option('max-query-length', {
        type: 'number',
        describe: 'squad: question pieces kept (default 64)',
      })
      .option('held-out-every', {
        type: 'number',
        describe: 'squad without a train file: hold out every N-th dev article (default 4)',
      })
      .option('null-score-diff-threshold', {
        type: 'number',
        describe:
          'squad2: answer nothing when score_null - best span score exceeds this (default 0)',
      })
      .option('from', {
        type: 'string',
        describe: "Pretrained checkpoint, run dir, HuggingFace BERT dir, or 'none' (random init)",
      })
      .option('data', { type: 'string', describe: 'GLUE root directory (default data/glue)' })
      .example(
        '$0 finetune glue/sst2 --from runs/tiny/checkpoints/latest',
        "BERT's recipe on SST-2",
      )
      .example(
        '$0 finetune glue/mrpc --from none --data ../shared/data/glue',
        'a random-init baseline',
      ) as never,
  handler: async (flags) => {
    checkTrainingFlags(flags);
    if (typeof flags.resume === 'string') {
      throw new UserError(
        'finetune --resume is not supported: fine-tuning runs are short; start again with --force',
      );
    }
    const config = loadCommandConfig<FinetuneConfig>('finetune', flags);
    const task = findTask(config.task, 'finetune');
    const { dir } = runDirFor(flags, config.name ?? task.name.replace(/^glue\//, ''));
    const session = await openCommandSession('finetune', flags, config, { dir, mode: 'new' });
    await runInSession(session, async () => {
      const result = await task.finetune({
        config,
        ...runControl(session, flags),
      });
      return {
        status: result.status,
        step: result.step,
        summary: result.summary,
        outputs: { run: session.runDir, best: result.bestCheckpoint ?? '(none)' },
      };
    });
  },
};
