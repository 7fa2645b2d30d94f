/**
 * google-research/bert's TensorFlow variable names ↔ our (HuggingFace) names.
 *
 *   bert/embeddings/{word,position,token_type}_embeddings  → bert.embeddings.*.weight
 *   bert/…/LayerNorm/gamma | beta                          → ….LayerNorm.weight | bias
 *   bert/encoder/layer_N/<path>/kernel | bias              → bert.encoder.layer.N.<path>.weight | bias
 *   bert/pooler/dense/kernel | bias                        → bert.pooler.dense.weight | bias
 *   cls/predictions/transform/…                            → cls.predictions.transform.…
 *   cls/predictions/output_bias                            → cls.predictions.bias
 *   cls/seq_relationship/output_weights | output_bias      → cls.seq_relationship.weight | bias
 *   output_weights | output_bias        (run_classifier)   → classifier.weight | bias
 *   cls/squad/output_weights | output_bias (run_squad)     → qa_outputs.weight | bias
 *
 * A dense `kernel` is [in, out] in TensorFlow and [out, in] in HF files, so it
 * is transposed; `output_weights` are already [out, in]. Optimizer slots
 * (`…/adam_m`, `…/adam_v`, tf.train.AdamOptimizer's `…/Adam`, `…/Adam_1`,
 * beta1_power, beta2_power) and `global_step` are training state, not the model.
 */

export interface NameMapping {
  hf: string;
  /** The TF tensor is the transpose of the HF one (dense kernels). */
  transpose: boolean;
}

const LAYER_PATHS = [
  'attention/self/query',
  'attention/self/key',
  'attention/self/value',
  'attention/output/dense',
  'intermediate/dense',
  'output/dense',
];
const LAYER_NORMS = ['attention/output/LayerNorm', 'output/LayerNorm'];

const FIXED: ReadonlyArray<readonly [string, string]> = [
  ['bert/embeddings/word_embeddings', 'bert.embeddings.word_embeddings.weight'],
  ['bert/embeddings/position_embeddings', 'bert.embeddings.position_embeddings.weight'],
  ['bert/embeddings/token_type_embeddings', 'bert.embeddings.token_type_embeddings.weight'],
  ['cls/predictions/output_bias', 'cls.predictions.bias'],
  ['cls/seq_relationship/output_weights', 'cls.seq_relationship.weight'],
  ['cls/seq_relationship/output_bias', 'cls.seq_relationship.bias'],
  ['output_weights', 'classifier.weight'],
  ['output_bias', 'classifier.bias'],
  ['cls/squad/output_weights', 'qa_outputs.weight'],
  ['cls/squad/output_bias', 'qa_outputs.bias'],
];
const FIXED_TO_HF = new Map(FIXED);
const FIXED_TO_GOOGLE = new Map(FIXED.map(([g, h]) => [h, g]));

/** Dense and LayerNorm prefixes outside the encoder layers. */
const DENSE = ['bert/pooler/dense', 'cls/predictions/transform/dense'];
const NORMS = ['bert/embeddings/LayerNorm', 'cls/predictions/transform/LayerNorm'];

const dotted = (path: string): string => path.replaceAll('/', '.');

/** Training state that a checkpoint may carry beside the model. */
export function isOptimizerState(name: string): boolean {
  return (
    name === 'global_step' ||
    name === 'beta1_power' ||
    name === 'beta2_power' ||
    /\/(adam_m|adam_v|Adam|Adam_1)$/.test(name)
  );
}

/** The HF name of a Google variable, or null when it is not a BERT variable we know. */
export function googleToHf(name: string): NameMapping | null {
  const fixed = FIXED_TO_HF.get(name);
  if (fixed) return { hf: fixed, transpose: false };
  let prefix = name;
  let hfPrefix: string | null = null;
  const layer = /^bert\/encoder\/layer_(\d+)\/(.+)\/(kernel|bias|gamma|beta)$/.exec(name);
  if (layer) {
    const [, n, path] = layer;
    prefix = `bert/encoder/layer_${n}/${path}`;
    const known = /kernel|bias/.test(layer[3]) ? LAYER_PATHS : LAYER_NORMS;
    if (known.includes(path)) hfPrefix = `bert.encoder.layer.${Number(n)}.${dotted(path)}`;
  } else {
    const m = /^(.+)\/(kernel|bias|gamma|beta)$/.exec(name);
    if (m) {
      prefix = m[1];
      const known = /kernel|bias/.test(m[2]) ? DENSE : NORMS;
      if (known.includes(prefix)) hfPrefix = dotted(prefix);
    }
  }
  if (!hfPrefix) return null;
  const leaf = name.slice(prefix.length + 1);
  switch (leaf) {
    case 'kernel':
      return { hf: `${hfPrefix}.weight`, transpose: true };
    case 'gamma':
      return { hf: `${hfPrefix}.weight`, transpose: false };
    case 'beta':
    case 'bias':
      return { hf: `${hfPrefix}.bias`, transpose: false };
    default:
      return null;
  }
}

/** The Google variable name of one of our parameters (HF name), or null when it has none. */
export function hfToGoogle(hf: string): { google: string; transpose: boolean } | null {
  const fixed = FIXED_TO_GOOGLE.get(hf);
  if (fixed) return { google: fixed, transpose: false };
  const m = /^(.+)\.(weight|bias)$/.exec(hf);
  if (!m) return null;
  const [, prefix, leaf] = m;
  const isNorm = prefix.endsWith('.LayerNorm');
  const google = prefix
    .replace(/^bert\.encoder\.layer\.(\d+)\./, 'bert/encoder/layer_$1/')
    .replaceAll('.', '/');
  const tfLeaf = isNorm
    ? leaf === 'weight'
      ? 'gamma'
      : 'beta'
    : leaf === 'weight'
      ? 'kernel'
      : 'bias';
  const name = `${google}/${tfLeaf}`;
  const back = googleToHf(name);
  return back && back.hf === hf ? { google: name, transpose: back.transpose } : null;
}
