/**
 * `eval-glue`: fine-tune and evaluate each requested GLUE task from one
 * pretrained checkpoint (optionally with several seeds), then the GLUE table.
 * Each task/seed is an ordinary fine-tuning run under <run>/<task>/seed-<s>.
 */
import { join } from 'node:path';
import { GLUE_TASKS, type GlueTaskName } from './tasks.js';
import { glueTaskMissing } from './reader.js';
import { buildGlueTable, type GlueTable, type GlueTaskResult } from './table.js';
import type { GlueMetrics } from './metrics.js';
import { now } from '../../ui/events.js';
import type { FinetuneSession } from '../finetune.js';
import { GLUE_DATA_DIR, finetune } from './finetune.js';

export interface EvalGlueOptions extends FinetuneSession {
  tasks: GlueTaskName[];
  seeds: number;
}

export interface EvalGlueResult {
  table: GlueTable;
  stopped: boolean;
}

export async function evalGlue(o: EvalGlueOptions): Promise<EvalGlueResult> {
  const results: GlueTaskResult[] = [];
  const missingReasons: Partial<Record<GlueTaskName, string>> = {};
  let stopped = false;
  for (const name of o.tasks) {
    const task = GLUE_TASKS[name];
    const missing = await glueTaskMissing(o.config.data_dir ?? GLUE_DATA_DIR, task);
    if (missing) {
      missingReasons[name] = missing;
      o.reporter.emit({
        type: 'warning',
        time: now(),
        message: `glue/${name}: skipped (${missing})`,
      });
      continue;
    }
    const perSplit: Record<string, GlueMetrics[]> = {};
    for (let s = 0; s < o.seeds; s++) {
      if (o.stopRequested()) {
        stopped = true;
        break;
      }
      const seed = o.config.train.seed + s;
      // Inside the eval-glue run (claimed by the session); the loop creates it when it first saves.
      const runDir = join(o.runDir, name, `seed-${seed}`);
      const r = await finetune({
        config: { ...o.config, task: name, train: { ...o.config.train, seed } },
        task,
        runDir,
        stopAtStep: o.stopAtStep,
        reporter: o.reporter,
        stopRequested: o.stopRequested,
        backend: o.backend,
      });
      if (r.status === 'stopped') stopped = true;
      for (const [split, metrics] of Object.entries(r.best?.metrics ?? {})) {
        (perSplit[split] ??= []).push(metrics);
      }
      if (stopped) break;
    }
    if (Object.keys(perSplit).length > 0) results.push({ task: name, splits: perSplit });
    else missingReasons[name] ??= 'stopped before a result';
    if (stopped) break;
  }
  const table = buildGlueTable({ requested: o.tasks, results, missingReasons, split: 'dev' });
  return { table, stopped };
}
