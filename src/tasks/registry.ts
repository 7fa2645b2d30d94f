/**
 * Every fine-tuning task, by name: the one table the CLI (`finetune`,
 * `eval`, `predict`) and `bert ci` look tasks up in. Adding a task is one
 * folder under tasks/ exporting a Task (tasks/task.ts) and one line here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { CheckpointDir } from '../train/checkpoint.js';
import { loadTaskCheckpoint } from './checkpoint.js';
import type { EvaluateRequest, Task, TaskEvaluation, TaskModel } from './task.js';
import { GLUE } from './glue/task.js';
import { SQUAD, SQUAD2 } from './squad/task.js';
import { CONLL2003 } from './conll2003/task.js';

export const TASKS: readonly Task[] = [...GLUE, SQUAD, SQUAD2, CONLL2003];

/** The task called `name` (or one of its aliases), case-insensitive; null when there is none. */
export function lookupTask(name: string): Task | null {
  const key = name.toLowerCase();
  return TASKS.find((t) => t.name === key || t.aliases.includes(key)) ?? null;
}

/** The task called `name`, or a UserError listing the names there are. */
export function findTask(name: string | null | undefined, where = 'task'): Task {
  if (!name) throw new UserError(`${where}: name the task, e.g. glue/sst2, squad or conll2003`);
  const task = lookupTask(name);
  if (task) return task;
  throw new UserError(
    `${where}: unknown task '${name}' (expected one of ${TASKS.map((t) => t.name).join(', ')})`,
  );
}

/** The task that wrote a fine-tuned checkpoint (config.json's `bert` block). */
export function taskOfCheckpoint(dir: CheckpointDir): Task {
  const path = join(dir, 'config.json');
  const json = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as { bert?: Record<string, unknown> })
    : {};
  const meta = json.bert ?? {};
  const task = TASKS.find((t) => t.wrote(meta));
  if (!task)
    throw new UserError(
      `${path}: no fine-tuning task recorded (bert.task); evaluate a checkpoint written by \`bert finetune\``,
    );
  return task;
}

/** `bert eval`: score a fine-tuned checkpoint with the task that wrote it. */
export async function evaluateCheckpoint(request: EvaluateRequest): Promise<TaskEvaluation[]> {
  return taskOfCheckpoint(request.checkpoint).evaluate(request);
}

/** A fine-tuned checkpoint with its task, model and tokenizer (`bert predict`). */
export async function loadTaskModel(dir: CheckpointDir): Promise<TaskModel & { task: Task }> {
  const task = taskOfCheckpoint(dir);
  return { task, ...(await loadTaskCheckpoint(dir, task.head)) };
}
