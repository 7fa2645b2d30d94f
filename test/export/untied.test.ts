/**
 * An untied MLM decoder (model.tie_word_embeddings: false): the decoder's own
 * [vocab, hidden] table is a parameter, checkpoints and exports carry it with
 * tie_word_embeddings false, they read back exactly, transformers'
 * Auto classes give our MLM logits from it (post-LN as BertForPreTraining,
 * pre-LN as RobertaPreLayerNormForMaskedLM), and a file whose decoder differs
 * from its embeddings while its config says tied is refused. The transformers
 * checks skip only where no python with torch and transformers is found
 * (test/helpers/torch-reference.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomModel, smallConfig } from '../model/helpers.js';
import { DECODER_WEIGHT, WORD_EMBEDDINGS, disposeParams } from '../../src/model/params.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { UserError } from '../../src/errors.js';
import { exportHf } from '../../src/export/hf.js';
import { loadBertDirectory } from '../../src/export/load.js';
import { transformersMissing } from '../helpers/torch-reference.js';
import { assertSameParams, ours, theirs, worstDifference } from './hf-auto.js';
import { TINY_VOCAB, scratchOnTestBackend, writeCheckpoint } from './helpers.js';

const scratch = scratchOnTestBackend('bert-export-untied-');
const skipReason = transformersMissing();

const layouts = [
  {
    layerNorm: 'post',
    decoder: 'cls.predictions.decoder.weight',
    auto: 'pretraining',
    hfClass: 'BertForPreTraining',
  },
  {
    layerNorm: 'pre',
    decoder: 'lm_head.decoder.weight',
    auto: 'mlm',
    hfClass: 'RobertaPreLayerNormForMaskedLM',
  },
] as const;

for (const { layerNorm, decoder, auto, hfClass } of layouts) {
  const config = smallConfig({
    vocab_size: TINY_VOCAB.length,
    layer_norm: layerNorm,
    tie_word_embeddings: false,
  });

  test(`${layerNorm}-LN, untied: the checkpoint and the export carry the decoder table and read back exactly`, async () => {
    const model = randomModel(config, { seed: 31 });
    assert.deepEqual(model.params.get(DECODER_WEIGHT)!.shape, [
      config.vocab_size,
      config.hidden_size,
    ]);
    const ckpt = await writeCheckpoint(join(scratch.dir, `${layerNorm}-ckpt`), model, config);
    const out = join(scratch.dir, `${layerNorm}-hf`);
    await exportHf({ checkpoint: ckpt, out, force: false });
    for (const dir of [ckpt, out]) {
      const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      assert.equal(json.tie_word_embeddings, false, dir);
      const { tensors } = await readSafetensors(join(dir, 'model.safetensors'));
      assert.deepEqual(tensors.get(decoder)?.shape, [config.vocab_size, config.hidden_size], dir);
    }
    const loaded = await loadBertDirectory(ckpt, { flag: '--checkpoint', require: 'exact' });
    assert.equal(loaded.config.tie_word_embeddings, false);
    await assertSameParams(model, loaded.model);
    // The exported masked-LM class has no pooler/NSP head for pre-LN: compare the rest.
    const exported = await loadBertDirectory(out, {
      flag: '--checkpoint',
      require: 'exact',
      seed: 1,
    });
    await assertSameParams(
      model,
      exported.model,
      (n) => layerNorm === 'pre' && (n.startsWith('bert.pooler.') || n.startsWith('cls.seq_')),
    );
    for (const m of [model, loaded.model, exported.model]) disposeParams(m.params);
  });

  test(`${layerNorm}-LN, untied: transformers' Auto class loads the export as ${hfClass} and gives our logits (≤ 1e-4)`, async (t) => {
    if (skipReason) {
      t.skip(skipReason);
      return;
    }
    const model = randomModel(config, { seed: 32 });
    const ckpt = await writeCheckpoint(join(scratch.dir, `${layerNorm}-mlm-ckpt`), model, config);
    const out = join(scratch.dir, `${layerNorm}-mlm-hf`);
    await exportHf({ checkpoint: ckpt, out, force: false });
    const hf = await theirs(out, auto, scratch.dir);
    assert.equal(hf[0].architecture, hfClass);
    const mine = await ours(model);
    const worst = worstDifference(mine, hf);
    console.log(`${layerNorm}-LN untied export vs transformers: ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-4, `max abs difference ${worst}`);
    // Had transformers re-tied the decoder to the embeddings, its logits would differ: check
    // that ours with a tied decoder are far from what transformers gave.
    const tied = randomModel({ ...config, tie_word_embeddings: true }, { seed: 32 });
    for (const [name, v] of tied.params) v.assign(model.params.get(name)!);
    assert.ok(worstDifference(await ours(tied), hf) > 0.1, 'the decoder table changes the logits');
    disposeParams(model.params);
    disposeParams(tied.params);
  });
}

test('a file whose decoder differs from its word embeddings while config.json says tied is refused, naming both', async () => {
  const config = smallConfig({ vocab_size: TINY_VOCAB.length, tie_word_embeddings: false });
  const model = randomModel(config, { seed: 33 });
  const ckpt = await writeCheckpoint(join(scratch.dir, 'mislabelled'), model, config);
  const path = join(ckpt, 'config.json');
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  await writeFile(path, JSON.stringify({ ...json, tie_word_embeddings: true }));
  await assert.rejects(
    loadBertDirectory(ckpt, { flag: '--checkpoint', require: 'exact' }),
    (e: unknown) =>
      e instanceof UserError &&
      e.message.includes(DECODER_WEIGHT) &&
      e.message.includes(WORD_EMBEDDINGS) &&
      /tie_word_embeddings/.test(e.message),
  );
  disposeParams(model.params);
});
