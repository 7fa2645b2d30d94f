/**
 * `bert eval` of a SQuAD checkpoint: EM/F1 on the evaluation questions (the
 * split config.json's `bert` block records) and the official predictions
 * JSON ({id: answer}).
 */
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { disposeParams } from '../../model/params.js';
import { loadTaskCheckpoint } from '../checkpoint.js';
import type { EvaluateRequest, TaskEvaluation } from '../task.js';
import { SQUAD_DEFAULTS, evaluateSquad, squadSplits, type SquadMetadata } from './finetune.js';

export async function evaluateSquadCheckpoint(o: EvaluateRequest): Promise<TaskEvaluation[]> {
  const { model, tokenizer, meta } = await loadTaskCheckpoint(o.checkpoint, {
    heads: 'question_answering',
  });
  const dataDir = o.dataDir ?? (meta.data_dir as string);
  const batchSize = o.batchSize ?? 64;
  try {
    const m = meta as unknown as SquadMetadata;
    if (o.split === 'test')
      throw new UserError(
        'squad: there is no labelled test split (SQuAD v1.1 test is hidden); use --split dev',
      );
    const version = m.version ?? '1.1';
    const { eval: examples } = squadSplits(
      dataDir,
      m.held_out_every ?? SQUAD_DEFAULTS.heldOutEvery,
      version,
    );
    const r = await evaluateSquad(
      model,
      tokenizer,
      examples,
      m.max_seq_length,
      {
        version,
        nullScoreDiffThreshold: m.null_score_diff_threshold ?? 0,
        docStride: m.doc_stride,
        maxQueryLength: m.max_query_length,
        maxAnswerLength: m.max_answer_length,
        nBestSize: m.n_best_size,
        heldOutEvery: m.held_out_every ?? SQUAD_DEFAULTS.heldOutEvery,
      },
      batchSize,
    );
    const path = join(
      o.outDir,
      version === '2.0' ? 'squad2-dev-predictions.json' : 'squad-dev-predictions.json',
    );
    await writeJsonAtomic(path, r.predictions);
    return [
      {
        task: 'squad',
        split: 'dev',
        examples: examples.length,
        metrics: r.metrics,
        predictions: path,
      },
    ];
  } finally {
    disposeParams(model.params);
  }
}
