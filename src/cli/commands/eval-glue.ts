import type { CommandModule } from 'yargs';
import { join } from 'node:path';
import {
  withTrainingFlags,
  withSkipBadRowsFlag,
  loadCommandConfig,
  checkTrainingFlags,
  type TrainingFlags,
} from '../common.js';
import type { FinetuneConfig } from '../../config/types.js';
import { openCommandSession, runControl, runDirFor } from '../run-session.js';
import { evalGlue } from '../../tasks/glue/eval-glue.js';
import { parseGlueTaskList } from '../../tasks/glue/tasks.js';
import { renderGlueTableMarkdown, glueTableToJson } from '../../tasks/glue/table.js';
import { writeFileAtomic, writeJsonAtomic } from '../../io/atomic.js';
import { now } from '../../ui/events.js';
import { UserError } from '../../errors.js';

type EvalGlueFlags = TrainingFlags & {
  from?: string;
  tasks: string;
  seeds: number;
  data?: string;
  'skip-bad-rows'?: boolean;
};

export const evalGlueCommand: CommandModule<object, EvalGlueFlags> = {
  command: 'eval-glue',
  describe:
    'Fine-tune and evaluate every requested GLUE task from one checkpoint; print the GLUE table',
  builder: (y) =>
    withSkipBadRowsFlag(withTrainingFlags(y))
      .option('from', { type: 'string', describe: "Pretrained checkpoint, HF dir, or 'none'" })
      .option('tasks', {
        type: 'string',
        default: 'all',
        describe: 'all, or a list: sst2,mrpc,...',
      })
      .option('seeds', {
        type: 'number',
        default: 1,
        describe: 'Repeat each task with N seeds; report mean ± std',
      })
      .option('data', { type: 'string', describe: 'GLUE root directory (default data/glue)' })
      .example(
        '$0 eval-glue --from runs/tiny/checkpoints/latest --tasks all --data ../shared/data/glue',
        'the GLUE table',
      )
      .example(
        '$0 eval-glue --from runs/tiny/checkpoints/latest --tasks cola,mrpc,rte --seeds 3',
        'small tasks',
      ) as never,
  handler: async (flags) => {
    checkTrainingFlags(flags, ['seeds']);
    if (typeof flags.resume === 'string')
      throw new UserError('eval-glue --resume is not supported');
    const config = loadCommandConfig<FinetuneConfig>('finetune', flags);
    const tasks = parseGlueTaskList(flags.tasks);
    const { dir } = runDirFor(flags, config.name ?? 'glue');
    const session = await openCommandSession('eval-glue', flags, config, { dir, mode: 'new' });
    let status = 'failed';
    try {
      const { table, stopped } = await evalGlue({
        config,
        tasks,
        seeds: Math.floor(flags.seeds),
        ...runControl(session, flags),
      });
      status = stopped ? 'stopped' : 'completed';
      // With --force and every task skipped, no loop announced run_start: the table is the new run.
      session.startWriting();
      const markdown = renderGlueTableMarkdown(table);
      await writeFileAtomic(join(session.runDir, 'glue.md'), markdown + '\n');
      await writeJsonAtomic(join(session.runDir, 'glue.json'), glueTableToJson(table));
      session.reporter.emit({
        type: 'run_end',
        time: now(),
        status: stopped ? 'stopped' : 'completed',
        elapsed_s: (Date.now() - session.started) / 1000,
        summary: {
          glue_avg: table.average.withWnli.mean,
          glue_avg_without_wnli: table.average.withoutWnli.mean,
          tasks: table.tasks.map((t) => `${t.displayName} ${t.cell}`).join(', '),
        },
        outputs: {
          table: join(session.runDir, 'glue.md'),
          json: join(session.runDir, 'glue.json'),
        },
      });
      await session.close(status);
      status = '';
      // The table itself goes to stdout after the reporter has finished drawing.
      if (flags.ui !== 'json') process.stdout.write('\n' + markdown + '\n');
      if (stopped) process.exitCode = 130;
    } catch (err) {
      if (status) {
        status = '';
        throw await session.fail(err);
      }
      throw err;
    } finally {
      if (status) await session.close(status);
    }
  },
};
