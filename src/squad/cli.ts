/**
 * The `bert finetune squad|conll2003` branch: same session, flags and
 * run_end summary as the GLUE path, dispatching to the span/token loops.
 */
import type { FinetuneConfig } from '../config/types.js';
import { openSession, runDirFor } from '../cli/run-session.js';
import type { TrainingFlags } from '../cli/common.js';
import { finetuneConll } from '../ner/finetune.js';
import { SQUAD_DEFAULTS, finetuneSquad, type SquadOptions } from './finetune.js';

export type SpanTask = 'squad' | 'squad2' | 'conll2003';

/** squad (v1.1), squad2 (v2.0: `--version` is taken by yargs for the program version), conll2003. */
export function spanTaskName(task: string | null | undefined): SpanTask | null {
  if (task === 'squad' || task === 'squad/v1.1' || task === 'squad1.1') return 'squad';
  if (task === 'squad2' || task === 'squad/v2.0' || task === 'squad_v2') return 'squad2';
  if (task === 'conll2003' || task === 'ner/conll2003') return 'conll2003';
  return null;
}

export interface SpanTaskFlags extends TrainingFlags {
  data?: string;
  'doc-stride'?: number;
  'max-query-length'?: number;
  'held-out-every'?: number;
  'null-score-diff-threshold'?: number;
}

/** Where the data is when --data / data_dir were not given (the GLUE default). */
function dataDir(task: SpanTask, config: FinetuneConfig, flagData: string | undefined): string {
  if (flagData) return flagData;
  if (config.data_dir !== 'data/glue') return config.data_dir;
  return task === 'conll2003' ? 'data/conll2003' : 'data/squad';
}

export async function runSpanTask(
  task: SpanTask,
  flags: SpanTaskFlags,
  loaded: FinetuneConfig,
): Promise<void> {
  const config: FinetuneConfig = { ...loaded, task, data_dir: dataDir(task, loaded, flags.data) };
  const { dir } = runDirFor(flags, config.name ?? task);
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
    const common = {
      config,
      runDir: session.runDir,
      stopAtStep: flags['max-steps'] ?? null,
      maxMinutes: flags['max-minutes'] ?? null,
      reporter: session.reporter,
      stopRequested: session.stopRequested,
      backend: session.backend,
    };
    const squad: SquadOptions = {
      ...SQUAD_DEFAULTS,
      version: task === 'squad2' ? '2.0' : '1.1',
      nullScoreDiffThreshold:
        flags['null-score-diff-threshold'] ?? SQUAD_DEFAULTS.nullScoreDiffThreshold,
      docStride: flags['doc-stride'] ?? SQUAD_DEFAULTS.docStride,
      maxQueryLength: flags['max-query-length'] ?? SQUAD_DEFAULTS.maxQueryLength,
      heldOutEvery: flags['held-out-every'] ?? SQUAD_DEFAULTS.heldOutEvery,
    };
    const result =
      task === 'conll2003'
        ? await finetuneConll(common)
        : await finetuneSquad({ ...common, squad });
    const summary: Record<string, number | string> = { best_step: result.best?.step ?? '(none)' };
    for (const [k, v] of Object.entries(result.best?.metrics ?? {})) summary[`dev_${k}`] = v;
    await session.end({
      status: result.status,
      step: result.step,
      summary,
      outputs: { run: session.runDir, best: result.bestCheckpoint ?? '(none)' },
    });
  } catch (err) {
    throw await session.fail(err);
  }
}
