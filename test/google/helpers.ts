/** The google-research/bert fixture, its reference outputs, and comparing a model with them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { packageRoot } from '../../src/paths.js';
import type { LoadedBert } from '../../src/export/load.js';
import { bertForPreTraining } from '../../src/model/bert.js';
import {
  pretrainingTensors,
  disposeTensors,
  type PretrainingBatch,
} from '../../src/model/batch.js';

export const FIXTURE = join(packageRoot, 'test', 'fixtures', 'google', 'tiny-tf');
export const INPUTS = join(packageRoot, 'test', 'fixtures', 'google', 'tiny-tf-inputs.jsonl');
export const REFERENCE = join(packageRoot, 'test', 'fixtures', 'google', 'tiny-tf-reference.jsonl');
export const PYTHON_TOOL = join(packageRoot, 'test', 'fixtures', 'python', 'google_bert_tf.py');

export interface ReferenceRow {
  sequence_output: number[][];
  pooled: number[];
  mlm_logits: number[][];
  nsp_logits: number[];
}

export interface InputRow {
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
}

export const jsonLines = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

/** A pretraining batch of these rows that predicts at every position. */
export function batchOf(rows: InputRow[]): PretrainingBatch {
  const B = rows.length;
  const T = rows[0].input_ids.length;
  return {
    batch_size: B,
    seq_length: T,
    input_ids: Int32Array.from(rows.flatMap((r) => r.input_ids)),
    token_type_ids: Int32Array.from(rows.flatMap((r) => r.token_type_ids)),
    attention_mask: Int32Array.from(rows.flatMap((r) => r.attention_mask)),
    num_predictions: T,
    masked_lm_positions: Int32Array.from(
      rows.flatMap(() => Array.from({ length: T }, (_, t) => t)),
    ),
    masked_lm_ids: new Int32Array(B * T),
    masked_lm_weights: new Float32Array(B * T).fill(1),
    next_sentence_labels: new Int32Array(B),
  };
}

/** The largest |ours − reference| of each output over all rows. */
export function compareWithReference(
  loaded: LoadedBert,
  rows: InputRow[],
  reference: ReferenceRow[],
): Record<'sequence' | 'pooled' | 'mlm' | 'nsp', number> {
  const inputs = pretrainingTensors(batchOf(rows));
  const out = bertForPreTraining(loaded.model, inputs, { training: false });
  const T = rows[0].input_ids.length;
  const H = loaded.config.hidden_size;
  const V = loaded.config.vocab_size;
  const seq = out.sequenceOutput.dataSync();
  const pooled = out.pooledOutput.dataSync();
  const mlm = out.mlmLogits.dataSync();
  const nsp = out.nspLogits.dataSync();
  const diff = { sequence: 0, pooled: 0, mlm: 0, nsp: 0 };
  reference.forEach((ref, b) => {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        diff.sequence = Math.max(
          diff.sequence,
          Math.abs(seq[(b * T + t) * H + h] - ref.sequence_output[t][h]),
        );
      }
      for (let v = 0; v < V; v++) {
        diff.mlm = Math.max(diff.mlm, Math.abs(mlm[(b * T + t) * V + v] - ref.mlm_logits[t][v]));
      }
    }
    for (let h = 0; h < H; h++)
      diff.pooled = Math.max(diff.pooled, Math.abs(pooled[b * H + h] - ref.pooled[h]));
    for (let k = 0; k < 2; k++)
      diff.nsp = Math.max(diff.nsp, Math.abs(nsp[b * 2 + k] - ref.nsp_logits[k]));
  });
  tf.dispose([out.sequenceOutput, out.pooledOutput, out.mlmLogits, out.nspLogits]);
  disposeTensors(inputs);
  return diff;
}
