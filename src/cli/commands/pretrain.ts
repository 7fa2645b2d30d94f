import type { CommandModule } from 'yargs';
import {
  withTrainingFlags,
  loadCommandConfig,
  checkTrainingFlags,
  type TrainingFlags,
} from '../common.js';
import type { PretrainConfig } from '../../config/types.js';
import {
  openCommandSession,
  runControl,
  runDirFor,
  runInSession,
  resolvedConfigPath,
  type Session,
} from '../run-session.js';
import { pretrain } from '../../tasks/pretrain/pretrain.js';
import {
  latestWholeCheckpoint,
  skippedMessage,
  type CheckpointDir,
} from '../../train/checkpoint-verify.js';
import { now } from '../../ui/events.js';
import { UserError } from '../../errors.js';

type PretrainFlags = TrainingFlags & { 'init-from'?: string };

/** The newest whole checkpoint of the run being resumed; a warning for each newer one skipped. */
async function resumePoint(session: Session): Promise<CheckpointDir> {
  const from = await latestWholeCheckpoint(session.runDir, (dir, problem) =>
    session.reporter.emit({ type: 'warning', time: now(), message: skippedMessage(dir, problem) }),
  );
  if (!from) throw new UserError(`--resume ${session.runDir}: the run has no complete checkpoint`);
  return from;
}

export const pretrainCommand: CommandModule<object, PretrainFlags> = {
  command: 'pretrain',
  describe: 'Pretrain BERT with masked LM (80/10/10 over 15%) + next-sentence prediction',
  builder: (y) =>
    withTrainingFlags(y)
      .option('init-from', {
        type: 'string',
        describe:
          'Start from these weights (our checkpoint or a HuggingFace BERT directory) instead of a random init',
      })
      .example('$0 pretrain --config configs/pretrain/tiny.yaml', 'BERT-Tiny on the sample corpus')
      .example(
        '$0 pretrain -c configs/pretrain/mini.yaml --set train.lr=5e-4 --max-steps 2000',
        'override, stop early',
      )
      .example('$0 pretrain --resume runs/tiny --max-steps 4000', 'continue (or extend) a run')
      .example(
        '$0 pretrain -c configs/pretrain/tiny.yaml --init-from exported/bert-base --set data.vocab=exported/bert-base/vocab.txt',
        'continue pretraining a HF model on your corpus',
      ) as never,
  handler: async (flags) => {
    checkTrainingFlags(flags);
    const resuming = typeof flags.resume === 'string';
    if (resuming && flags['init-from'] !== undefined)
      throw new UserError(
        '--init-from: not with --resume (a resumed run continues from its own checkpoint)',
      );
    // A resumed run continues with the config it was started with (plus any --set).
    const file = resuming ? resolvedConfigPath(flags.resume as string) : flags.config;
    const config = loadCommandConfig<PretrainConfig>('pretrain', {
      config: file,
      set: flags.set,
      seed: resuming ? undefined : flags.seed,
      threads: flags.threads,
      'max-minutes': flags['max-minutes'],
    });
    const { dir, mode } = runDirFor(flags, config.name);
    const session = await openCommandSession('pretrain', flags, config, { dir, mode });
    await runInSession(session, async () => {
      // Chosen once this process is the run's writer and the leftovers of any kill are swept.
      const resumeFrom = mode === 'resume' ? await resumePoint(session) : null;
      const result = await pretrain({
        config,
        initFrom: flags['init-from'] ?? null,
        resumeFrom,
        ...runControl(session, flags),
      });
      return {
        status: result.status,
        step: result.step,
        summary: result.finalMetrics,
        outputs: { run: session.runDir, checkpoint: result.lastCheckpoint ?? '(none)' },
      };
    });
  },
};
