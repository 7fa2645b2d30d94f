/**
 * External checks against PyTorch (test/fixtures/python/bert_forward_torch.py,
 * torch.nn.MultiheadAttention, Linear and LayerNorm on the HF-named weights):
 *  - an exported directory gives the reference's MLM/NSP/classifier logits,
 *    pooled output and [CLS] state (≤ 1e-4);
 *  - a checkpoint written by PyTorch (random weights, HF names with the
 *    variants real checkpoints use) loads, and our forward equals the reference's.
 * Skips only where no python with torch is found (test/helpers/torch-reference.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { randomModel, smallConfig } from '../model/helpers.js';
import {
  bertForPreTraining,
  bertForSequenceClassification,
  type BertModel,
} from '../../src/model/bert.js';
import { disposeTensors } from '../../src/model/batch.js';
import { disposeParams } from '../../src/model/params.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { BertTokenizer, type Encoding } from '../../src/tokenizer/bert-tokenizer.js';
import { Vocab } from '../../src/tokenizer/vocab.js';
import { exportHf } from '../../src/export/hf.js';
import { loadBertDirectory } from '../../src/export/load.js';
import { everyPositionInputs, worstDifference } from './hf-auto.js';
import {
  PYTHON,
  TINY_VOCAB,
  runPeer,
  scratchOnTestBackend,
  torchMissing,
  writeCheckpoint,
  type PeerOutput,
} from './helpers.js';

const skipReason = torchMissing();
const scratch = scratchOnTestBackend('bert-export-torch-');

const tokenizer = new BertTokenizer(new Vocab(TINY_VOCAB), { lowercase: true });
const encodings: Encoding[] = [
  tokenizer.encode('The cat sat on the mat.'),
  tokenizer.encode('He is playing!', 'She played, and it ran fast.'),
  tokenizer.encode('A big red dog'),
  tokenizer.encode('unlike the small blue house, the tree was big?'),
];

/** What we compute for the encodings, one forward over a padded batch, all positions as MLM rows. */
async function ours(model: BertModel): Promise<PeerOutput[]> {
  const { inputs, T } = everyPositionInputs(encodings);
  const H = model.config.hidden_size;
  const V = model.config.vocab_size;
  const results: PeerOutput[] = [];
  if (model.heads === 'pretraining') {
    const o = bertForPreTraining(model, inputs, { training: false });
    const [hidden, pooled, nsp, mlm] = (await Promise.all(
      [o.sequenceOutput, o.pooledOutput, o.nspLogits, o.mlmLogits].map((t) => t.data()),
    )) as Float32Array[];
    encodings.forEach((e, b) => {
      results.push({
        last_hidden_state_cls: Array.from(hidden.subarray(b * T * H, b * T * H + H)),
        last_hidden_state_sum: 0,
        pooled: Array.from(pooled.subarray(b * H, (b + 1) * H)),
        nsp_logits: Array.from(nsp.subarray(b * 2, b * 2 + 2)),
        mlm_logits_first: e.ids.map((_, t) =>
          Array.from(mlm.subarray((b * T + t) * V, (b * T + t) * V + 8)),
        ),
      });
    });
    tf.dispose([o.sequenceOutput, o.pooledOutput, o.nspLogits, o.mlmLogits]);
  } else {
    const o = bertForSequenceClassification(model, inputs, { training: false });
    const [hidden, pooled, logits] = (await Promise.all(
      [o.sequenceOutput, o.pooledOutput, o.logits].map((t) => t.data()),
    )) as Float32Array[];
    const L = model.numLabels;
    encodings.forEach((_, b) => {
      results.push({
        last_hidden_state_cls: Array.from(hidden.subarray(b * T * H, b * T * H + H)),
        last_hidden_state_sum: 0,
        pooled: Array.from(pooled.subarray(b * H, (b + 1) * H)),
        classifier_logits: Array.from(logits.subarray(b * L, (b + 1) * L)),
      });
    });
    tf.dispose([o.sequenceOutput, o.pooledOutput, o.logits]);
  }
  disposeTensors(inputs);
  return results;
}

const peerInputs = encodings.map((e) => ({ input_ids: e.ids, token_type_ids: e.tokenTypeIds }));

test('an exported BertForPreTraining gives the PyTorch reference MLM/NSP logits, pooled and [CLS] outputs (≤ 1e-4)', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const config = smallConfig({ vocab_size: TINY_VOCAB.length });
  const model = randomModel(config, { seed: 21 });
  const ckpt = await writeCheckpoint(join(scratch.dir, 'pt'), model, config);
  const out = join(scratch.dir, 'pt-hf');
  await exportHf({ checkpoint: ckpt, out, force: false });
  const peer = await runPeer(out, peerInputs, scratch.dir);
  assert.ok(peer.every((p) => p.mlm_logits_first && p.nsp_logits && !p.classifier_logits));
  const worst = worstDifference(await ours(model), peer);
  console.log(
    `exported BertForPreTraining vs PyTorch: max abs difference ${worst.toExponential(2)}`,
  );
  assert.ok(worst <= 1e-4, `max abs difference ${worst}`);
  // Outputs big enough that a 1e-4 match means something.
  assert.ok(Math.max(...peer[0].mlm_logits_first!.flat().map(Math.abs)) > 0.5);
  disposeParams(model.params);
});

test('an exported BertForSequenceClassification gives the PyTorch reference classifier logits (≤ 1e-4)', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const config = smallConfig({ vocab_size: TINY_VOCAB.length, hidden_act: 'gelu' });
  const model = randomModel(config, { seed: 22, heads: 'classification', numLabels: 3 });
  const ckpt = await writeCheckpoint(join(scratch.dir, 'cls'), model, config, { num_labels: 3 });
  const out = join(scratch.dir, 'cls-hf');
  await exportHf({ checkpoint: ckpt, out, force: false });
  const peer = await runPeer(out, peerInputs, scratch.dir);
  assert.ok(peer.every((p) => p.classifier_logits?.length === 3 && !p.mlm_logits_first));
  const worst = worstDifference(await ours(model), peer);
  console.log(`exported classifier vs PyTorch: max abs difference ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-4, `max abs difference ${worst}`);
  disposeParams(model.params);
});

/**
 * Writes a BertForPreTraining checkpoint the way other tools do: torch random
 * weights, no `bert.` prefix, LayerNorm.gamma/beta, an explicit tied
 * cls.predictions.decoder.weight, the bias as cls.predictions.decoder.bias,
 * the int64 position_ids buffer — and, with the same values, a copy under the
 * plain names the reference script reads.
 */
const WRITER = String.raw`
import json, os, struct, sys
import torch
out, vocab_size = sys.argv[1], int(sys.argv[2])
H, L, NH, I, P = 24, 2, 3, 40, 64
torch.manual_seed(1234)
cfg = {"architectures": ["BertForPreTraining"], "model_type": "bert", "vocab_size": vocab_size,
       "hidden_size": H, "num_hidden_layers": L, "num_attention_heads": NH, "intermediate_size": I,
       "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
       "max_position_embeddings": P, "type_vocab_size": 2, "initializer_range": 0.02,
       "layer_norm_eps": 1e-12, "pad_token_id": 0}
r = lambda *s: torch.randn(*s) * 0.3
ln = lambda: (1 + r(H), r(H))
w = {}
w["embeddings.word_embeddings.weight"] = r(vocab_size, H)
w["embeddings.position_embeddings.weight"] = r(P, H)
w["embeddings.token_type_embeddings.weight"] = r(2, H)
w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"] = ln()
for i in range(L):
    p = f"encoder.layer.{i}."
    for k in ("query", "key", "value"):
        w[p + f"attention.self.{k}.weight"], w[p + f"attention.self.{k}.bias"] = r(H, H), r(H)
    w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"] = r(H, H), r(H)
    w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"] = ln()
    w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"] = r(I, H), r(I)
    w[p + "output.dense.weight"], w[p + "output.dense.bias"] = r(H, I), r(H)
    w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"] = ln()
w["pooler.dense.weight"], w["pooler.dense.bias"] = r(H, H), r(H)
w["cls.predictions.transform.dense.weight"], w["cls.predictions.transform.dense.bias"] = r(H, H), r(H)
w["cls.predictions.transform.LayerNorm.weight"], w["cls.predictions.transform.LayerNorm.bias"] = ln()
w["cls.predictions.bias"] = r(vocab_size)
w["cls.seq_relationship.weight"], w["cls.seq_relationship.bias"] = r(2, H), r(2)

def save(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        if t.dtype == torch.int64:
            b, dt = struct.pack("<%dq" % t.numel(), *t.flatten().tolist()), "I64"
        else:
            b, dt = struct.pack("<%df" % t.numel(), *t.flatten().tolist()), "F32"
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

def variant(name):
    name = name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
    return "cls.predictions.decoder.bias" if name == "cls.predictions.bias" else name

theirs = {variant(k): v for k, v in w.items()}
theirs["cls.predictions.decoder.weight"] = w["embeddings.word_embeddings.weight"].clone()
theirs["embeddings.position_ids"] = torch.arange(P, dtype=torch.int64)[None]
for d, tensors in (("theirs", theirs), ("reference", w)):
    os.makedirs(f"{out}/{d}", exist_ok=True)
    save(f"{out}/{d}/model.safetensors", tensors)
    json.dump(cfg, open(f"{out}/{d}/config.json", "w"))
`;

test('a checkpoint written by PyTorch (no bert. prefix, LayerNorm.gamma/beta, explicit decoder, position_ids) loads and matches the reference forward', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const script = join(scratch.dir, 'write_checkpoint.py');
  await writeFile(script, WRITER);
  execFileSync(PYTHON, [script, join(scratch.dir, 'torch'), String(TINY_VOCAB.length)]);
  const theirs = join(scratch.dir, 'torch', 'theirs');
  await writeFile(join(theirs, 'vocab.txt'), TINY_VOCAB.join('\n') + '\n');
  const names = [...(await readSafetensors(join(theirs, 'model.safetensors'))).tensors.keys()];
  assert.ok(names.includes('encoder.layer.0.attention.output.LayerNorm.gamma'));
  assert.ok(names.includes('cls.predictions.decoder.weight'));

  const loaded = await loadBertDirectory(theirs, { flag: '--from', require: 'exact' });
  assert.equal(loaded.config.hidden_size, 24);
  assert.equal(loaded.heads, 'pretraining');
  const peer = await runPeer(join(scratch.dir, 'torch', 'reference'), peerInputs, scratch.dir);
  const worst = worstDifference(await ours(loaded.model), peer);
  console.log(`PyTorch-written checkpoint, our forward vs reference: ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-4, `max abs difference ${worst}`);

  // Exporting it writes the canonical names, which the reference reads to the same outputs.
  const out = join(scratch.dir, 'torch-hf');
  await exportHf({ checkpoint: theirs, out, force: false });
  const again = await runPeer(out, peerInputs, scratch.dir);
  assert.ok(worstDifference(again, peer) <= 1e-5);
  disposeParams(loaded.model.params);
});
