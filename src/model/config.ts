/**
 * The model's shape, with HuggingFace `BertConfig` field names so that
 * `config.json` in a checkpoint loads in transformers unchanged.
 */
import { UserError } from '../errors.js';

export type HiddenAct = 'gelu' | 'gelu_new';

/**
 * Where each block's LayerNorm sits: 'post' = BERT (after each residual add);
 * 'pre' = HF's RobertaPreLayerNorm (before attention and the feed-forward,
 * plus one final LayerNorm after the last block).
 */
export type LayerNormPlacement = 'post' | 'pre';

/** config.json's model_type for each placement: a pre-LN model is written in HF's roberta-prelayernorm layout. */
export const MODEL_TYPES: Record<LayerNormPlacement, string> = {
  post: 'bert',
  pre: 'roberta-prelayernorm',
};

/**
 * Rows HF's roberta-prelayernorm position table has before ours: its positions
 * start at pad_token_id + 1, and pad_token_id is 0 ([PAD] of a BERT vocabulary).
 */
export const PRE_LN_POSITION_OFFSET = 1;

export interface BertConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  /** 'gelu' = exact erf form (HF's default); 'gelu_new' = google-research/bert's tanh approximation. */
  hidden_act: HiddenAct;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  layer_norm: LayerNormPlacement;
  /**
   * true: the MLM decoder is the word embedding table (BERT); false: the decoder has its own
   * [vocab, hidden] weight (cls.predictions.decoder.weight), so the output softmax's gradient
   * never reaches the input embeddings.
   */
  tie_word_embeddings: boolean;
}

export interface NamedSize {
  num_hidden_layers: number;
  hidden_size: number;
  num_attention_heads: number;
}

/** The BERT sizes of Turc et al. (2019) and the paper; intermediate_size is 4 × hidden_size. */
export const NAMED_SIZES = {
  tiny: { num_hidden_layers: 2, hidden_size: 128, num_attention_heads: 2 },
  mini: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4 },
  small: { num_hidden_layers: 4, hidden_size: 512, num_attention_heads: 8 },
  medium: { num_hidden_layers: 8, hidden_size: 512, num_attention_heads: 8 },
  base: { num_hidden_layers: 12, hidden_size: 768, num_attention_heads: 12 },
  large: { num_hidden_layers: 24, hidden_size: 1024, num_attention_heads: 16 },
} as const satisfies Record<string, NamedSize>;

export type SizeName = keyof typeof NAMED_SIZES;

/** bert-base-uncased's defaults for everything that is not a size. */
export const DEFAULT_CONFIG: BertConfig = {
  vocab_size: 30522,
  ...NAMED_SIZES.base,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  layer_norm: 'post',
  tie_word_embeddings: true,
};

export function isSizeName(name: string): name is SizeName {
  return Object.prototype.hasOwnProperty.call(NAMED_SIZES, name);
}

/**
 * A full config for a named size, with `overrides` applied last
 * (intermediate_size follows hidden_size unless overridden).
 */
export function bertConfig(size: SizeName, overrides: Partial<BertConfig> = {}): BertConfig {
  const s = NAMED_SIZES[size];
  const config: BertConfig = {
    ...DEFAULT_CONFIG,
    ...s,
    intermediate_size: 4 * s.hidden_size,
    ...overrides,
  };
  validateBertConfig(config);
  return config;
}

/** Throws a UserError naming the first field that makes no sense; `where` prefixes the message (a file name). */
export function validateBertConfig(config: BertConfig, where = 'model config'): void {
  const ints: (keyof BertConfig)[] = [
    'vocab_size',
    'hidden_size',
    'num_hidden_layers',
    'num_attention_heads',
    'intermediate_size',
    'max_position_embeddings',
    'type_vocab_size',
  ];
  for (const k of ints) {
    const v = config[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new UserError(`${where}: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new UserError(
      `${where}: hidden_size (${config.hidden_size}) must be a multiple of num_attention_heads (${config.num_attention_heads})`,
    );
  }
  if (config.hidden_act !== 'gelu' && config.hidden_act !== 'gelu_new') {
    throw new UserError(
      `${where}: hidden_act must be "gelu" or "gelu_new", got ${JSON.stringify(config.hidden_act)}`,
    );
  }
  if (config.layer_norm !== 'post' && config.layer_norm !== 'pre') {
    throw new UserError(
      `${where}: layer_norm must be "post" or "pre", got ${JSON.stringify(config.layer_norm)}`,
    );
  }
  for (const k of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const) {
    const v = config[k];
    if (typeof v !== 'number' || !(v >= 0 && v < 1))
      throw new UserError(`${where}: ${k} must be in [0, 1), got ${JSON.stringify(v)}`);
  }
  for (const k of ['initializer_range', 'layer_norm_eps'] as const) {
    const v = config[k];
    if (typeof v !== 'number' || !(v > 0))
      throw new UserError(`${where}: ${k} must be a positive number, got ${JSON.stringify(v)}`);
  }
  if (typeof config.tie_word_embeddings !== 'boolean') {
    throw new UserError(
      `${where}: tie_word_embeddings must be true or false, got ${JSON.stringify(config.tie_word_embeddings)}`,
    );
  }
}

/** transformers' class names for a pre-LN model, by the BERT class of the same heads. */
const PRE_LN_ARCHITECTURES: Record<string, string> = {
  BertForPreTraining: 'RobertaPreLayerNormForMaskedLM',
  BertForMaskedLM: 'RobertaPreLayerNormForMaskedLM',
  BertForSequenceClassification: 'RobertaPreLayerNormForSequenceClassification',
  BertForQuestionAnswering: 'RobertaPreLayerNormForQuestionAnswering',
  BertForTokenClassification: 'RobertaPreLayerNormForTokenClassification',
  BertModel: 'RobertaPreLayerNormModel',
};

/** The transformers class for a model with the heads of BERT class `bertClass`. */
export function hfClassName(bertClass: string, layerNorm: LayerNormPlacement): string {
  return layerNorm === 'pre' ? (PRE_LN_ARCHITECTURES[bertClass] ?? bertClass) : bertClass;
}

/** The BERT class name for a transformers class name (a pre-LN class → the BERT class with the same heads). */
export function bertArchitecture(name: string): string {
  if (name === PRE_LN_ARCHITECTURES.BertForMaskedLM) return 'BertForPreTraining';
  for (const [bert, roberta] of Object.entries(PRE_LN_ARCHITECTURES))
    if (roberta === name) return bert;
  return name;
}

/**
 * The `config.json` object for a checkpoint (HF fields plus what transformers
 * needs to pick the class). A pre-LN model is written as HF's
 * roberta-prelayernorm: that model_type, its class names, and its position
 * table's extra leading row in max_position_embeddings.
 */
export function toHfConfigJson(
  config: BertConfig,
  architecture: 'BertForPreTraining' | 'BertForSequenceClassification' = 'BertForPreTraining',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const { layer_norm, ...fields } = config;
  const json: Record<string, unknown> = {
    architectures: [architecture],
    model_type: MODEL_TYPES[layer_norm],
    ...fields,
    pad_token_id: 0,
    ...extra,
  };
  if (layer_norm === 'pre') {
    json.max_position_embeddings = config.max_position_embeddings + PRE_LN_POSITION_OFFSET;
    if (Array.isArray(json.architectures))
      json.architectures = json.architectures.map((a) =>
        typeof a === 'string' ? hfClassName(a, 'pre') : a,
      );
  }
  return json;
}

/**
 * Read the BertConfig fields out of a parsed config.json; unknown fields are
 * ignored, missing ones are an error. model_type "roberta-prelayernorm" is a
 * pre-LN model (max_position_embeddings less its leading padding row).
 */
export function fromHfConfigJson(json: Record<string, unknown>, where = 'config.json'): BertConfig {
  const config = { ...DEFAULT_CONFIG };
  const modelType = json.model_type ?? MODEL_TYPES.post;
  const layerNorm = (Object.keys(MODEL_TYPES) as LayerNormPlacement[]).find(
    (k) => MODEL_TYPES[k] === modelType,
  );
  if (!layerNorm) {
    throw new UserError(
      `${where}: model_type is ${JSON.stringify(modelType)}, expected ${Object.values(MODEL_TYPES)
        .map((t) => JSON.stringify(t))
        .join(' or ')}`,
    );
  }
  for (const k of Object.keys(DEFAULT_CONFIG) as (keyof BertConfig)[]) {
    if (k === 'layer_norm') continue;
    if (json[k] === undefined) {
      // HF omits some fields when they are at their defaults; only sizes are required.
      if (
        [
          'vocab_size',
          'hidden_size',
          'num_hidden_layers',
          'num_attention_heads',
          'intermediate_size',
        ].includes(k)
      ) {
        throw new UserError(`${where}: missing "${k}" (expected a HuggingFace BertConfig)`);
      }
      continue;
    }
    (config as Record<string, unknown>)[k] = json[k];
  }
  config.layer_norm = layerNorm;
  if (layerNorm === 'pre') {
    // HF's RobertaPreLayerNormConfig defaults pad_token_id to 1; its positions start after it.
    const pad = json.pad_token_id ?? 1;
    if (pad !== 0) {
      throw new UserError(
        `${where}: pad_token_id is ${JSON.stringify(pad)}, expected 0 ([PAD] of a BERT vocabulary) for a roberta-prelayernorm model`,
      );
    }
    config.max_position_embeddings -= PRE_LN_POSITION_OFFSET;
  }
  validateBertConfig(config, where);
  return config;
}
