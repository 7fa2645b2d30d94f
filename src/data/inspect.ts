/**
 * `bert data inspect`: the first N instances of the pretraining stream as the
 * trainer would see them (epoch 0 of the training split unless asked
 * otherwise), as JSON objects or a human-readable view with the masked
 * tokens highlighted.
 */
import type { PretrainDataConfig } from './config.js';
import { openSource } from './loader-worker.js';
import { createPipeline, type DataSplitName } from './pipeline.js';
import type { MaskedInstance } from './stream.js';
import type { DocumentSource } from './types.js';
import { buildMaskingVocab, type MaskingVocab } from './vocab.js';

/** One instance as `bert data inspect --json` prints it (one JSON object per line). */
export interface InspectRecord {
  /** Input tokens after masking. */
  tokens: string[];
  input_ids: number[];
  token_type_ids: number[];
  masked_positions: number[];
  /** The original tokens at masked_positions (what the MLM head must predict). */
  masked_labels: string[];
  /** Input ids before masking. */
  original_ids: number[];
  is_random_next: boolean;
}

export interface InspectOptions {
  split?: DataSplitName;
  epoch?: number;
}

export function toInspectRecord(inst: MaskedInstance, vocab: MaskingVocab): InspectRecord {
  const token = (id: number): string => vocab.tokens[id] ?? `<${id}>`;
  return {
    tokens: Array.from(inst.inputIds, token),
    input_ids: Array.from(inst.inputIds),
    token_type_ids: Array.from(inst.tokenTypeIds),
    masked_positions: Array.from(inst.maskedLmPositions),
    masked_labels: Array.from(inst.maskedLmIds, token),
    original_ids: Array.from(inst.originalIds),
    is_random_next: inst.isRandomNext,
  };
}

/** The first `count` instances of the stream over `source` (fewer if a held-out pass is shorter). */
export function* inspectInstances(
  source: DocumentSource,
  vocabTokens: readonly string[],
  config: Omit<PretrainDataConfig, 'shards'>,
  seed: number,
  count: number,
  options: InspectOptions = {},
): Generator<InspectRecord> {
  const vocab = buildMaskingVocab(vocabTokens);
  const { stream } = createPipeline(source, vocab, config, seed, options.split ?? 'train');
  let n = 0;
  for (const { instance } of stream.from({ epoch: options.epoch ?? 0, index: 0 })) {
    if (n++ >= count) return;
    yield toInspectRecord(instance, vocab);
  }
}

/** `inspectInstances` over the shard directory named in the config. */
export async function inspectFromConfig(
  config: PretrainDataConfig,
  vocabTokens: readonly string[],
  seed: number,
  count: number,
  options: InspectOptions = {},
): Promise<InspectRecord[]> {
  const source = await openSource({ kind: 'shards', dir: config.shards }, vocabTokens.length);
  return [...inspectInstances(source, vocabTokens, config, seed, count, options)];
}

const ANSI = {
  mask: '\u001b[1;30;43m', // [MASK]: black on yellow
  random: '\u001b[1;37;41m', // random replacement: white on red
  kept: '\u001b[1;30;42m', // chosen but unchanged: black on green
  dim: '\u001b[2m',
  reset: '\u001b[0m',
} as const;

/**
 * A readable view of one instance: a header line, then segment A and
 * segment B on their own lines. A predicted position shows as
 * `{input|label}` (`{label}` when the token was left unchanged); with
 * `color` it is also highlighted (yellow [MASK], red random, green unchanged).
 */
export function renderInstance(
  record: InspectRecord,
  index: number,
  options: { color: boolean },
): string {
  const labels = new Map<number, string>();
  record.masked_positions.forEach((p, k) => labels.set(p, record.masked_labels[k]));
  const segments: string[][] = [[], []];
  record.tokens.forEach((tok, i) => {
    const label = labels.get(i);
    let text = tok;
    if (label !== undefined) {
      const kind = tok === '[MASK]' ? 'mask' : tok === label ? 'kept' : 'random';
      text = kind === 'kept' ? `{${label}}` : `{${tok}|${label}}`;
      if (options.color) text = `${ANSI[kind]}${text}${ANSI.reset}`;
    } else if (options.color && /^\[[A-Z]+\]$/.test(tok)) {
      text = `${ANSI.dim}${tok}${ANSI.reset}`;
    }
    segments[record.token_type_ids[i] === 1 ? 1 : 0].push(text);
  });
  const header =
    `#${index}  ${record.is_random_next ? 'NotNext (B from another document)' : 'IsNext'}` +
    `  ${record.tokens.length} tokens, ${record.masked_positions.length} masked`;
  return [header, `  A: ${segments[0].join(' ')}`, `  B: ${segments[1].join(' ')}`].join('\n');
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorAllowed(stream: { isTTY?: boolean }, env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}
