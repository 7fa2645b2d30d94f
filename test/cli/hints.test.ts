/**
 * Every hint an error prints must be a command line the CLI accepts. The
 * static test reads each error message in src/ for hints ("pass --force",
 * "use --split dev", `bert tokenize`) and parses each, with the command the
 * error comes from, through the real yargs setup, stopping just before the
 * handler. The GLUE test follows its hint for real.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildCli } from '../../src/cli/main.js';
import { packageRoot } from '../../src/paths.js';

/** The command lines (before the hint) each file's errors can come from. */
const HINT_COMMANDS: Record<string, string[]> = {
  'src/tasks/glue/reader.ts': ['finetune glue/sst2', 'eval-glue', 'eval --checkpoint x'],
  'src/tasks/glue/metrics.ts': ['eval --checkpoint x'],
  'src/tasks/squad/evaluate.ts': ['eval --checkpoint x'],
  'src/export/load.ts': [
    'export --checkpoint x --out y',
    'export --checkpoint x --out y --format tf',
  ],
  'src/export/google.ts': ['export --checkpoint x --out y'],
  'src/google/fetch-model.ts': ['models fetch bert_uncased_L-2_H-128_A-2'],
  'src/ci/regression.ts': ['ci'],
  'src/train/run-dir.ts': ['pretrain', 'finetune glue/sst2', 'eval-glue'],
  'src/cli/run-session.ts': ['pretrain', 'finetune glue/sst2'],
  'src/cli/commands/finetune.ts': ['finetune glue/sst2'],
  'src/cli/commands/pretrain.ts': ['pretrain'],
  'src/tasks/pretrain/pretrain.ts': ['pretrain'],
  'src/tasks/glue/fetch.ts': ['data fetch glue'],
  'src/tokenizer/run.ts': ['tokenize'],
  'src/tokenizer/shard-corpus.ts': ['tokenize'],
  'src/setup/tfjs-node.ts': ['setup tensorflow'],
};

/** Error constructors whose messages reach the user. */
const ERROR_CALL = /new (?:UserError|NotBuiltError|BackendSkip|FileSystemError)\(/g;
/**
 * `bert ...` in backticks: escaped inside a template literal, or mid-sentence
 * in a quoted string (not a template literal's own opening backtick).
 */
const COMMAND_HINT = /(?:\\`|(?<=\S )`)(bert [^`\\]+)\\?`/g;
/** A flag the message tells the user to add, with its value when one ends the phrase. */
const FLAG_HINT =
  /(?:pass|use|try|with|or|;)\s+(--[a-z][a-z-]*)(?: ([a-z0-9_./=-]+)(?=[)'"`;]|\\`|$))?/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(name) ? [p] : [];
  });
}

/** The text of each error constructor call: from `new XError(` to its closing parenthesis. */
function errorMessages(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(ERROR_CALL)) {
    let depth = 1;
    let i = m.index! + m[0].length;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')') depth--;
    }
    out.push(text.slice(m.index!, i));
  }
  return out;
}

interface Hint {
  file: string;
  argv: string[];
}

function hintsInSources(): Hint[] {
  const hints: Hint[] = [];
  for (const path of sourceFiles(join(packageRoot, 'src'))) {
    const file = relative(packageRoot, path);
    for (const message of errorMessages(readFileSync(path, 'utf8'))) {
      for (const m of message.matchAll(COMMAND_HINT)) {
        // Template placeholders stand for a path or a name.
        const line = m[1]!.replace(/\$\{[^}]*\}/g, 'x').trim();
        hints.push({ file, argv: line.split(/\s+/).slice(1) });
      }
      for (const m of message.matchAll(FLAG_HINT)) {
        const prefixes = HINT_COMMANDS[file];
        assert.ok(
          prefixes,
          `${file} suggests ${m[1]}: add the commands its errors come from to HINT_COMMANDS`,
        );
        for (const prefix of prefixes) {
          hints.push({ file, argv: [...prefix.split(' '), m[1]!, ...(m[2] ? [m[2]] : [])] });
        }
      }
    }
  }
  return hints;
}

class ReachedHandler extends Error {}

/** Parse `argv` with the real CLI, stopping before the command runs; the parse error, or null. */
async function parseError(argv: string[]): Promise<string | null> {
  try {
    await buildCli(argv)
      .middleware(() => {
        throw new ReachedHandler();
      }, false)
      .parseAsync();
  } catch (err) {
    if (err instanceof ReachedHandler) return null;
    return err instanceof Error ? err.message : String(err);
  }
  return 'the command ran without reaching the handler';
}

test('every hint in an error message parses as a command line', async () => {
  const hints = hintsInSources();
  const found = new Set(hints.map((h) => h.argv.join(' ')));
  // The ones this test exists for: if the extraction stopped finding them, it is broken.
  for (const expected of [
    'finetune glue/sst2 --skip-bad-rows',
    'eval --checkpoint x --skip-bad-rows',
    'eval --checkpoint x --split dev',
    'pretrain --resume',
    'pretrain --force',
    'export --checkpoint x --out y --force',
    'setup tensorflow',
    'tokenize',
  ]) {
    assert.ok(found.has(expected), `hint "${expected}" found (got: ${[...found].join(' | ')})`);
  }
  const rejected: string[] = [];
  for (const h of hints) {
    const err = await parseError(h.argv);
    if (err) rejected.push(`${h.file}: bert ${h.argv.join(' ')}: ${err.split('\n')[0]}`);
  }
  assert.deepEqual(rejected, []);
});

test('the parse check itself rejects what the CLI rejects', async () => {
  assert.match((await parseError(['pretrain', '--skip-bad-rows'])) ?? '', /Unknown argument/);
  assert.equal(await parseError(['finetune', 'glue/sst2', '--skip-bad-rows']), null);
});

test('GLUE fine-tuning: the hints of a bad row and of an existing run directory, followed, work', () => {
  const root = mkdtempSync(join(tmpdir(), 'bert-hints-'));
  const glue = join(root, 'glue');
  cpSync(join(packageRoot, 'data/glue/SST-2'), join(glue, 'SST-2'), { recursive: true });
  appendFileSync(join(glue, 'SST-2/train.tsv'), 'a row without its label\n');
  const args = [
    join(packageRoot, 'bin/bert.js'),
    'finetune',
    'glue/sst2',
    '-c',
    'configs/finetune/glue.yaml',
    '--from',
    'none',
    '--data',
    glue,
    ...[
      'model.hidden_size=32',
      'model.num_hidden_layers=1',
      'model.num_attention_heads=2',
      'model.intermediate_size=64',
      'max_seq_length=32',
      'max_train_examples=32',
      'max_eval_examples=32',
      'train.batch_size=16',
    ].flatMap((s) => ['--set', s]),
    '--max-steps',
    '1',
    '--backend',
    'wasm',
    '--ui',
    'plain',
  ];
  const run = (extra: string[]) =>
    spawnSync(process.execPath, [...args, ...extra], { encoding: 'utf8', cwd: packageRoot });
  const first = run(['--run', join(root, 'run1')]);
  assert.equal(first.status, 1, first.stderr);
  const line = first.stderr.trim().split('\n').pop()!;
  assert.match(line, /SST-2\/train\.tsv:4002: expected 2 tab-separated fields, found 1/);
  const hint = /pass (--[a-z-]+) to skip/.exec(line)?.[1];
  assert.equal(hint, '--skip-bad-rows', line);
  const second = run(['--run', join(root, 'run2'), hint!]);
  assert.equal(second.status, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /Unknown argument/);
  assert.match(
    second.stderr,
    /train\.tsv:4002: skipped \(expected 2 tab-separated fields, found 1\)/,
  );

  // The same run directory again: the hint must be one fine-tuning accepts (it has no --resume).
  const again = run(['--run', join(root, 'run2'), hint!]);
  assert.equal(again.status, 1, again.stderr);
  const exists = again.stderr.trim().split('\n').pop()!;
  assert.match(exists, /run directory already exists; pass --force to replace it$/);
  const replaced = run([
    '--run',
    join(root, 'run2'),
    hint!,
    /pass (--[a-z-]+) to replace/.exec(exists)![1]!,
  ]);
  assert.equal(replaced.status, 0, replaced.stderr);
});
