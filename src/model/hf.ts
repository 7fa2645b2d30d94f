/**
 * Conversion between our in-memory parameters and HuggingFace tensors
 * (what model.safetensors holds): Linear weights are [in, out] here and
 * [out, in] in files. Loading accepts the common HF spellings.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';
import type { TensorData } from '../io/safetensors.js';
import { PRE_LN_POSITION_OFFSET, type BertConfig } from './config.js';
import {
  DECODER_WEIGHT,
  WORD_EMBEDDINGS,
  hasPooler,
  initialValue,
  isPreLayerNorm,
  parameterSpecs,
  type BertParams,
  type HeadOptions,
  type ParamSpec,
} from './params.js';

/** Linear weights are the only parameters whose file layout differs (transposed). */
function isLinearWeight(name: string): boolean {
  // The untied decoder is kept [vocab, hidden] in memory, as in files (the embeddings' layout).
  return (
    name.endsWith('.weight') &&
    !name.includes('embeddings.') &&
    !name.includes('LayerNorm') &&
    name !== DECODER_WEIGHT
  );
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/**
 * A pre-LN model's names in HF's roberta-prelayernorm layout, as [ours, theirs]
 * prefixes: the encoder is `roberta_prelayernorm.` instead of `bert.`, the MLM
 * head is RobertaLMHead (`lm_head.`). The NSP head has no counterpart and keeps
 * its name (checkpoints carry it; `bert export` leaves it out).
 */
const PRE_LN_NAMES: readonly (readonly [string, string])[] = [
  ['bert.', 'roberta_prelayernorm.'],
  ['cls.predictions.transform.dense.', 'lm_head.dense.'],
  ['cls.predictions.transform.LayerNorm.', 'lm_head.layer_norm.'],
  ['cls.predictions.bias', 'lm_head.bias'],
  ['cls.predictions.decoder.', 'lm_head.decoder.'],
];

/** A pre-LN sequence classifier's pooler and classifier are RobertaClassificationHead's dense and out_proj. */
const PRE_LN_CLASSIFIER_NAMES: readonly (readonly [string, string])[] = [
  ['bert.pooler.dense.', 'classifier.dense.'],
  ['classifier.', 'classifier.out_proj.'],
];

/** `name` with the first matching prefix of `pairs` replaced (side 0 → side 1, or back with `reverse`). */
function renamePrefix(
  name: string,
  pairs: readonly (readonly [string, string])[],
  reverse = false,
): string | null {
  for (const pair of pairs) {
    const [from, to] = reverse ? [pair[1], pair[0]] : pair;
    if (name.startsWith(from)) return to + name.slice(from.length);
  }
  return null;
}

function preLnHfName(name: string, sequenceClassifier: boolean): string {
  const head = sequenceClassifier ? renamePrefix(name, PRE_LN_CLASSIFIER_NAMES) : null;
  return head ?? renamePrefix(name, PRE_LN_NAMES) ?? name;
}

/** HF's roberta-prelayernorm names → ours (the inverse of preLnHfName). */
function fromPreLnHfName(name: string): string {
  return (
    renamePrefix(name, PRE_LN_CLASSIFIER_NAMES, true) ??
    renamePrefix(name, PRE_LN_NAMES, true) ??
    name
  );
}

const POSITIONS = 'bert.embeddings.position_embeddings.weight';

/** The MLM output bias (our parameter) and the second name HF files may also give it. */
const DECODER_BIAS_OWNER = 'cls.predictions.bias';
const DECODER_BIAS = 'cls.predictions.decoder.bias';

/**
 * Parameters as HF-named, HF-shaped float32 arrays (copies), ready for
 * writeSafetensors. A pre-LN model (isPreLayerNorm) comes out in HF's
 * roberta-prelayernorm layout: its names, and a position table with
 * PRE_LN_POSITION_OFFSET leading zero rows (RoBERTa's positions start after
 * the padding id).
 */
export async function toHfTensors(params: BertParams): Promise<Map<string, TensorData>> {
  const out = new Map<string, TensorData>();
  const preLn = isPreLayerNorm(params.keys());
  const sequenceClassifier =
    params.has('bert.pooler.dense.weight') && params.has('classifier.weight');
  // Every read is started before the first is awaited: on a GPU they overlap.
  const entries = [...params];
  const read = await Promise.all(entries.map(([, v]) => v.data() as Promise<Float32Array>));
  for (const [i, [name, v]] of entries.entries()) {
    const data = read[i];
    const hfName = preLn ? preLnHfName(name, sequenceClassifier) : name;
    if (isLinearWeight(name)) {
      const [inSize, outSize] = v.shape;
      out.set(hfName, {
        dtype: 'float32',
        shape: [outSize, inSize],
        data: transpose2d(data, inSize, outSize),
      });
    } else if (preLn && name === POSITIONS) {
      const [rows, H] = v.shape;
      const padded = new Float32Array((rows + PRE_LN_POSITION_OFFSET) * H);
      padded.set(data, PRE_LN_POSITION_OFFSET * H);
      out.set(hfName, {
        dtype: 'float32',
        shape: [rows + PRE_LN_POSITION_OFFSET, H],
        data: padded,
      });
    } else {
      out.set(hfName, { dtype: 'float32', shape: [...v.shape], data: Float32Array.from(data) });
    }
  }
  // transformers ties an untied decoder's bias to cls.predictions.bias only when it ties the
  // weight too: an untied model writes the bias under both names, as its save_pretrained does.
  const bias = params.get(DECODER_BIAS_OWNER);
  if (params.has(DECODER_WEIGHT) && bias) {
    const name = preLn ? preLnHfName(DECODER_BIAS, sequenceClassifier) : DECODER_BIAS;
    out.set(name, {
      dtype: 'float32',
      shape: [...bias.shape],
      data: Float32Array.from((await bias.data()) as Float32Array),
    });
  }
  return out;
}

/**
 * Map an HF name variant onto ours: add `bert.`, gamma/beta → weight/bias;
 * roberta-prelayernorm names → ours.
 */
export function canonicalName(name: string): string {
  let n = fromPreLnHfName(name.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias'));
  if (/^(embeddings|encoder|pooler)\./.test(n)) n = `bert.${n}`;
  return n;
}

/** A pre-LN file's position table without its leading padding rows (toHfTensors added them). */
function withoutPositionOffset(t: TensorData): TensorData {
  if (t.shape.length !== 2 || t.shape[0] < PRE_LN_POSITION_OFFSET) return t;
  const [rows, H] = t.shape;
  return {
    dtype: t.dtype,
    shape: [rows - PRE_LN_POSITION_OFFSET, H],
    data: t.data.slice(PRE_LN_POSITION_OFFSET * H) as TensorData['data'],
  };
}

export interface LoadOptions extends HeadOptions {
  /** Names the file in error messages. */
  source?: string;
  /**
   * Starting a new task from a checkpoint (fine-tuning from a pretrained
   * model): head parameters absent from the file get a fresh init with this
   * seed, and the file's other heads are ignored. The encoder must be complete.
   */
  newHeads?: { seed: number };
}

export interface LoadResult {
  params: BertParams;
  /** File tensors that were not used (other heads, buffers such as position_ids). */
  ignored: string[];
  /** Parameters initialised fresh because the file lacked them (newHeads only). */
  initialized: string[];
}

function sameValues(a: TensorData, b: TensorData): boolean {
  if (a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (Math.abs(a.data[i] - b.data[i]) > 1e-6) return false;
  return true;
}

const list = (names: string[]): string =>
  names.length > 6
    ? `${names.slice(0, 6).join(', ')}, … (${names.length} in all)`
    : names.join(', ');

/**
 * Build parameters for `config` from HF tensors. Throws one UserError listing
 * every missing name, unexpected name and shape mismatch.
 */
export function fromHfTensors(
  tensors: ReadonlyMap<string, TensorData>,
  config: BertConfig,
  options: LoadOptions,
): LoadResult {
  const source = options.source ?? 'model weights';
  const byName = new Map<string, TensorData>();
  const ignored: string[] = [];
  for (const [raw, t] of tensors) {
    const name = canonicalName(raw);
    // A buffer, not a parameter (older transformers saved it).
    if (/position_ids$/.test(name)) {
      ignored.push(raw);
      continue;
    }
    byName.set(
      name,
      name === POSITIONS && config.layer_norm === 'pre' ? withoutPositionOffset(t) : t,
    );
  }
  // A tied decoder's explicit copy must equal the word embeddings (it is dropped); an untied
  // model (tie_word_embeddings: false) keeps it as its own parameter. Its bias is cls.predictions.bias.
  const decoder = byName.get(DECODER_WEIGHT);
  if (decoder && config.tie_word_embeddings) {
    const words = byName.get(WORD_EMBEDDINGS);
    if (words && !sameValues(decoder, words)) {
      throw new UserError(
        `${source}: ${DECODER_WEIGHT} differs from ${WORD_EMBEDDINGS} but config.json says tie_word_embeddings is true (expected equal tables, or tie_word_embeddings: false)`,
      );
    }
    byName.delete(DECODER_WEIGHT);
  }
  const decoderBias = byName.get(DECODER_BIAS);
  if (decoderBias) {
    const bias = byName.get(DECODER_BIAS_OWNER);
    if (!bias) byName.set(DECODER_BIAS_OWNER, decoderBias);
    else if (!sameValues(decoderBias, bias)) {
      throw new UserError(
        `${source}: ${DECODER_BIAS} differs from ${DECODER_BIAS_OWNER} (expected one output bias, written under both names)`,
      );
    }
    byName.delete(DECODER_BIAS);
  }

  const specs = parameterSpecs(config, options);
  // A pretrained pooler is dropped by heads that have none (HF's span/token heads).
  const isHead = (n: string): boolean =>
    n.startsWith('cls.') ||
    n.startsWith('classifier.') ||
    n.startsWith('qa_outputs.') ||
    (!hasPooler(options.heads) && n.startsWith('bert.pooler.'));
  // HF's roberta-prelayernorm masked LM has neither a pooler nor an NSP head: a pre-LN file may lack both.
  const optional = (n: string): boolean =>
    config.layer_norm === 'pre' &&
    (n.startsWith('bert.pooler.') || n.startsWith('cls.seq_relationship.'));
  const missing: string[] = [];
  const mismatched: string[] = [];
  const toInit: ParamSpec[] = [];
  for (const spec of specs) {
    const t = byName.get(spec.name);
    if (!t) {
      if ((options.newHeads && isHead(spec.name)) || optional(spec.name)) toInit.push(spec);
      else missing.push(spec.name);
      continue;
    }
    const want = isLinearWeight(spec.name) ? [spec.shape[1], spec.shape[0]] : spec.shape;
    if (
      t.dtype !== 'float32' ||
      t.shape.length !== want.length ||
      t.shape.some((d, i) => d !== want[i])
    ) {
      mismatched.push(`${spec.name} is ${t.dtype} [${t.shape}], expected float32 [${want}]`);
    }
  }
  const known = new Set(specs.map((s) => s.name));
  const unexpected: string[] = [];
  for (const name of byName.keys()) {
    if (known.has(name)) continue;
    if (options.newHeads && isHead(name)) ignored.push(name);
    else unexpected.push(name);
  }
  if (missing.length || unexpected.length || mismatched.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${list(missing)}`);
    if (unexpected.length) parts.push(`unexpected ${list(unexpected)}`);
    if (mismatched.length) parts.push(`shape mismatch: ${list(mismatched)}`);
    throw new UserError(
      `${source}: weights do not fit the model (${config.num_hidden_layers} layers, hidden ${config.hidden_size}, vocab ${config.vocab_size}, ${options.heads} heads): ${parts.join('; ')}`,
    );
  }

  const params: BertParams = new Map();
  specs.forEach((spec, i) => {
    const t = byName.get(spec.name);
    let init: tf.Tensor;
    if (t) {
      const data = isLinearWeight(spec.name)
        ? transpose2d(t.data as Float32Array, t.shape[0], t.shape[1])
        : t.data;
      init = tf.tensor(data, spec.shape, 'float32');
    } else {
      init = initialValue(spec, config, (options.newHeads?.seed ?? 0) + i);
    }
    params.set(spec.name, tf.variable(init, true));
    init.dispose();
  });
  return { params, ignored, initialized: toInit.map((s) => s.name) };
}
