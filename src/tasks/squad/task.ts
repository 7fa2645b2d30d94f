/** SQuAD v1.1 (`squad`) and v2.0 (`squad2`) as registry entries: span extraction. */
import { UserError } from '../../errors.js';
import type { FinetuneConfig } from '../../config/types.js';
import { bestSummary, type Task, type TaskModel } from '../task.js';
import { finetuneSquad, type SquadMetadata, type SquadOptions } from './finetune.js';
import { evaluateSquadCheckpoint } from './evaluate.js';
import { answerQuestion } from './predict.js';

/** The `squad:` config section as the SQuAD code's options. */
export function squadOptions(config: FinetuneConfig, version: '1.1' | '2.0'): SquadOptions {
  const s = config.squad;
  return {
    version,
    nullScoreDiffThreshold: s.null_score_diff_threshold,
    docStride: s.doc_stride,
    maxQueryLength: s.max_query_length,
    maxAnswerLength: s.max_answer_length,
    nBestSize: s.n_best_size,
    heldOutEvery: s.held_out_every,
  };
}

async function predict(loaded: TaskModel, input: { question?: string; context?: string }) {
  if (input.question === undefined || input.context === undefined)
    throw new UserError('predict: a squad checkpoint needs --question and --context');
  const meta = loaded.meta as unknown as SquadMetadata;
  const nBest = await answerQuestion(
    loaded.model,
    loaded.tokenizer,
    meta,
    input.question,
    input.context,
  );
  const best = nBest[0] ?? { text: '', score: Number.NaN };
  return {
    text: `${best.text}\n`,
    json: { answer: best.text, score: best.score, n_best: nBest.slice(0, 5) },
  };
}

function squadTask(name: string, version: '1.1' | '2.0', aliases: string[]): Task {
  return {
    name,
    aliases,
    head: { heads: 'question_answering' },
    wrote: (meta) => meta.task === 'squad' && (meta.version ?? '1.1') === version,
    finetune: async (session) => {
      const squad = squadOptions(session.config, version);
      const r = await finetuneSquad({ ...session, squad });
      return {
        ...r,
        summary: bestSummary(r.best && { ...r.best, metrics: { dev: r.best.metrics } }),
      };
    },
    evaluate: (request) => evaluateSquadCheckpoint(request),
    predict,
  };
}

export const SQUAD = squadTask('squad', '1.1', ['squad/v1.1', 'squad1.1']);
export const SQUAD2 = squadTask('squad2', '2.0', ['squad/v2.0', 'squad_v2']);
