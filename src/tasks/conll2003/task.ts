/** CoNLL-2003 named entities (`conll2003`) as a registry entry: token classification. */
import { UserError } from '../../errors.js';
import { bestSummary, type Task, type TaskModel } from '../task.js';
import { CONLL2003_LABELS } from './conll.js';
import { finetuneConll, type NerMetadata } from './finetune.js';
import { evaluateConllCheckpoint } from './evaluate.js';
import { tagEntities } from './predict.js';

async function predict(loaded: TaskModel, input: { text?: string }) {
  if (input.text === undefined) throw new UserError('predict: a conll2003 checkpoint needs --text');
  const meta = loaded.meta as unknown as NerMetadata;
  const r = await tagEntities(loaded.model, loaded.tokenizer, meta.max_seq_length, input.text);
  const lines = r.entities.map((e) => `${e.type}\t${e.text}\t${e.start}-${e.end}\n`);
  return { text: lines.length > 0 ? lines.join('') : '(no entities)\n', json: r };
}

export const CONLL2003: Task = {
  name: 'conll2003',
  aliases: ['ner/conll2003'],
  head: { heads: 'token_classification', numLabels: CONLL2003_LABELS.length },
  wrote: (meta) => meta.task === 'conll2003',
  finetune: async (session) => {
    const r = await finetuneConll(session);
    return {
      ...r,
      summary: bestSummary(r.best && { ...r.best, metrics: { dev: r.best.metrics } }),
    };
  },
  evaluate: (request) => evaluateConllCheckpoint(request),
  predict,
};
