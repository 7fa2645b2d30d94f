/**
 * A pre-LN model (model.layer_norm: pre) in HuggingFace's roberta-prelayernorm
 * layout: checkpoints round-trip exactly; `bert export --format hf` writes a
 * directory that transformers' AutoModelForMaskedLM and
 * AutoModelForSequenceClassification load as RobertaPreLayerNorm* with no
 * missing or unexpected weights and whose outputs equal ours (≤ 1e-4); a
 * directory transformers saved loads and gives transformers' outputs. The
 * transformers checks skip only where no python with torch and transformers
 * is found (test/helpers/torch-reference.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomModel, smallConfig } from '../model/helpers.js';
import { disposeParams } from '../../src/model/params.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { UserError } from '../../src/errors.js';
import { exportHf } from '../../src/export/hf.js';
import { exportTf } from '../../src/export/google.js';
import { loadBertDirectory } from '../../src/export/load.js';
import { transformersMissing } from '../helpers/torch-reference.js';
import { assertSameParams, bitsOf, ours, theirs, worstDifference } from './hf-auto.js';
import { PYTHON, TINY_VOCAB, scratchOnTestBackend, writeCheckpoint } from './helpers.js';

const scratch = scratchOnTestBackend('bert-export-preln-');
const skipReason = transformersMissing();

const config = smallConfig({ vocab_size: TINY_VOCAB.length, layer_norm: 'pre' });

test('a pre-LN checkpoint is written in the roberta-prelayernorm layout and reads back exactly', async () => {
  const model = randomModel(config, { seed: 5 });
  const ckpt = await writeCheckpoint(join(scratch.dir, 'pt-ckpt'), model, config);
  const json = JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(json.model_type, 'roberta-prelayernorm');
  assert.deepEqual(json.architectures, ['RobertaPreLayerNormForMaskedLM']);
  assert.equal(json.pad_token_id, 0);
  assert.equal(json.max_position_embeddings, config.max_position_embeddings + 1);
  assert.equal(
    json.layer_norm,
    undefined,
    'the layout says pre-LN, not a key transformers ignores',
  );
  const { tensors } = await readSafetensors(join(ckpt, 'model.safetensors'));
  for (const name of [
    'roberta_prelayernorm.encoder.layer.0.attention.LayerNorm.weight',
    'roberta_prelayernorm.encoder.layer.1.intermediate.LayerNorm.bias',
    'roberta_prelayernorm.LayerNorm.weight',
    'lm_head.dense.weight',
    'lm_head.layer_norm.bias',
    'lm_head.bias',
    // Checkpoints keep what RobertaPreLayerNormForMaskedLM lacks, for resuming.
    'roberta_prelayernorm.pooler.dense.weight',
    'cls.seq_relationship.weight',
  ])
    assert.ok(tensors.has(name), `${name} in the checkpoint`);
  assert.ok(
    ![...tensors.keys()].some((n) => n.startsWith('bert.') || n.includes('output.LayerNorm')),
  );
  // RoBERTa's positions start at pad_token_id + 1: a zero row in front of ours.
  const positions = tensors.get('roberta_prelayernorm.embeddings.position_embeddings.weight')!;
  const H = config.hidden_size;
  assert.deepEqual(positions.shape, [config.max_position_embeddings + 1, H]);
  assert.deepEqual(Array.from(positions.data.subarray(0, H)), new Array(H).fill(0));
  const ourPositions = model.params.get('bert.embeddings.position_embeddings.weight')!;
  assert.deepEqual(
    bitsOf(positions.data.subarray(H)),
    bitsOf((await ourPositions.data()) as Float32Array),
  );

  const loaded = await loadBertDirectory(ckpt, { flag: '--checkpoint', require: 'exact' });
  assert.deepEqual(loaded.config, config);
  assert.equal(loaded.heads, 'pretraining');
  assert.deepEqual(loaded.initialized, []);
  assert.equal(loaded.model.params.size, model.params.size);
  await assertSameParams(model, loaded.model);
  disposeParams(model.params);
  disposeParams(loaded.model.params);
});

test('a pre-LN classifier checkpoint maps its pooler and classifier onto RobertaClassificationHead and reads back exactly', async () => {
  const model = randomModel(config, { seed: 6, heads: 'classification', numLabels: 3 });
  const ckpt = await writeCheckpoint(join(scratch.dir, 'cls-ckpt'), model, config, {
    num_labels: 3,
  });
  const json = JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.deepEqual(json.architectures, ['RobertaPreLayerNormForSequenceClassification']);
  const { tensors } = await readSafetensors(join(ckpt, 'model.safetensors'));
  for (const name of [
    'classifier.dense.weight',
    'classifier.out_proj.weight',
    'classifier.out_proj.bias',
  ])
    assert.ok(tensors.has(name), name);
  assert.deepEqual(tensors.get('classifier.out_proj.weight')!.shape, [3, config.hidden_size]);
  const loaded = await loadBertDirectory(ckpt, { flag: '--checkpoint', require: 'exact' });
  assert.equal(loaded.heads, 'classification');
  assert.equal(loaded.model.numLabels, 3);
  await assertSameParams(model, loaded.model);
  disposeParams(model.params);
  disposeParams(loaded.model.params);
});

test('export of a pre-LN pretraining model: RobertaPreLayerNormForMaskedLM without pooler and NSP, which start fresh on import', async () => {
  const model = randomModel(config, { seed: 7 });
  const ckpt = await writeCheckpoint(join(scratch.dir, 'pt2-ckpt'), model, config);
  const out = join(scratch.dir, 'pt2-hf');
  const r = await exportHf({ checkpoint: ckpt, out, force: false });
  assert.equal(r.architecture, 'RobertaPreLayerNormForMaskedLM');
  const { tensors } = await readSafetensors(join(out, 'model.safetensors'));
  assert.ok(![...tensors.keys()].some((n) => n.includes('pooler') || n.startsWith('cls.')));
  const loaded = await loadBertDirectory(out, { flag: '--checkpoint', require: 'exact', seed: 1 });
  assert.equal(loaded.heads, 'pretraining');
  assert.deepEqual(loaded.initialized.sort(), [
    'bert.pooler.dense.bias',
    'bert.pooler.dense.weight',
    'cls.seq_relationship.bias',
    'cls.seq_relationship.weight',
  ]);
  await assertSameParams(
    model,
    loaded.model,
    (n) => n.startsWith('bert.pooler.') || n.startsWith('cls.seq_'),
  );
  // The Google layout has no pre-LN model.
  await assert.rejects(
    exportTf({ checkpoint: ckpt, out: join(scratch.dir, 'pt2-tf'), force: false }),
    (e: unknown) => e instanceof UserError && /pre-LN .* --format hf/.test(e.message),
  );
  disposeParams(model.params);
  disposeParams(loaded.model.params);
});

test('transformers AutoModelForMaskedLM loads our pre-LN export as RobertaPreLayerNormForMaskedLM and gives our outputs (≤ 1e-4)', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const model = randomModel(config, { seed: 21 });
  const ckpt = await writeCheckpoint(join(scratch.dir, 'mlm-ckpt'), model, config);
  const out = join(scratch.dir, 'mlm-hf');
  await exportHf({ checkpoint: ckpt, out, force: false });
  const hf = await theirs(out, 'mlm', scratch.dir);
  assert.equal(hf[0].model_type, 'roberta-prelayernorm');
  assert.equal(hf[0].architecture, 'RobertaPreLayerNormForMaskedLM');
  const worst = worstDifference(await ours(model), hf);
  console.log(
    `pre-LN export, AutoModelForMaskedLM vs ours: max abs difference ${worst.toExponential(2)}`,
  );
  assert.ok(worst <= 1e-4, `max abs difference ${worst}`);
  assert.ok(
    Math.max(...hf[0].mlm_logits_first!.flat().map(Math.abs)) > 0.5,
    'outputs big enough to mean something',
  );
  disposeParams(model.params);
});

test('transformers AutoModelForSequenceClassification loads our pre-LN classifier export and gives our logits (≤ 1e-4)', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const model = randomModel(config, { seed: 22, heads: 'classification', numLabels: 3 });
  const ckpt = await writeCheckpoint(join(scratch.dir, 'seq-ckpt'), model, config, {
    num_labels: 3,
  });
  const out = join(scratch.dir, 'seq-hf');
  const r = await exportHf({ checkpoint: ckpt, out, force: false });
  assert.equal(r.architecture, 'RobertaPreLayerNormForSequenceClassification');
  const hf = await theirs(out, 'classification', scratch.dir);
  assert.equal(hf[0].architecture, 'RobertaPreLayerNormForSequenceClassification');
  assert.equal(hf[0].classifier_logits!.length, 3);
  const worst = worstDifference(await ours(model), hf);
  console.log(
    `pre-LN export, AutoModelForSequenceClassification vs ours: max abs difference ${worst.toExponential(2)}`,
  );
  assert.ok(worst <= 1e-4, `max abs difference ${worst}`);
  assert.ok(Math.max(...hf.flatMap((o) => o.classifier_logits!).map(Math.abs)) > 0.1);
  disposeParams(model.params);
});

/**
 * transformers' own RobertaPreLayerNormForMaskedLM, random weights (LayerNorms too), saved with
 * save_pretrained. σ 0.1: at 0.3, transformers' own float32 logits are 3e-4 from its float64 ones.
 */
const WRITER = String.raw`
import sys, torch
from transformers import RobertaPreLayerNormConfig, RobertaPreLayerNormForMaskedLM
out, vocab_size = sys.argv[1], int(sys.argv[2])
torch.manual_seed(4321)
cfg = RobertaPreLayerNormConfig(vocab_size=vocab_size, hidden_size=24, num_hidden_layers=2,
    num_attention_heads=3, intermediate_size=40, max_position_embeddings=65, type_vocab_size=2,
    pad_token_id=0, bos_token_id=2, eos_token_id=3, layer_norm_eps=1e-12)
model = RobertaPreLayerNormForMaskedLM(cfg)
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.randn_like(p) * 0.1 + (1.0 if "norm" in name.lower() and name.endswith("weight") else 0.0))
model.save_pretrained(out)
`;

test('a RobertaPreLayerNormForMaskedLM saved by transformers loads as a pre-LN model and gives transformers’ outputs (≤ 1e-4)', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const script = join(scratch.dir, 'write_roberta.py');
  await writeFile(script, WRITER);
  const dir = join(scratch.dir, 'hf-written');
  execFileSync(PYTHON, [script, dir, String(TINY_VOCAB.length)]);
  await writeFile(join(dir, 'vocab.txt'), TINY_VOCAB.join('\n') + '\n');
  const loaded = await loadBertDirectory(dir, { flag: '--from', require: 'exact' });
  assert.equal(loaded.config.layer_norm, 'pre');
  assert.equal(loaded.config.max_position_embeddings, 64);
  assert.equal(loaded.heads, 'pretraining');
  const hf = await theirs(dir, 'mlm', scratch.dir);
  const worst = worstDifference(await ours(loaded.model), hf);
  // transformers' own float32 roundoff grows with its outputs (see WRITER): 1e-4 of the largest.
  const scale = Math.max(
    1,
    ...hf.flatMap((o) => [...o.last_hidden_state_cls, ...o.mlm_logits_first!.flat()].map(Math.abs)),
  );
  console.log(
    `transformers-written roberta-prelayernorm, ours vs transformers: ${worst.toExponential(2)} (largest output ${scale.toFixed(2)})`,
  );
  assert.ok(worst <= 1e-4 * scale, `max abs difference ${worst}, largest output ${scale}`);
  disposeParams(loaded.model.params);
});
