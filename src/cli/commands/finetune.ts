import type { CommandModule } from 'yargs';
import {
  withTrainingFlags,
  withSkipBadRowsFlag,
  loadCommandConfig,
  checkPositive,
  type TrainingFlags,
} from '../common.js';
import type { FinetuneConfig } from '../../config/types.js';
import { openSession, runDirFor } from '../run-session.js';
import { finetune } from '../../finetune/finetune.js';
import { findGlueTask, type GlueTask } from '../../data/glue/tasks.js';
import { UserError } from '../../errors.js';
import { runSpanTask, spanTaskName } from '../../squad/cli.js';

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

export function glueTaskArg(value: string | null | undefined): GlueTask {
  if (!value) throw new UserError('finetune: name the task, e.g. `bert finetune glue/sst2`');
  const task = findGlueTask(value);
  if (!task || task.name === 'ax') {
    throw new UserError(
      `${value}: unknown task (expected glue/<task> with task one of cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli)`,
    );
  }
  return task;
}

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
    checkPositive(flags as unknown as Record<string, unknown>, [
      'max-steps',
      'max-minutes',
      'threads',
    ]);
    if (typeof flags.resume === 'string') {
      throw new UserError(
        'finetune --resume is not supported: fine-tuning runs are short; start again with --force',
      );
    }
    const config = loadCommandConfig<FinetuneConfig>('finetune', flags, [
      { path: ['task'], value: flags.task },
      { path: ['from'], value: flags.from },
      { path: ['data_dir'], value: flags.data },
      { path: ['skip_bad_rows'], value: flags['skip-bad-rows'] },
      { path: ['train', 'seed'], value: flags.seed },
      { path: ['train', 'threads'], value: flags.threads },
    ]);
    const spanTask = spanTaskName(config.task);
    if (spanTask) return runSpanTask(spanTask, flags, config);
    const task = glueTaskArg(config.task);
    const { dir } = runDirFor(flags, config.name ?? task.name);
    const session = await openSession({
      command: 'finetune',
      argv: process.argv.slice(2),
      runDir: dir,
      mode: flags.force ? 'force' : 'new',
      backend: flags.backend,
      threads: config.train.threads,
      ui: flags.ui,
      config,
    });
    try {
      const result = await finetune({
        config,
        task,
        runDir: session.runDir,
        stopAtStep: flags['max-steps'] ?? null,
        maxMinutes: flags['max-minutes'] ?? null,
        reporter: session.reporter,
        stopRequested: session.stopRequested,
        backend: session.backend,
      });
      const summary: Record<string, number | string> = { best_step: result.best?.step ?? '(none)' };
      for (const [split, metrics] of Object.entries(result.best?.metrics ?? {})) {
        for (const [k, v] of Object.entries(metrics)) summary[`${split}_${k}`] = v as number;
      }
      await session.end({
        status: result.status,
        step: result.step,
        summary,
        outputs: { run: session.runDir, best: result.bestCheckpoint ?? '(none)' },
      });
    } catch (err) {
      throw await session.fail(err);
    }
  },
};
