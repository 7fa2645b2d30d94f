/** The model loader: heads from the task's description, fresh span/token heads drawn as before. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from '../helpers/tf.js';
import { smallConfig } from './helpers.js';
import { createBertModel } from '../../src/model/bert.js';
import { toHfTensors } from '../../src/model/hf.js';
import { disposeParams } from '../../src/model/params.js';
import { freshModel, modelFromTensors, withoutOtherHeads } from '../../src/model/load.js';

before(async () => {
  await useTestBackend();
});

const config = smallConfig();

test('fresh span and token heads: the encoder of the same-seed classifier, no pooler', () => {
  const classifier = createBertModel(config, { heads: 'classification', numLabels: 9, seed: 3 });
  const tokens = freshModel(config, { heads: 'token_classification', numLabels: 9 }, 3);
  const spans = freshModel(config, { heads: 'question_answering' }, 3);
  assert.equal(tokens.heads, 'token_classification');
  assert.equal(tokens.numLabels, 9);
  assert.equal(spans.numLabels, 2);
  for (const m of [tokens, spans]) assert.equal(m.params.has('bert.pooler.dense.weight'), false);
  assert.equal(spans.params.has('classifier.weight'), false);
  assert.deepEqual(spans.params.get('qa_outputs.weight')?.shape, [config.hidden_size, 2]);
  const word = 'bert.embeddings.word_embeddings.weight';
  assert.deepEqual(tokens.params.get(word)?.dataSync(), classifier.params.get(word)?.dataSync());
  assert.deepEqual(
    tokens.params.get('classifier.weight')?.dataSync(),
    classifier.params.get('classifier.weight')?.dataSync(),
  );
  for (const m of [classifier, tokens, spans]) disposeParams(m.params);
});

test('a checkpoint loads with the heads asked for; another task head is dropped, not mismatched', async () => {
  const glue = createBertModel(config, { heads: 'classification', numLabels: 2, seed: 5 });
  const tensors = await toHfTensors(glue.params);
  const again = modelFromTensors(
    tensors,
    config,
    { heads: 'classification', numLabels: 2 },
    {
      source: 'test',
    },
  );
  assert.deepEqual(again.initialized, []);
  assert.deepEqual(
    again.model.params.get('classifier.weight')?.dataSync(),
    glue.params.get('classifier.weight')?.dataSync(),
  );
  const head = { heads: 'token_classification' as const, numLabels: 9 };
  assert.throws(() =>
    modelFromTensors(tensors, config, head, { source: 'test', newHeads: { seed: 1 } }),
  );
  const ner = modelFromTensors(withoutOtherHeads(tensors, head), config, head, {
    source: 'test',
    newHeads: { seed: 1 },
  });
  assert.deepEqual(ner.initialized.sort(), ['classifier.bias', 'classifier.weight']);
  assert.equal(
    withoutOtherHeads(tensors, { heads: 'classification', numLabels: 2 }).size,
    tensors.size,
  );
  for (const m of [glue, again.model, ner.model]) disposeParams(m.params);
});
