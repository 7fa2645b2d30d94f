/**
 * Flags shared by the training commands (pretrain, finetune, eval-glue) and
 * the glue between flags and the config loader. No training logic here.
 */
import type { Argv } from 'yargs';
import { BACKEND_NAMES, type BackendRequest } from '../backend/select.js';
import { UserError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import type { SchemaName } from '../config/schemas.js';

export const UI_KINDS = ['ink', 'plain', 'json'] as const;
export type UiKind = (typeof UI_KINDS)[number];

export interface TrainingFlags {
  config?: string;
  set?: string[];
  run?: string;
  'max-steps'?: number;
  'max-minutes'?: number;
  seed?: number;
  backend: BackendRequest;
  threads?: number;
  ui?: UiKind;
  force: boolean;
  resume?: string | boolean;
}

export function withBackendFlags<T>(y: Argv<T>) {
  return y
    .option('backend', {
      choices: ['auto', ...BACKEND_NAMES] as const,
      default: 'auto' as const,
      describe: 'Compute backend; auto tries tensorflow, webgpu, wasm, cpu in that order',
    })
    .option('threads', {
      type: 'number',
      describe:
        "CPU threads: tensorflow's intra-op pool, or wasm's native matMul (bert setup native); default all cores",
    });
}

export function withConfigFlags<T>(y: Argv<T>) {
  return y
    .option('config', { alias: 'c', type: 'string', describe: 'YAML config file' })
    .option('set', {
      type: 'string',
      array: true,
      describe: 'Override a config key: --set train.lr=5e-5 (repeatable)',
    });
}

export function withTrainingFlags<T>(y: Argv<T>) {
  return withBackendFlags(withConfigFlags(y))
    .option('run', { type: 'string', describe: 'Run directory (default runs/<name>)' })
    .option('max-steps', { type: 'number', describe: 'Stop after this many optimizer steps' })
    .option('max-minutes', {
      type: 'number',
      describe:
        'Wall-clock budget of training time (train.budget_minutes): the LR schedule follows it; evaluate, checkpoint and stop when spent',
    })
    .option('seed', { type: 'number', describe: 'Random seed (overrides train.seed)' })
    .option('ui', {
      choices: UI_KINDS,
      describe: 'Progress display; default ink on a terminal, plain otherwise (or with CI=true)',
    })
    .option('force', {
      type: 'boolean',
      default: false,
      describe: 'Replace an existing run directory',
    })
    .option('resume', {
      type: 'string',
      describe: 'Continue the run in this directory from its latest checkpoint',
    })
    .group(
      [
        'config',
        'set',
        'run',
        'max-steps',
        'max-minutes',
        'seed',
        'backend',
        'threads',
        'ui',
        'force',
        'resume',
      ],
      'Training options:',
    );
}

/** `--skip-bad-rows`: the flag form of the config key `skip_bad_rows` (GLUE readers name it in their errors). */
export function withSkipBadRowsFlag<T>(y: Argv<T>) {
  return y.option('skip-bad-rows', {
    type: 'boolean',
    describe: 'GLUE: skip malformed TSV rows (counted) instead of stopping at the first',
  });
}

/** Positive-number checks yargs does not do for us. */
export function checkPositive(flags: Record<string, unknown>, names: string[]): void {
  for (const name of names) {
    const v = flags[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new UserError(`--${name}: expected a positive number, got ${String(v)}`);
    }
  }
}

/**
 * The positive-number checks of the training flags (`--max-steps`, `--max-minutes`,
 * `--threads`), then of the command's own flags in `extra`.
 */
export function checkTrainingFlags(flags: TrainingFlags, extra: string[] = []): void {
  checkPositive(flags as unknown as Record<string, unknown>, [
    'max-steps',
    'max-minutes',
    'threads',
    ...extra,
  ]);
}

/** Load the command's config: file, then --set, then dedicated flags (flags win). */
/**
 * Every flag that overrides a config key, for every command (the flag wins
 * over the config file and --set). A command passes the flags it has; keys
 * its schema lacks are skipped.
 */
export const CONFIG_FLAGS: ReadonlyArray<{ flag: string; path: string[]; schemas: SchemaName[] }> =
  [
    { flag: 'task', path: ['task'], schemas: ['finetune'] },
    { flag: 'from', path: ['from'], schemas: ['finetune'] },
    { flag: 'data', path: ['data_dir'], schemas: ['finetune'] },
    { flag: 'skip-bad-rows', path: ['skip_bad_rows'], schemas: ['finetune'] },
    { flag: 'seed', path: ['train', 'seed'], schemas: ['finetune', 'pretrain'] },
    { flag: 'max-minutes', path: ['train', 'budget_minutes'], schemas: ['finetune', 'pretrain'] },
    { flag: 'threads', path: ['train', 'threads'], schemas: ['finetune', 'pretrain'] },
    { flag: 'doc-stride', path: ['squad', 'doc_stride'], schemas: ['finetune'] },
    { flag: 'max-query-length', path: ['squad', 'max_query_length'], schemas: ['finetune'] },
    { flag: 'held-out-every', path: ['squad', 'held_out_every'], schemas: ['finetune'] },
    {
      flag: 'null-score-diff-threshold',
      path: ['squad', 'null_score_diff_threshold'],
      schemas: ['finetune'],
    },
  ];

/** The config file (or the schema's defaults), then --set, then the flags of CONFIG_FLAGS. */
export function loadCommandConfig<T>(
  schema: SchemaName,
  flags: { config?: string; set?: string[] } & Record<string, unknown>,
): T {
  const overrides = CONFIG_FLAGS.filter((f) => f.schemas.includes(schema)).map((f) => ({
    path: f.path,
    value: flags[f.flag],
  }));
  return loadConfig<T>(schema, flags.config ?? null, { sets: flags.set ?? [], overrides }).config;
}
