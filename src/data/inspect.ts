/**
 * `bert data inspect`: the first N instances of the pretraining stream as the
 * trainer would see them (epoch 0 of the training split unless asked
 * otherwise) — NSP pairs, or packed sequences with `train.objective: mlm` —
 * as JSON objects or a human-readable view with the masked tokens highlighted.
 */
import type { PretrainDataConfig } from './config.js';
import { PRETRAIN_OBJECTIVE_DEFAULT, labelsNextSentence, sentencePairTask } from './objective.js';
import type { PretrainObjective } from '../config/types.js';
import { openSource } from './loader-worker.js';
import { createPipeline, type DataSplitName, type PipelineConfig } from './pipeline.js';
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
  /** NSP pairs only (absent for packed MLM-only sequences): B was drawn from another document. */
  is_random_next?: boolean;
  /** SOP pairs only (objective mlm+sop): A and B are two consecutive stretches of a document in swapped order. */
  is_swapped?: boolean;
}

export interface InspectOptions {
  split?: DataSplitName;
  epoch?: number;
}

export function toInspectRecord(
  inst: MaskedInstance,
  vocab: MaskingVocab,
  objective: PretrainObjective = PRETRAIN_OBJECTIVE_DEFAULT,
): InspectRecord {
  const token = (id: number): string => vocab.tokens[id] ?? `<${id}>`;
  const record: InspectRecord = {
    tokens: Array.from(inst.inputIds, token),
    input_ids: Array.from(inst.inputIds),
    token_type_ids: Array.from(inst.tokenTypeIds),
    masked_positions: Array.from(inst.maskedLmPositions),
    masked_labels: Array.from(inst.maskedLmIds, token),
    original_ids: Array.from(inst.originalIds),
  };
  if (labelsNextSentence(objective)) record.is_random_next = inst.isRandomNext;
  if (sentencePairTask(objective) === 'sop') record.is_swapped = inst.isRandomNext;
  return record;
}

/** The first `count` instances of the stream over `source` (fewer if a held-out pass is shorter). */
export function* inspectInstances(
  source: DocumentSource,
  vocabTokens: readonly string[],
  config: PipelineConfig,
  seed: number,
  count: number,
  options: InspectOptions = {},
): Generator<InspectRecord> {
  const vocab = buildMaskingVocab(vocabTokens);
  const { stream } = createPipeline(source, vocab, config, seed, options.split ?? 'train');
  const objective = config.objective ?? PRETRAIN_OBJECTIVE_DEFAULT;
  let n = 0;
  for (const { instance } of stream.from({ epoch: options.epoch ?? 0, index: 0 })) {
    if (n++ >= count) return;
    yield toInspectRecord(instance, vocab, objective);
  }
}

/** `inspectInstances` over the shard directory named in the config. */
export async function inspectFromConfig(
  config: PretrainDataConfig & Pick<PipelineConfig, 'objective'>,
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
 * segment B on their own lines (a packed MLM-only sequence: one line). A predicted position shows as
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
  const sizes = `  ${record.tokens.length} tokens, ${record.masked_positions.length} masked`;
  if (record.is_random_next === undefined && record.is_swapped === undefined) {
    return [`#${index}  packed (MLM only)${sizes}`, `  ${segments[0].join(' ')}`].join('\n');
  }
  const label =
    record.is_swapped !== undefined
      ? record.is_swapped
        ? 'Swapped (B comes before A)'
        : 'InOrder'
      : record.is_random_next
        ? 'NotNext (B from another document)'
        : 'IsNext';
  const header = `#${index}  ${label}` + sizes;
  return [header, `  A: ${segments[0].join(' ')}`, `  B: ${segments[1].join(' ')}`].join('\n');
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorAllowed(stream: { isTTY?: boolean }, env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}
