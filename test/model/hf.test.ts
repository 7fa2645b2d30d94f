import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from '../helpers/tf.js';
import {
  fromHfConfigJson,
  toHfConfigJson,
  bertConfig,
  NAMED_SIZES,
  validateBertConfig,
} from '../../src/model/config.js';
import { fromHfTensors, toHfTensors } from '../../src/model/hf.js';
import { countParameters, disposeParams, parameterSpecs } from '../../src/model/params.js';
import { createBertModel } from '../../src/model/bert.js';
import type { TensorData } from '../../src/io/safetensors.js';
import { UserError } from '../../src/errors.js';
import { randomModel, smallConfig } from './helpers.js';

const config = smallConfig();

before(useTestBackend);

test('named sizes: layers/hidden/heads as published, intermediate = 4H; bert-base has 110M parameters', async () => {
  assert.deepEqual(NAMED_SIZES.tiny, {
    num_hidden_layers: 2,
    hidden_size: 128,
    num_attention_heads: 2,
  });
  assert.deepEqual(NAMED_SIZES.large, {
    num_hidden_layers: 24,
    hidden_size: 1024,
    num_attention_heads: 16,
  });
  assert.equal(bertConfig('mini').intermediate_size, 1024);
  // Count from the specs (no allocation): BertForPreTraining bert-base-uncased = 110,106,428 parameters.
  const n = parameterSpecs(bertConfig('base'), { heads: 'pretraining' }).reduce(
    (s, p) => s + p.shape.reduce((a, b) => a * b, 1),
    0,
  );
  assert.equal(n, 110106428);
  assert.throws(
    () => validateBertConfig({ ...bertConfig('tiny'), num_attention_heads: 3 }, 'configs/x.yaml'),
    /configs\/x\.yaml: hidden_size \(128\) must be a multiple of num_attention_heads \(3\)/,
  );
  assert.deepEqual(fromHfConfigJson(toHfConfigJson(config)), config);
});

test('init: N(0, 0.02) truncated at 2σ for weights, zeros for biases, ones for LayerNorm gains; same seed, same model', async () => {
  const a = createBertModel(config, { heads: 'pretraining', seed: 1 });
  const b = createBertModel(config, { heads: 'pretraining', seed: 1 });
  const w = Array.from(a.params.get('bert.embeddings.word_embeddings.weight')!.dataSync());
  const mean = w.reduce((s, x) => s + x, 0) / w.length;
  const std = Math.sqrt(w.reduce((s, x) => s + (x - mean) ** 2, 0) / w.length);
  // A normal truncated at ±2σ has std 0.88σ.
  assert.ok(Math.abs(std - 0.02 * 0.88) < 0.003, `std ${std}`);
  assert.ok(Math.max(...w.map(Math.abs)) <= 0.04 + 1e-6);
  assert.ok(
    a.params
      .get('bert.encoder.layer.0.attention.self.query.bias')!
      .dataSync()
      .every((x) => x === 0),
  );
  assert.ok(
    a.params
      .get('bert.encoder.layer.1.output.LayerNorm.weight')!
      .dataSync()
      .every((x) => x === 1),
  );
  assert.deepEqual(
    Array.from(b.params.get('cls.seq_relationship.weight')!.dataSync()),
    Array.from(a.params.get('cls.seq_relationship.weight')!.dataSync()),
  );
  assert.notDeepEqual(
    Array.from(a.params.get('bert.encoder.layer.0.attention.self.query.weight')!.dataSync()),
    Array.from(a.params.get('bert.encoder.layer.0.attention.self.key.weight')!.dataSync()),
  );
  disposeParams(a.params);
  disposeParams(b.params);
});

test('toHfTensors writes Linear weights as [out, in]; fromHfTensors restores the same values', async () => {
  const model = randomModel(config, { seed: 2 });
  const hf = await toHfTensors(model.params);
  assert.equal(hf.size, model.params.size);
  assert.ok(!hf.has('cls.predictions.decoder.weight'));
  const q = hf.get('bert.encoder.layer.0.intermediate.dense.weight')!;
  assert.deepEqual(q.shape, [config.intermediate_size, config.hidden_size]);
  const mem = model.params.get('bert.encoder.layer.0.intermediate.dense.weight')!;
  // Element [out=3, in=5] of the file is element [in=5, out=3] in memory.
  assert.equal(
    q.data[3 * config.hidden_size + 5],
    mem.dataSync()[5 * config.intermediate_size + 3],
  );
  assert.deepEqual(hf.get('cls.seq_relationship.weight')!.shape, [2, config.hidden_size]);
  const back = fromHfTensors(hf, config, { heads: 'pretraining' });
  for (const [name, v] of model.params)
    assert.deepEqual(Array.from(back.params.get(name)!.dataSync()), Array.from(v.dataSync()), name);
  assert.equal(countParameters(back.params), countParameters(model.params));
  disposeParams(back.params);
  disposeParams(model.params);
});

test('loading accepts HF variants: no bert. prefix, gamma/beta, explicit tied decoder, decoder.bias, position_ids', async () => {
  const model = randomModel(config, { seed: 3 });
  const hf = await toHfTensors(model.params);
  const variant = new Map<string, TensorData>();
  for (const [name, t] of hf) {
    const n = name
      .replace(/^bert\./, '')
      .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
      .replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    variant.set(n === 'cls.predictions.bias' ? 'cls.predictions.decoder.bias' : n, t);
  }
  variant.set('cls.predictions.decoder.weight', hf.get('bert.embeddings.word_embeddings.weight')!);
  variant.set('embeddings.position_ids', {
    dtype: 'int32',
    shape: [1, 4],
    data: Int32Array.from([0, 1, 2, 3]),
  });
  const back = fromHfTensors(variant, config, { heads: 'pretraining' });
  assert.deepEqual(back.ignored, ['embeddings.position_ids']);
  assert.deepEqual(
    Array.from(back.params.get('cls.predictions.bias')!.dataSync()),
    Array.from(model.params.get('cls.predictions.bias')!.dataSync()),
  );
  disposeParams(back.params);
  // An untied decoder cannot be represented: refuse rather than silently drop it.
  const untied = new Map(variant);
  untied.set('cls.predictions.decoder.weight', {
    ...hf.get('bert.embeddings.word_embeddings.weight')!,
    data: new Float32Array(config.vocab_size * config.hidden_size),
  });
  assert.throws(
    () => fromHfTensors(untied, config, { heads: 'pretraining' }),
    /differs from bert\.embeddings\.word_embeddings\.weight/,
  );
  disposeParams(model.params);
});

test('a checkpoint that does not fit lists missing, unexpected and mis-shaped names in one UserError', async () => {
  const model = randomModel(config, { seed: 4 });
  const hf = await toHfTensors(model.params);
  hf.delete('bert.pooler.dense.bias');
  hf.set(
    'bert.encoder.layer.7.output.dense.weight',
    hf.get('bert.encoder.layer.0.output.dense.weight')!,
  );
  const wrong = hf.get('bert.embeddings.token_type_embeddings.weight')!;
  hf.set('bert.embeddings.token_type_embeddings.weight', {
    ...wrong,
    shape: [1, wrong.data.length],
  });
  assert.throws(
    () => fromHfTensors(hf, config, { heads: 'pretraining', source: 'runs/x/model.safetensors' }),
    (e: Error) =>
      e instanceof UserError &&
      e.message.startsWith('runs/x/model.safetensors: ') &&
      e.message.includes('missing bert.pooler.dense.bias') &&
      e.message.includes('unexpected bert.encoder.layer.7.output.dense.weight') &&
      e.message.includes(
        'bert.embeddings.token_type_embeddings.weight is float32 [1,32], expected float32 [2,16]',
      ) &&
      !e.message.includes('\n'),
  );
  disposeParams(model.params);
});

test('fine-tuning from a pretraining checkpoint: newHeads drops cls.* and initialises the classifier', async () => {
  const model = randomModel(config, { seed: 5 });
  const hf = await toHfTensors(model.params);
  assert.throws(
    () => fromHfTensors(hf, config, { heads: 'classification', numLabels: 3 }),
    /missing classifier\.weight, classifier\.bias; unexpected cls\./,
  );
  const r = fromHfTensors(hf, config, {
    heads: 'classification',
    numLabels: 3,
    newHeads: { seed: 1 },
  });
  assert.deepEqual(r.initialized, ['classifier.weight', 'classifier.bias']);
  assert.ok(r.ignored.includes('cls.predictions.bias'));
  assert.deepEqual(r.params.get('classifier.weight')!.shape, [config.hidden_size, 3]);
  assert.deepEqual(
    Array.from(r.params.get('bert.pooler.dense.weight')!.dataSync()),
    Array.from(model.params.get('bert.pooler.dense.weight')!.dataSync()),
  );
  disposeParams(r.params);
  disposeParams(model.params);
});

test('pre-LN names: every head round-trips through the roberta-prelayernorm layout exactly', async () => {
  const pre = smallConfig({ layer_norm: 'pre' });
  const cases = [
    {
      heads: 'pretraining' as const,
      numLabels: 2,
      has: ['lm_head.dense.weight', 'cls.seq_relationship.weight'],
    },
    {
      heads: 'classification' as const,
      numLabels: 3,
      has: ['classifier.dense.weight', 'classifier.out_proj.bias'],
    },
    { heads: 'token_classification' as const, numLabels: 5, has: ['classifier.weight'] },
    { heads: 'question_answering' as const, numLabels: 2, has: ['qa_outputs.weight'] },
  ];
  for (const { heads, numLabels, has } of cases) {
    const model = createBertModel(pre, { heads, numLabels, seed: 3 });
    const tensors = await toHfTensors(model.params);
    for (const n of has) assert.ok(tensors.has(n), `${heads}: ${n}`);
    assert.ok(tensors.has('roberta_prelayernorm.encoder.layer.1.attention.LayerNorm.weight'));
    assert.ok(![...tensors.keys()].some((n) => n.startsWith('bert.')), heads);
    const back = fromHfTensors(tensors, pre, { heads, numLabels, source: 'test' });
    assert.deepEqual(back.initialized, []);
    assert.equal(back.params.size, model.params.size);
    for (const [name, v] of back.params)
      assert.deepEqual(v.dataSync(), model.params.get(name)!.dataSync(), `${heads}: ${name}`);
    disposeParams(model.params);
    disposeParams(back.params);
  }
});

test('pre-LN config.json: roberta-prelayernorm with one more position; other model types and pad ids are refused', () => {
  const pre = smallConfig({ layer_norm: 'pre' });
  const json = toHfConfigJson(pre, 'BertForSequenceClassification', {
    architectures: ['BertForTokenClassification'],
  });
  assert.equal(json.model_type, 'roberta-prelayernorm');
  assert.deepEqual(json.architectures, ['RobertaPreLayerNormForTokenClassification']);
  assert.equal(json.max_position_embeddings, pre.max_position_embeddings + 1);
  assert.deepEqual(fromHfConfigJson(json), pre);
  assert.equal(toHfConfigJson(config).model_type, 'bert');
  assert.equal(toHfConfigJson(config).layer_norm, undefined);
  assert.equal(fromHfConfigJson(toHfConfigJson(config)).layer_norm, 'post');
  assert.throws(
    () => fromHfConfigJson({ ...json, pad_token_id: undefined }, 'x/config.json'),
    (e: unknown) =>
      e instanceof UserError && /x\/config\.json: pad_token_id is 1, expected 0/.test(e.message),
  );
  assert.throws(
    () => fromHfConfigJson({ ...json, model_type: 'roberta' }, 'x/config.json'),
    (e: unknown) =>
      e instanceof UserError &&
      /x\/config\.json: model_type is "roberta", expected "bert" or "roberta-prelayernorm"/.test(
        e.message,
      ),
  );
  assert.throws(
    () => validateBertConfig({ ...pre, layer_norm: 'middle' as 'pre' }),
    (e: unknown) => e instanceof UserError && /layer_norm must be "post" or "pre"/.test(e.message),
  );
});
