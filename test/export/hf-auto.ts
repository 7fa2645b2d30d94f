/**
 * Our forward and transformers' Auto classes on the same few sentences, for
 * the export tests that check an exported directory against transformers
 * (preln.test.ts, untied.test.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  bertForPreTraining,
  bertForSequenceClassification,
  type BertModel,
} from '../../src/model/bert.js';
import {
  pretrainingTensors,
  disposeTensors,
  type PretrainingTensors,
} from '../../src/model/batch.js';
import { BertTokenizer, type Encoding } from '../../src/tokenizer/bert-tokenizer.js';
import { Vocab } from '../../src/tokenizer/vocab.js';
import { paddedBatch } from '../../src/export/embed.js';
import { HF_AUTO_FORWARD } from '../helpers/torch-reference.js';
import { PYTHON, TINY_VOCAB, maxAbsDiff } from './helpers.js';

const tokenizer = new BertTokenizer(new Vocab(TINY_VOCAB), { lowercase: true });
export const encodings: Encoding[] = [
  tokenizer.encode('The cat sat on the mat.'),
  tokenizer.encode('He is playing!', 'She played, and it ran fast.'),
  tokenizer.encode('A big red dog'),
  tokenizer.encode('unlike the small blue house, the tree was big?'),
];

/** What transformers (or we) compute for each encoding. */
export interface Outputs {
  last_hidden_state_cls: number[];
  mlm_logits_first?: number[][];
  classifier_logits?: number[];
  model_type?: string;
  architecture?: string;
}

/** `encodings` as one right-padded batch whose every position (T a row) is an MLM prediction row. */
export function everyPositionInputs(encodings: Encoding[]): {
  inputs: PretrainingTensors;
  B: number;
  T: number;
} {
  const batch = paddedBatch(encodings);
  const B = batch.batch_size;
  const T = batch.seq_length;
  const inputs = pretrainingTensors({
    ...batch,
    num_predictions: T,
    masked_lm_positions: new Int32Array(B * T).map((_, i) => i % T),
    masked_lm_ids: new Int32Array(B * T),
    masked_lm_weights: new Float32Array(B * T).fill(1),
    next_sentence_labels: new Int32Array(B),
  });
  return { inputs, B, T };
}

/** Our forward over the padded batch: [CLS] state, the first 8 MLM logits of every real position, or the classifier's logits. */
export async function ours(model: BertModel): Promise<Outputs[]> {
  const { inputs, T } = everyPositionInputs(encodings);
  const H = model.config.hidden_size;
  const V = model.config.vocab_size;
  const results: Outputs[] = [];
  if (model.heads === 'pretraining') {
    const o = bertForPreTraining(model, inputs, { training: false });
    const hidden = (await o.sequenceOutput.data()) as Float32Array;
    const mlm = (await o.mlmLogits.data()) as Float32Array;
    encodings.forEach((e, b) =>
      results.push({
        last_hidden_state_cls: Array.from(hidden.subarray(b * T * H, b * T * H + H)),
        mlm_logits_first: e.ids.map((_, t) =>
          Array.from(mlm.subarray((b * T + t) * V, (b * T + t) * V + 8)),
        ),
      }),
    );
    tf.dispose([o.sequenceOutput, o.pooledOutput, o.nspLogits, o.mlmLogits]);
  } else {
    const o = bertForSequenceClassification(model, inputs, { training: false });
    const hidden = (await o.sequenceOutput.data()) as Float32Array;
    const logits = (await o.logits.data()) as Float32Array;
    const L = model.numLabels;
    encodings.forEach((_, b) =>
      results.push({
        last_hidden_state_cls: Array.from(hidden.subarray(b * T * H, b * T * H + H)),
        classifier_logits: Array.from(logits.subarray(b * L, (b + 1) * L)),
      }),
    );
    tf.dispose([o.sequenceOutput, o.pooledOutput, o.logits]);
  }
  disposeTensors(inputs);
  return results;
}

/** transformers' Auto class (`mlm`, `pretraining` or `classification`) on `dir`, for the encodings. */
export async function theirs(
  dir: string,
  kind: 'mlm' | 'pretraining' | 'classification',
  scratch: string,
): Promise<Outputs[]> {
  const path = join(scratch, `inputs-${kind}.jsonl`);
  const lines = encodings.map((e) =>
    JSON.stringify({ input_ids: e.ids, token_type_ids: e.tokenTypeIds }),
  );
  await writeFile(path, lines.join('\n') + '\n');
  const stdout = execFileSync(PYTHON, [HF_AUTO_FORWARD, dir, kind, path], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Outputs);
}

/** What two forwards are compared on: the [CLS] state and whichever heads the first one has. */
interface Comparable {
  last_hidden_state_cls: number[];
  pooled?: number[];
  nsp_logits?: number[];
  classifier_logits?: number[];
  mlm_logits_first?: number[][];
}

export function worstDifference(a: Comparable[], b: Comparable[]): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  a.forEach((x, i) => {
    const y = b[i];
    worst = Math.max(worst, maxAbsDiff(x.last_hidden_state_cls, y.last_hidden_state_cls));
    if (x.pooled) worst = Math.max(worst, maxAbsDiff(x.pooled, y.pooled!));
    if (x.nsp_logits) worst = Math.max(worst, maxAbsDiff(x.nsp_logits, y.nsp_logits!));
    if (x.classifier_logits)
      worst = Math.max(worst, maxAbsDiff(x.classifier_logits, y.classifier_logits!));
    if (x.mlm_logits_first) {
      assert.equal(y.mlm_logits_first!.length, x.mlm_logits_first.length);
      x.mlm_logits_first.forEach((row, t) => {
        worst = Math.max(worst, maxAbsDiff(row, y.mlm_logits_first![t]));
      });
    }
  });
  return worst;
}

export function bitsOf(data: ArrayLike<number>): Uint32Array {
  return new Uint32Array(Float32Array.from(data).buffer);
}

/** Every parameter of `b` is bitwise the same as `a`'s, and no other. */
export async function assertSameParams(
  a: BertModel,
  b: BertModel,
  skip: (name: string) => boolean = () => false,
): Promise<void> {
  const names = [...a.params.keys()].filter((n) => !skip(n));
  for (const name of names) {
    const x = a.params.get(name)!;
    const y = b.params.get(name);
    assert.ok(y, `${name} missing after loading`);
    assert.deepEqual(y.shape, x.shape, name);
    assert.deepEqual(
      bitsOf((await y.data()) as Float32Array),
      bitsOf((await x.data()) as Float32Array),
      name,
    );
  }
}
