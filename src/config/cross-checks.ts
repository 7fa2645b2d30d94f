/**
 * Checks that combine two config keys, which a JSON Schema cannot express:
 * hidden_size must split evenly over the attention heads, and sequences must
 * fit the position embeddings. Each names the key the user set, so the
 * loader can point at its file:line.
 */
import { NAMED_SIZES } from '../model/config.js';
import type { SchemaName } from './schemas.js';

export interface CrossKeyProblem {
  /** The key to point at (the one the user set, of the two). */
  path: string[];
  message: string;
}

type Section = Record<string, unknown> | undefined;

function modelProblems(
  model: Section,
  seqPath: string[],
  maxSeqLength: unknown,
  isSet: (path: string[]) => boolean,
): CrossKeyProblem | null {
  if (!model) return null;
  const size = NAMED_SIZES[(model.size as keyof typeof NAMED_SIZES) ?? 'tiny'];
  if (!size) return null;
  const hidden = (model.hidden_size as number | undefined) ?? size.hidden_size;
  const heads = (model.num_attention_heads as number | undefined) ?? size.num_attention_heads;
  if (hidden % heads !== 0) {
    const headsSet = isSet(['model', 'num_attention_heads']);
    const hiddenSet = isSet(['model', 'hidden_size']);
    const from = (set: boolean): string => (set ? '' : `, from size ${String(model.size)}`);
    return hiddenSet || !headsSet
      ? {
          path: ['model', 'hidden_size'],
          message: `${hidden} must be a multiple of model.num_attention_heads (${heads}${from(headsSet)})`,
        }
      : {
          path: ['model', 'num_attention_heads'],
          message: `${heads} must divide model.hidden_size (${hidden}${from(hiddenSet)})`,
        };
  }
  const positions = model.max_position_embeddings as number | undefined;
  if (
    typeof maxSeqLength === 'number' &&
    typeof positions === 'number' &&
    maxSeqLength > positions
  ) {
    return isSet(seqPath) || !isSet(['model', 'max_position_embeddings'])
      ? {
          path: seqPath,
          message: `${maxSeqLength} exceeds model.max_position_embeddings (${positions})`,
        }
      : {
          path: ['model', 'max_position_embeddings'],
          message: `${positions} is less than ${seqPath.join('.')} (${maxSeqLength})`,
        };
  }
  return null;
}

/**
 * The first problem combining two keys of a validated `config`, or null.
 * `isSet` says whether the user gave a key (file or --set) rather than a default.
 */
export function crossKeyProblem(
  schema: SchemaName,
  config: Record<string, unknown>,
  isSet: (path: string[]) => boolean,
): CrossKeyProblem | null {
  if (schema === 'pretrain') {
    const data = config.data as Section;
    return modelProblems(
      config.model as Section,
      ['data', 'max_seq_length'],
      data?.max_seq_length,
      isSet,
    );
  }
  // Fine-tuning builds a model from `model` only for `from: none`; otherwise the checkpoint decides.
  if (schema === 'finetune' && config.from === 'none') {
    return modelProblems(config.model as Section, ['max_seq_length'], config.max_seq_length, isSet);
  }
  return null;
}
