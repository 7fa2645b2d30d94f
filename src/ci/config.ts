/**
 * Loading a regression config: the ci file (schemas/ci.schema.json) names a
 * pretrain config and a finetune config; each is loaded by the ordinary
 * loader with its own schema, so every mistake still points at file:line.
 * `--set pretrain.train.lr=0.1` reaches into the pretrain stage,
 * `--set finetune.train.epochs=1` into the finetune stage; other keys are
 * the ci file's own.
 */
import { dirname, join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { FinetuneConfig, PretrainConfig } from '../config/types.js';
import { lookupTask, TASKS } from '../tasks/registry.js';
import type { Task } from '../tasks/task.js';
import { UserError } from '../errors.js';
import type { Tolerances } from './compare.js';

export interface CiConfig {
  name: string;
  pretrain: string;
  finetune: string;
  task: string;
  baseline: string | null;
  tolerances: Tolerances;
}

export interface RegressionConfig {
  /** The ci file itself. */
  file: string;
  ci: CiConfig;
  pretrain: PretrainConfig;
  finetune: FinetuneConfig;
  task: Task;
}

/** Split `--set` strings by the stage they address; the prefix is removed. */
export function routeSets(sets: readonly string[]): {
  ci: string[];
  pretrain: string[];
  finetune: string[];
} {
  const out = { ci: [] as string[], pretrain: [] as string[], finetune: [] as string[] };
  for (const s of sets) {
    const m = /^(pretrain|finetune)\.(.+)$/s.exec(s);
    if (m) out[m[1] as 'pretrain' | 'finetune'].push(m[2]);
    else out.ci.push(s);
  }
  return out;
}

export function loadRegressionConfig(file: string, sets: readonly string[] = []): RegressionConfig {
  const routed = routeSets(sets);
  const { config: ci } = loadConfig<CiConfig>('ci', file, { sets: routed.ci });
  const task = lookupTask(ci.task);
  if (!task) {
    throw new UserError(
      `${file}: task: unknown task '${ci.task}' (expected one of ${TASKS.map((t) => t.name).join(', ')})`,
    );
  }
  const { config: pretrain } = loadConfig<PretrainConfig>('pretrain', ci.pretrain, {
    sets: routed.pretrain,
  });
  const { config: finetune } = loadConfig<FinetuneConfig>('finetune', ci.finetune, {
    sets: routed.finetune,
  });
  return { file, ci, pretrain, finetune, task };
}

/** --baseline, else the config's `baseline`, else baseline.<backend>.json beside the ci file. */
export function baselinePathFor(
  flag: string | undefined,
  config: RegressionConfig,
  backend: string,
): string {
  return flag ?? config.ci.baseline ?? join(dirname(config.file), `baseline.${backend}.json`);
}
