/**
 * Readers for the original GLUE TSV files. Quoting is disabled, as in the
 * reference readers (`csv.QUOTE_NONE`): fields contain literal `"` characters
 * that are text, not CSV quoting. A leading UTF-8 BOM (MRPC train/dev) is
 * dropped, a missing final newline (CoLA dev) is accepted, and a `\r` before
 * the newline (a file saved on Windows) is ignored.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { pathExists } from '../../io/path-exists.js';
import { getSplit, type GlueSplitSpec, type GlueTask } from './tasks.js';

export interface GlueExample {
  /** `<split>-<row ordinal>`, unique within a split. */
  readonly guid: string;
  /** Row index as the GLUE server expects it: the file's index column, else the 0-based row ordinal. */
  readonly index: string;
  readonly textA: string;
  readonly textB?: string;
  /** Class id (position in `task.labels`) or the STS-B score; undefined in unlabelled test files. */
  readonly label?: number;
  /** 1-based line number in the file (the header is line 1 when there is one). */
  readonly line: number;
}

/** A row that was skipped because of `skipBadRows`. */
export interface BadRow {
  readonly line: number;
  readonly reason: string;
}

export interface GlueSplitData {
  readonly task: GlueTask;
  readonly split: GlueSplitSpec;
  readonly file: string;
  readonly examples: GlueExample[];
  /** Rows dropped under `skipBadRows` (always empty otherwise: a bad row throws). */
  readonly skipped: BadRow[];
}

export interface ReadGlueOptions {
  /** Skip malformed rows and count them instead of throwing (the CLI's `--skip-bad-rows`). */
  readonly skipBadRows?: boolean;
}

/** STS-B similarity scores are defined on 0–5. */
const STSB_MIN = 0;
const STSB_MAX = 5;

/** Split file text into lines, dropping a BOM, CRs before newlines and the empty tail after a final newline. */
function splitLines(text: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Parse a label field; returns the class id / score, or an error message. */
function parseLabel(task: GlueTask, raw: string): number | string {
  if (task.kind === 'regression') {
    const score = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(score) || score < STSB_MIN || score > STSB_MAX) {
      return `score ${JSON.stringify(raw)} is not a number between ${STSB_MIN} and ${STSB_MAX}`;
    }
    return score;
  }
  const id = task.labels.indexOf(raw);
  if (id < 0)
    return `unknown label ${JSON.stringify(raw)} (expected one of ${task.labels.join(', ')})`;
  return id;
}

/**
 * Parse the text of one GLUE split file. `file` is used only in messages.
 * Throws UserError naming `file:line` on the first bad row unless
 * `skipBadRows` is set, in which case bad rows are returned in `skipped`.
 */
export function parseGlueTsv(
  text: string,
  task: GlueTask,
  split: GlueSplitSpec,
  file: string,
  options: ReadGlueOptions = {},
): { examples: GlueExample[]; skipped: BadRow[] } {
  const lines = splitLines(text);
  const examples: GlueExample[] = [];
  const skipped: BadRow[] = [];
  let first = 0;
  if (split.header) {
    if (lines.length === 0) throw new UserError(`${file}: empty file, expected a header line`);
    const n = lines[0]!.split('\t').length;
    // A header of the wrong width means the wrong file (or an unsupported GLUE version): never skippable.
    if (n !== split.columns) {
      throw new UserError(
        `${file}:1: header has ${n} tab-separated fields, expected ${split.columns} for glue/${task.name} ${split.name}`,
      );
    }
    first = 1;
  }
  for (let i = first; i < lines.length; i++) {
    const lineNo = i + 1;
    const fields = lines[i]!.split('\t');
    let problem: string | undefined;
    let label: number | undefined;
    if (fields.length !== split.columns) {
      problem = `expected ${split.columns} tab-separated fields, found ${fields.length}`;
    } else if (split.label !== undefined) {
      const parsed = parseLabel(task, fields[split.label]!);
      if (typeof parsed === 'string') problem = parsed;
      else label = parsed;
    }
    if (problem === undefined && split.index !== undefined && !/^\d+$/.test(fields[split.index]!)) {
      problem = `index ${JSON.stringify(fields[split.index])} is not a non-negative integer`;
    }
    if (problem !== undefined) {
      if (!options.skipBadRows) {
        throw new UserError(
          `${file}:${lineNo}: ${problem} (glue/${task.name} ${split.name}; pass --skip-bad-rows to skip such rows)`,
        );
      }
      skipped.push({ line: lineNo, reason: problem });
      continue;
    }
    const ordinal = examples.length;
    examples.push({
      guid: `${split.name}-${ordinal}`,
      index: split.index !== undefined ? fields[split.index]! : String(i - first),
      textA: fields[split.textA]!,
      ...(split.textB !== undefined ? { textB: fields[split.textB]! } : {}),
      ...(label !== undefined ? { label } : {}),
      line: lineNo,
    });
  }
  return { examples, skipped };
}

/** The path of a split's file under a GLUE root (`<root>/<TaskDir>/<file>`). */
export function glueSplitPath(dataDir: string, task: GlueTask, split: GlueSplitSpec): string {
  return join(dataDir, task.dir, split.file);
}

/** The one-line explanation of a missing split file: whole task absent, or just this split. */
async function missingSplitMessage(
  dataDir: string,
  task: GlueTask,
  split: GlueSplitSpec,
): Promise<string> {
  const taskDir = join(dataDir, task.dir);
  const present = await Promise.all(
    task.splits.map((s) => pathExists(glueSplitPath(dataDir, task, s))),
  );
  const missingNote = join(taskDir, 'MISSING.txt');
  const seeNote = (await pathExists(missingNote)) ? `; see ${missingNote}` : '';
  const why = present.some(Boolean)
    ? `this GLUE copy has no ${task.displayName} ${split.name} split${seeNote}`
    : `${task.displayName} is not in this GLUE copy${seeNote}; \`bert data fetch glue --tasks ${task.name}\` downloads it`;
  return `glue/${task.name}: ${split.file} not found in ${taskDir} (${why})`;
}

/**
 * Whether a task can be fine-tuned and evaluated from this GLUE copy: its
 * train split and every dev split must exist. Returns undefined when they
 * do, else the message `readGlueSplit` would throw for the first missing
 * file — what `eval-glue` prints for a task it lists as missing. AX (no
 * train split) needs only its test file.
 */
export async function glueTaskMissing(
  dataDir: string,
  task: GlueTask,
): Promise<string | undefined> {
  const needed = task.splits.filter((s) => s.role !== 'test');
  for (const split of needed.length > 0 ? needed : task.splits) {
    if (!(await pathExists(glueSplitPath(dataDir, task, split)))) {
      return missingSplitMessage(dataDir, task, split);
    }
  }
  return undefined;
}

/**
 * Read one split of a task from a GLUE root directory (the layout of
 * `download_glue_data.py`). A missing file is a UserError that says whether
 * the whole task or just this split is absent from this GLUE copy.
 */
export async function readGlueSplit(
  dataDir: string,
  task: GlueTask,
  splitName: string,
  options: ReadGlueOptions = {},
): Promise<GlueSplitData> {
  const split = getSplit(task, splitName);
  if (!split) {
    const names = task.splits.map((s) => s.name).join(', ');
    throw new UserError(
      `glue/${task.name}: unknown split "${splitName}" (expected one of ${names})`,
    );
  }
  const file = glueSplitPath(dataDir, task, split);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new UserError(await missingSplitMessage(dataDir, task, split));
  }
  const { examples, skipped } = parseGlueTsv(text, task, split, file, options);
  return { task, split, file, examples, skipped };
}

/** Class name of a predicted class id, as written in the task's files. */
export function labelName(task: GlueTask, classId: number): string {
  const name = task.labels[classId];
  if (name === undefined) {
    throw new RangeError(
      `glue/${task.name}: class id ${classId} out of range 0..${task.labels.length - 1}`,
    );
  }
  return name;
}
