/**
 * Forward parity against test/fixtures/python/bert_forward_torch.py: PyTorch's
 * own attention, Linear and LayerNorm modules run on the weights we save.
 * Skips only where no python with torch is found (test/helpers/torch-reference.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/tf.js';
import { PYTHON, TORCH_REFERENCE, torchMissing } from '../helpers/torch-reference.js';
import { bertForPreTraining } from '../../src/model/bert.js';
import {
  pretrainingTensors,
  disposeTensors,
  type PretrainingBatch,
} from '../../src/model/batch.js';
import { toHfConfigJson } from '../../src/model/config.js';
import { toHfTensors } from '../../src/model/hf.js';
import { formulationsFor } from '../../src/model/ops.js';
import { disposeParams } from '../../src/model/params.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { randomBatch, randomModel, smallConfig } from './helpers.js';

interface PeerOutput {
  last_hidden_state_cls: number[];
  last_hidden_state_sum: number;
  pooled: number[];
  nsp_logits: number[];
  mlm_logits_first: number[][];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Every position is a "masked" prediction so the peer's per-position MLM logits can be compared. */
function allPositions(batch: PretrainingBatch): PretrainingBatch {
  const { batch_size: B, seq_length: T } = batch;
  const positions = new Int32Array(B * T).map((_, i) => i % T);
  return {
    ...batch,
    num_predictions: T,
    masked_lm_positions: positions,
    masked_lm_ids: new Int32Array(B * T),
    masked_lm_weights: new Float32Array(B * T).fill(1),
  };
}

const skipReason = torchMissing();

test('forward matches the PyTorch reference to 1e-4 (MLM/NSP logits, hidden states, pooled), with and without padding', async (t) => {
  if (skipReason) {
    console.log(`skipping forward parity: ${skipReason}`);
    t.skip(skipReason);
    return;
  }
  const backend = await useTestBackend();
  const config = smallConfig({
    vocab_size: 50,
    hidden_size: 32,
    num_attention_heads: 4,
    intermediate_size: 64,
  });
  const T = 12;
  const lengths = [12, 7, 9];
  const batch = allPositions(
    randomBatch(config, { seed: 11, batch: 3, seq: T, predictions: 4, lengths }),
  );
  const dir = await mkdtemp(join(tmpdir(), 'bert-parity-'));
  try {
    for (const ops of formulationsFor(backend)) {
      const model = randomModel(config, { seed: 5, ops });
      await writeSafetensors(join(dir, 'model.safetensors'), await toHfTensors(model.params), {
        format: 'pt',
      });
      await writeFile(join(dir, 'config.json'), JSON.stringify(toHfConfigJson(config)));
      // The peer runs one sequence at a time at its real length: no padding reaches it.
      const lines = lengths.map((len, b) => {
        const row = (a: Int32Array): number[] => Array.from(a.subarray(b * T, b * T + len));
        return JSON.stringify({
          input_ids: row(batch.input_ids),
          token_type_ids: row(batch.token_type_ids),
          attention_mask: row(batch.attention_mask),
        });
      });
      // And once more, padded, with its attention mask: the peer's own padding path.
      lines.push(
        JSON.stringify({
          input_ids: Array.from(batch.input_ids.subarray(T, 2 * T)),
          token_type_ids: Array.from(batch.token_type_ids.subarray(T, 2 * T)),
          attention_mask: Array.from(batch.attention_mask.subarray(T, 2 * T)),
        }),
      );
      await writeFile(join(dir, 'inputs.jsonl'), lines.join('\n') + '\n');
      const stdout = execFileSync(PYTHON, [TORCH_REFERENCE, dir, join(dir, 'inputs.jsonl')], {
        encoding: 'utf8',
      });
      const peer = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as PeerOutput);
      assert.equal(peer.length, 4);

      const inputs = pretrainingTensors(batch);
      const out = bertForPreTraining(model, inputs, { training: false });
      const H = config.hidden_size;
      const V = config.vocab_size;
      const hidden = out.sequenceOutput.dataSync();
      const pooled = out.pooledOutput.dataSync();
      const nsp = out.nspLogits.dataSync();
      const mlm = out.mlmLogits.dataSync();
      let worst = 0;
      const rows = [0, 1, 2, 1];
      peer.forEach((p, i) => {
        const b = rows[i];
        const len = lengths[b];
        const cls = hidden.subarray(b * T * H, b * T * H + H);
        worst = Math.max(worst, maxAbsDiff(cls, p.last_hidden_state_cls));
        worst = Math.max(worst, maxAbsDiff(pooled.subarray(b * H, (b + 1) * H), p.pooled));
        worst = Math.max(worst, maxAbsDiff(nsp.subarray(b * 2, b * 2 + 2), p.nsp_logits));
        let sum = 0;
        for (let k = b * T * H; k < (b * T + len) * H; k++) sum += hidden[k];
        // A sum of len·H values: tolerance scaled by sqrt of the count.
        assert.ok(
          Math.abs(sum - p.last_hidden_state_sum) <= 1e-4 * Math.sqrt(len * H),
          `hidden-state sum ${sum} vs ${p.last_hidden_state_sum}`,
        );
        for (let tpos = 0; tpos < len; tpos++) {
          const ours = mlm.subarray((b * T + tpos) * V, (b * T + tpos) * V + 8);
          worst = Math.max(worst, maxAbsDiff(ours, p.mlm_logits_first[tpos]));
        }
      });
      console.log(`${ops.name} ops: max abs difference vs PyTorch ${worst.toExponential(2)}`);
      assert.ok(worst <= 1e-4, `${ops.name} ops: max abs difference ${worst} > 1e-4`);
      // The outputs are not trivially small: a 1e-4 match means something.
      assert.ok(Math.max(...Array.from(mlm).map(Math.abs)) > 0.5);
      tf.dispose([out.sequenceOutput, out.pooledOutput, out.nspLogits, out.mlmLogits]);
      disposeTensors(inputs);
      disposeParams(model.params);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
