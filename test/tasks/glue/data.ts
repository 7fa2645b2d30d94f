import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file runs as dist/test/tasks/glue/data.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * The first rows of every GLUE file the tests read, shipped in
 * test/fixtures/glue (see its README.md): same layout, headers, BOMs and line
 * ends as the full files.
 */
export const SAMPLE_GLUE_DIR = resolve(REPO_ROOT, 'test/fixtures/glue');

/** Data rows in every file of the shipped sample. */
export const SAMPLE_GLUE_ROWS = 10;

/**
 * A full GLUE copy: the data kit beside the repository (which CI has) or
 * BERT_GLUE_DIR. A fresh clone has neither.
 */
const FULL_GLUE_DIR = process.env.BERT_GLUE_DIR ?? resolve(REPO_ROOT, '../shared/data/glue');

/** Whether the full copy is here; the GLUE tests then check the full files. */
export const HAVE_FULL_GLUE = existsSync(resolve(FULL_GLUE_DIR, 'SST-2/dev.tsv'));

/** The GLUE copy the tests read: the full one when present, else the shipped sample. */
export const GLUE_DIR = HAVE_FULL_GLUE ? FULL_GLUE_DIR : SAMPLE_GLUE_DIR;

/** What the tests call the copy they read, for test names and messages. */
export const GLUE_COPY = HAVE_FULL_GLUE ? 'real file' : 'shipped sample';
