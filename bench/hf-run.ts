/**
 * What the pretraining-comparison drivers (bench/pretrain-curve.ts,
 * bench/pretrain-budget.ts) share: finding the Python that has torch +
 * transformers (`--python`, else the first entry of the colon-separated
 * BERT_BENCH_PYTHON, as bench/train.ts), and running `bert` and the scripts of
 * bench/hf/ one after another in the foreground.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BERT_BIN = fileURLToPath(new URL('../../bin/bert.js', import.meta.url));

/** A script of bench/hf/ (this file runs from dist/bench/). */
export function hfScript(name: string): string {
  return fileURLToPath(new URL(`../../bench/hf/${name}`, import.meta.url));
}

/** The Python of `--python`, else BERT_BENCH_PYTHON's first entry; an error naming both when neither is set. */
export function resolvePython(flag: string | null, suite: string): string {
  const python = flag ?? (process.env.BERT_BENCH_PYTHON ?? '').split(':').find(Boolean) ?? null;
  if (python === null) {
    throw new Error(
      `bench ${suite}: needs a Python with torch and transformers: --python PATH or BERT_BENCH_PYTHON=PATH`,
    );
  }
  if (!existsSync(python)) throw new Error(`bench ${suite}: ${python}: no such Python`);
  return python;
}

/**
 * Run a command to completion; its stderr (progress) goes to ours, its stdout
 * is returned (or shown too with `showStdout`). A non-zero exit is an error
 * naming the command.
 */
export function runStep(
  what: string,
  command: string,
  args: string[],
  { showStdout = false, env }: { showStdout?: boolean; env?: NodeJS.ProcessEnv } = {},
): string {
  console.error(`\n$ ${[command, ...args].join(' ')}`);
  const options: SpawnSyncOptions = {
    stdio: ['ignore', showStdout ? 'inherit' : 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: env ?? process.env,
  };
  const r = spawnSync(command, args, options);
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what}: exited with ${r.status ?? r.signal}`);
  return showStdout ? '' : String(r.stdout);
}

/** `node bin/bert.js …` with this Node. */
export function runBert(what: string, args: string[], showStdout = true): string {
  return runStep(what, process.execPath, [BERT_BIN, ...args], { showStdout });
}

/** The JSON objects of the lines of `text` that are JSON objects (other lines are skipped). */
export function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as T);
}

/** A flag parser for `--name value` / `--name` pairs against a table of defaults. */
export function parseFlags<T extends Record<string, string | number | boolean | string[]>>(
  suite: string,
  argv: string[],
  defaults: T,
): T {
  if (argv.includes('--help') || argv.includes('-h')) {
    const flags = Object.entries(defaults).map(([k, v]) =>
      typeof v === 'boolean'
        ? `[--${k}]`
        : `[--${k} ${Array.isArray(v) ? 'X (repeatable)' : JSON.stringify(v)}]`,
    );
    console.log(`usage: npm run bench -- ${suite} ${flags.join(' ')}\n(see bench/${suite}.ts)`);
    process.exit(0);
  }
  const out: Record<string, string | number | boolean | string[]> = { ...defaults };
  for (const [k, v] of Object.entries(defaults)) if (Array.isArray(v)) out[k] = [...v];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const key = flag.replace(/^--/, '');
    if (!flag.startsWith('--') || !(key in defaults)) {
      throw new Error(
        `bench ${suite}: unknown flag ${flag} (known: ${Object.keys(defaults)
          .map((k) => `--${k}`)
          .join(' ')})`,
      );
    }
    const d = defaults[key];
    if (typeof d === 'boolean') {
      out[key] = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`bench ${suite}: ${flag} needs a value`);
    if (typeof d === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n))
        throw new Error(`bench ${suite}: ${flag} ${value}: expected a number`);
      out[key] = n;
    } else if (Array.isArray(d)) {
      (out[key] as string[]).push(value);
    } else {
      out[key] = value;
    }
  }
  return out as T;
}
