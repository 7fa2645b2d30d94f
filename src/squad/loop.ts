/**
 * The starting model of the span (SQuAD) and token (CoNLL-2003) tasks: a
 * pretrained encoder with the task's head.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FinetuneConfig } from '../config/types.js';
import { initialValue } from '../model/params.js';
import type { BertHeads } from '../model/params.js';
import { initialClassifier, type InitialModel } from '../finetune/init.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBertDirectory } from '../export/load.js';
import { fromHfTensors } from '../model/hf.js';
import { bertModelFromParams } from '../model/bert.js';

/**
 * A pretrained encoder with a fresh span or token head: loads like the GLUE
 * classifier (same sources, same checks), then drops the pooler (HF's span
 * and token models have none) and swaps in the task head.
 */
export async function initialTaskModel(
  config: FinetuneConfig,
  heads: Extract<BertHeads, 'question_answering' | 'token_classification'>,
  numLabels: number,
  seed: number,
): Promise<InitialModel> {
  if (config.from !== null && config.from !== 'none')
    return loadTaskHeads(config.from, heads, numLabels, seed);
  const init = await initialClassifier(config.from, numLabels, config, seed);
  const { params } = init.model;
  for (const name of ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']) {
    params.get(name)?.dispose();
    params.delete(name);
  }
  if (heads === 'question_answering') {
    for (const name of ['classifier.weight', 'classifier.bias']) {
      params.get(name)?.dispose();
      params.delete(name);
    }
    const H = init.config.hidden_size;
    const specs = [
      { name: 'qa_outputs.weight', kind: 'linear' as const, shape: [H, 2] },
      { name: 'qa_outputs.bias', kind: 'bias' as const, shape: [2] },
    ];
    specs.forEach((spec, i) => {
      const v = initialValue(spec, init.config, seed + 1000 + i);
      params.set(spec.name, tf.variable(v, true));
      v.dispose();
    });
  }
  init.model.heads = heads;
  init.model.numLabels = heads === 'question_answering' ? 2 : numLabels;
  return init;
}

/**
 * From a checkpoint or HF directory: the encoder must be complete; the task
 * head is taken from the file when it is there (continuing a SQuAD/NER model,
 * or an HF BertForQuestionAnswering) and fresh otherwise; a pooler is ignored.
 */
async function loadTaskHeads(
  from: string,
  heads: Extract<BertHeads, 'question_answering' | 'token_classification'>,
  numLabels: number,
  seed: number,
): Promise<InitialModel> {
  const bert = await readBertDirectory(from, '--from');
  const labels = heads === 'question_answering' ? 2 : numLabels;
  // A classifier of another size (e.g. a GLUE model's) is a different head: start it fresh.
  const tensors = new Map(bert.tensors);
  const classifier = tensors.get('classifier.weight');
  if (heads === 'question_answering' || (classifier && classifier.shape[0] !== labels)) {
    tensors.delete('classifier.weight');
    tensors.delete('classifier.bias');
  }
  const loaded = fromHfTensors(tensors, bert.config, {
    heads,
    numLabels: labels,
    newHeads: { seed },
    source: join(bert.dir, 'model.safetensors'),
  });
  // transformers >= 5 saves tokenizer.json only: keep a vocab.txt for our checkpoints.
  let vocabPath = bert.vocabPath;
  if (vocabPath === null) {
    vocabPath = join(mkdtempSync(join(tmpdir(), 'bert-vocab-')), 'vocab.txt');
    writeFileSync(vocabPath, bert.vocab.toText());
  }
  return {
    model: bertModelFromParams(bert.config, loaded.params, heads, labels),
    config: bert.config,
    vocabPath,
    lowercase: bert.lowercase,
    source: bert.dir,
    initialized: loaded.initialized,
  };
}
