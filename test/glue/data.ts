import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file runs as dist/test/glue/data.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The shared real GLUE copy (../shared/data/glue), overridable with BERT_GLUE_DIR. */
export const GLUE_DIR = process.env.BERT_GLUE_DIR ?? resolve(REPO_ROOT, '../shared/data/glue');

/** Why the real-data tests cannot run here, or undefined if they can. */
export const NO_GLUE_DATA = existsSync(resolve(GLUE_DIR, 'SST-2/dev.tsv'))
  ? undefined
  : `real GLUE data not found at ${GLUE_DIR} (set BERT_GLUE_DIR)`;
