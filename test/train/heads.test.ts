/** The span and token heads: HF names and shapes, no pooler, and both learn a fixed batch. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from '../helpers/tf.js';
import { createBertModel } from '../../src/model/bert.js';
import { bertConfig } from '../../src/model/config.js';
import { disposeParams, parameterSpecs } from '../../src/model/params.js';
import { toHfTensors, fromHfTensors } from '../../src/model/hf.js';
import { QuestionAnsweringStep, TokenClassificationStep } from '../../src/train/step.js';
import { createOptimizer } from '../../src/train/optimizer.js';

before(async () => {
  await useTestBackend();
});

const config = bertConfig('tiny', {
  vocab_size: 30,
  hidden_size: 16,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 32,
  max_position_embeddings: 16,
  hidden_dropout_prob: 0,
  attention_probs_dropout_prob: 0,
});

test('span and token heads use HF names and have no pooler; a pretrained pooler is dropped on load', async () => {
  const qa = parameterSpecs(config, { heads: 'question_answering' }).map((s) => s.name);
  assert.ok(qa.includes('qa_outputs.weight') && qa.includes('qa_outputs.bias'));
  assert.ok(!qa.some((n) => n.startsWith('bert.pooler')));
  const tok = parameterSpecs(config, { heads: 'token_classification', numLabels: 9 });
  assert.deepEqual(tok.find((s) => s.name === 'classifier.weight')?.shape, [16, 9]);
  const pre = createBertModel(config, { heads: 'pretraining', seed: 1 });
  const loaded = fromHfTensors(await toHfTensors(pre.params), config, {
    heads: 'question_answering',
    newHeads: { seed: 2 },
  });
  assert.deepEqual(loaded.initialized, ['qa_outputs.weight', 'qa_outputs.bias']);
  assert.ok(loaded.ignored.includes('bert.pooler.dense.weight'));
  disposeParams(pre.params);
  disposeParams(loaded.params);
});

const B = 4;
const T = 8;
function encoder(seed: number): {
  input_ids: Int32Array;
  token_type_ids: Int32Array;
  attention_mask: Int32Array;
} {
  const input_ids = Int32Array.from({ length: B * T }, (_, i) => 5 + ((i * 7 + seed) % 20));
  const attention_mask = Int32Array.from({ length: B * T }, (_, i) =>
    i % T < T - 1 || i < T ? 1 : 0,
  );
  return { input_ids, token_type_ids: new Int32Array(B * T), attention_mask };
}

test('QA head: start/end loss falls on a fixed batch', async () => {
  const model = createBertModel(config, { heads: 'question_answering', seed: 3 });
  const opt = createOptimizer({ type: 'adamw' });
  const step = new QuestionAnsweringStep(model, opt, { seed: 1 });
  const batch = {
    batch_size: B,
    seq_length: T,
    ...encoder(1),
    start_positions: Int32Array.from([1, 2, 3, 0]),
    end_positions: Int32Array.from([2, 4, 3, 0]),
  };
  const losses: number[] = [];
  for (let i = 0; i < 30; i++) {
    step.accumulate(batch);
    losses.push((await step.apply(1e-2)).loss);
  }
  // ln(8) ≈ 2.08 at the start; a memorised batch goes well below.
  assert.ok(losses[0] > 1.5, `first loss ${losses[0]}`);
  assert.ok(losses[29] < 0.5 * losses[0], `loss ${losses[0]} → ${losses[29]}`);
  step.dispose();
  opt.dispose();
  disposeParams(model.params);
});

test('token head: loss counts only weighted pieces and falls on a fixed batch', async () => {
  const model = createBertModel(config, { heads: 'token_classification', numLabels: 3, seed: 4 });
  const opt = createOptimizer({ type: 'adamw' });
  const step = new TokenClassificationStep(model, opt, { seed: 1 });
  const labels = Int32Array.from({ length: B * T }, (_, i) => i % 3);
  const label_weights = Float32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? 0 : 1));
  const batch = { batch_size: B, seq_length: T, ...encoder(2), labels, label_weights };
  step.accumulate(batch);
  const first = await step.apply(1e-2);
  let last = first;
  for (let i = 0; i < 30; i++) {
    step.accumulate(batch);
    last = await step.apply(1e-2);
  }
  assert.ok(Math.abs(first.loss - Math.log(3)) < 0.5, `first loss ${first.loss}`);
  assert.ok(last.loss < 0.5 * first.loss, `loss ${first.loss} → ${last.loss}`);
  assert.ok(last.accuracy > 0.8);
  step.dispose();
  opt.dispose();
  disposeParams(model.params);
});
