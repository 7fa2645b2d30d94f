/**
 * The one way weights become a model. Every loader (a checkpoint being
 * resumed or evaluated, a directory to fine-tune from, --init-from, export)
 * reads its HF-named tensors and ends here, with the heads the task
 * describes; reading directories is export/load.ts (readBertDirectory,
 * loadBertDirectory).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorData } from '../io/safetensors.js';
import type { BertConfig } from './config.js';
import { bertModelFromParams, createBertModel, type BertModel } from './bert.js';
import { fromHfTensors } from './hf.js';
import { initialValue, type BertHeads, type ParamSpec } from './params.js';

/** The heads a task puts on the encoder: `classification` with 3 labels, `question_answering`, … */
export interface HeadSpec {
  heads: BertHeads;
  /** Classification: labels (1 = regression); token classification: tags. */
  numLabels?: number;
}

/** Labels of the output layer: 2 (start, end) for span heads. */
export function headLabels(head: HeadSpec): number {
  return head.heads === 'question_answering' ? 2 : (head.numLabels ?? 2);
}

export interface FromTensorsOptions {
  /** Names the file in error messages. */
  source: string;
  /** Starting a new task: head parameters the file lacks get a fresh init with this seed. */
  newHeads?: { seed: number };
}

/**
 * HF-named tensors + config → a model with `head`. Throws one UserError
 * listing every missing name, unexpected name and shape mismatch.
 */
export function modelFromTensors(
  tensors: ReadonlyMap<string, TensorData>,
  config: BertConfig,
  head: HeadSpec,
  options: FromTensorsOptions,
): { model: BertModel; initialized: string[]; ignored: string[] } {
  const numLabels = headLabels(head);
  const loaded = fromHfTensors(tensors, config, { heads: head.heads, numLabels, ...options });
  return {
    model: bertModelFromParams(config, loaded.params, head.heads, numLabels),
    initialized: loaded.initialized,
    ignored: loaded.ignored,
  };
}

/**
 * The file's tensors without another task's head that would clash with
 * `head` (a classifier under a span head, or one of another size under a
 * token head): that head starts fresh instead.
 */
export function withoutOtherHeads(
  tensors: ReadonlyMap<string, TensorData>,
  head: HeadSpec,
): Map<string, TensorData> {
  const out = new Map(tensors);
  const classifier = out.get('classifier.weight');
  const clash =
    head.heads === 'question_answering' ||
    (head.heads === 'token_classification' &&
      classifier !== undefined &&
      classifier.shape[0] !== headLabels(head));
  if (clash) {
    out.delete('classifier.weight');
    out.delete('classifier.bias');
  }
  return out;
}

/**
 * A randomly initialised model (`--from none`). Span and token heads are
 * drawn as the sequence classifier's parameters without the pooler, plus
 * qa_outputs from seed + 1000 + i, so runs recorded before this loader
 * existed reproduce bit for bit.
 */
export function freshModel(config: BertConfig, head: HeadSpec, seed: number): BertModel {
  if (head.heads === 'pretraining' || head.heads === 'classification')
    return createBertModel(config, { heads: head.heads, numLabels: head.numLabels, seed });
  const numLabels = headLabels(head);
  const model = createBertModel(config, { heads: 'classification', numLabels, seed });
  const drop = ['bert.pooler.dense.weight', 'bert.pooler.dense.bias'];
  if (head.heads === 'question_answering') drop.push('classifier.weight', 'classifier.bias');
  for (const name of drop) {
    model.params.get(name)?.dispose();
    model.params.delete(name);
  }
  if (head.heads === 'question_answering') {
    const H = config.hidden_size;
    const specs: ParamSpec[] = [
      { name: 'qa_outputs.weight', kind: 'linear', shape: [H, 2] },
      { name: 'qa_outputs.bias', kind: 'bias', shape: [2] },
    ];
    specs.forEach((spec, i) => {
      const v = initialValue(spec, config, seed + 1000 + i);
      model.params.set(spec.name, tf.variable(v, true));
      v.dispose();
    });
  }
  return { ...model, heads: head.heads, numLabels };
}
