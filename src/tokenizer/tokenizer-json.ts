/**
 * HuggingFace `tokenizer.json` for a BERT WordPiece vocabulary: the pipeline
 * BertNormalizer → BertPreTokenizer → WordPiece → TemplateProcessing, with the
 * five special tokens as added tokens matched on raw text. HF `tokenizers`
 * (Rust, Python, JS) and transformers' `PreTrainedTokenizerFast` load it.
 */
import { writeFileAtomic } from '../io/atomic.js';
import { SPECIAL_TOKENS, type Vocab } from './vocab.js';

export interface TokenizerJsonOptions {
  lowercase: boolean;
  stripAccents?: boolean;
  handleChineseChars?: boolean;
  maxInputCharsPerWord?: number;
}

type Piece =
  | { SpecialToken: { id: string; type_id: number } }
  | { Sequence: { id: 'A' | 'B'; type_id: number } };

/** The tokenizer.json object for `vocab`. */
export function buildTokenizerJson(
  vocab: Vocab,
  options: TokenizerJsonOptions,
): Record<string, unknown> {
  const id = (t: string): number => {
    const i = vocab.id(t);
    if (i === undefined) throw new Error(`tokenizer.json: vocabulary has no ${t}`);
    return i;
  };
  const special = (t: string, typeId: number): Piece => ({
    SpecialToken: { id: t, type_id: typeId },
  });
  const seq = (s: 'A' | 'B', typeId: number): Piece => ({ Sequence: { id: s, type_id: typeId } });
  const vocabObject: Record<string, number> = {};
  vocab.tokens.forEach((t, i) => {
    vocabObject[t] = i;
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t) => ({
      id: id(t),
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: options.handleChineseChars ?? true,
      strip_accents: options.stripAccents ?? options.lowercase,
      lowercase: options.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), seq('A', 0), special('[SEP]', 0)],
      pair: [
        special('[CLS]', 0),
        seq('A', 0),
        special('[SEP]', 0),
        seq('B', 1),
        special('[SEP]', 1),
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: options.maxInputCharsPerWord ?? 100,
      vocab: vocabObject,
    },
  };
}

/** tokenizer.json as text. */
export function tokenizerJsonText(vocab: Vocab, options: TokenizerJsonOptions): string {
  return JSON.stringify(buildTokenizerJson(vocab, options), null, 2) + '\n';
}

/** Write tokenizer.json atomically. */
export async function writeTokenizerJson(
  path: string,
  vocab: Vocab,
  options: TokenizerJsonOptions,
): Promise<void> {
  await writeFileAtomic(path, tokenizerJsonText(vocab, options));
}

/**
 * tokenizer_config.json: what transformers' AutoTokenizer.from_pretrained(dir)
 * needs to build a BertTokenizer(Fast) like ours (class, casing, length).
 * Written beside tokenizer.json by `bert tokenize` and by `bert export --format hf`.
 */
export function tokenizerConfigJson(
  lowercase: boolean,
  modelMaxLength: number,
): Record<string, unknown> {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: lowercase,
    // null = follow do_lower_case, as BERT does.
    strip_accents: null,
    tokenize_chinese_chars: true,
    do_basic_tokenize: true,
    never_split: null,
    model_max_length: modelMaxLength,
    clean_up_tokenization_spaces: true,
    ...specialTokensMapJson(),
  };
}

/**
 * special_tokens_map.json: BERT's five special tokens under transformers'
 * names (tokenizer_config.json carries the same keys).
 */
export function specialTokensMapJson(): Record<string, string> {
  return {
    unk_token: '[UNK]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
  };
}
