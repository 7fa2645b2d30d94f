/**
 * What each pretraining objective (`train.objective`, schemas/pretrain.schema.json)
 * asks of the data and of the model, in one place: which sentence pairs the
 * instance planner makes (src/data/instances.ts) or whether it packs
 * (src/data/packing.ts), whether the NSP head trains, and how many documents
 * a corpus needs.
 */
import type { PretrainObjective } from '../config/types.js';
import { expectedValues, schemaDefaults, schemaEnum } from '../config/schemas.js';
import { UserError } from '../errors.js';
import type { SentencePairTask } from './instances.js';

/** The objectives the schema allows, in its order. */
export const PRETRAIN_OBJECTIVES = schemaEnum<PretrainObjective>('pretrain', ['train', 'objective']);

/** `train.objective`'s default (the schema's), for pipelines built without a config file. */
export const PRETRAIN_OBJECTIVE_DEFAULT = schemaDefaults('pretrain', ['train']).objective as PretrainObjective;

/** Every objective's sentence-pair task (a new objective without a row does not compile). */
const PAIR_TASK: Record<PretrainObjective, SentencePairTask | undefined> = {
  'mlm+nsp': 'nsp',
  'mlm+sop': 'sop',
  'mlm+nsp+sop': 'nsp+sop',
  mlm: undefined,
};

/** The sentence-pair task an objective trains through the NSP head; undefined for packed MLM-only. */
export function sentencePairTask(objective: PretrainObjective): SentencePairTask | undefined {
  return PAIR_TASK[objective];
}

/** Whether the NSP head gets a loss (NSP or SOP: the same head, the labels differ). */
export function trainsPairHead(objective: PretrainObjective): boolean {
  return sentencePairTask(objective) !== undefined;
}

/** Whether the pairs carry NSP's labels (IsNext / NotNext), whose NotNext pairs draw B from another document. */
export function labelsNextSentence(objective: PretrainObjective): boolean {
  const pairing = sentencePairTask(objective);
  return pairing === 'nsp' || pairing === 'nsp+sop';
}

/** Non-empty documents a split needs: NotNext pairs draw from another document; SOP pairs and packed sequences do not. */
export function minDocuments(objective: PretrainObjective): 1 | 2 {
  return labelsNextSentence(objective) ? 2 : 1;
}

/** Throws a one-line error naming `train.objective` unless `value` is one of the schema's objectives. */
export function assertObjective(value: unknown): asserts value is PretrainObjective {
  if (!PRETRAIN_OBJECTIVES.includes(value as PretrainObjective)) {
    throw new UserError(`train.objective: expected ${expectedValues(PRETRAIN_OBJECTIVES)}, got ${String(value)}`);
  }
}
