/** The GLUE tasks (glue/cola … glue/wnli) as registry entries: sequence classification. */
import { GLUE_TASK_ORDER, GLUE_TASKS, numLabels, type GlueTask } from './tasks.js';
import { bestSummary, type Task } from '../task.js';
import { finetune } from './finetune.js';
import { evaluateGlueCheckpoint } from './evaluate.js';

/** sst2, glue/sst-2, SST-2 … (lower case: the registry lower-cases what it looks up). */
function glueAliases(task: GlueTask): string[] {
  const display = task.displayName.toLowerCase();
  const names = [task.name, display, display.replace('-', '')];
  return [...new Set([...names, ...names.map((n) => `glue/${n}`)])];
}

function glueTask(task: GlueTask): Task {
  return {
    name: `glue/${task.name}`,
    aliases: glueAliases(task),
    head: { heads: 'classification', numLabels: numLabels(task) },
    wrote: (meta) => meta.task === task.name,
    finetune: async (session) => {
      const r = await finetune({ ...session, task });
      return { ...r, summary: bestSummary(r.best) };
    },
    evaluate: (request) => evaluateGlueCheckpoint(task, request),
  };
}

/** Every GLUE task but the diagnostic set (ax has no training data). */
export const GLUE: readonly Task[] = GLUE_TASK_ORDER.map((name) => glueTask(GLUE_TASKS[name]));
