/**
 * `bert finetune squad`: BertForQuestionAnswering on SQuAD v1.1. With a
 * train file in --data it trains on it and evaluates on dev; with only
 * dev-v1.1.json it fine-tunes on the dev articles
 * not held out and evaluates on the held-out ones (splitByArticle).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { padSequences, type EncoderBatch, type SpanBatch } from '../../model/batch.js';
import { lengthSortedBatches, predictSpans } from '../../model/predict.js';
import type { BertModel } from '../../model/bert.js';
import { toHfConfigJson } from '../../model/config.js';
import { QuestionAnsweringStep } from '../../train/step.js';
import { BertTokenizer } from '../../tokenizer/bert-tokenizer.js';
import { squadScores, squadV2Scores } from '../../metrics/squad.js';
import { readSquad, splitByArticle, type SquadExample } from './data.js';
import { ContextCache, squadFeatures, type SquadFeature } from './features.js';
import { nBestAnswers, nullScores, predictionsJson, type FeatureLogits } from './postprocess.js';
import { initialModel } from '../initial-model.js';
import {
  devEvaluation,
  runFinetuning,
  type FinetuneResult,
  type FinetuneSession,
} from '../finetune.js';
import { SHUFFLE_STREAM } from '../../train/epochs.js';

export interface SquadOptions {
  /** '2.0' adds unanswerable questions: [CLS] targets, the no-answer threshold, v2 metrics. */
  version: '1.1' | '2.0';
  /** v2.0: answer '' when score_null − best span score exceeds this. */
  nullScoreDiffThreshold: number;
  docStride: number;
  maxQueryLength: number;
  maxAnswerLength: number;
  nBestSize: number;
  /** Dev-only data: hold out every N-th article for evaluation. */
  heldOutEvery: number;
}

/** data_dir when the config names none. */
export const SQUAD_DATA_DIR = 'data/squad';

export const SQUAD_DEFAULTS: SquadOptions = {
  version: '1.1',
  nullScoreDiffThreshold: 0,
  docStride: 128,
  maxQueryLength: 64,
  maxAnswerLength: 30,
  nBestSize: 20,
  heldOutEvery: 4,
};

/** What `bert eval` needs to rebuild the evaluation split; stored as config.json's `bert`. */
export interface SquadMetadata {
  task: 'squad';
  version: '1.1' | '2.0';
  null_score_diff_threshold: number;
  data_dir: string;
  max_seq_length: number;
  lowercase: boolean;
  doc_stride: number;
  max_query_length: number;
  max_answer_length: number;
  n_best_size: number;
  /** null when a separate train file was used. */
  held_out_every: number | null;
}

/** The training and evaluation questions for a data dir (or a single dev file). */
export function squadSplits(
  dataDir: string,
  heldOutEvery: number,
  version: '1.1' | '2.0' = '1.1',
): { train: SquadExample[]; eval: SquadExample[]; heldOutEvery: number | null; describe: string } {
  const isFile = existsSync(dataDir) && statSync(dataDir).isFile();
  const dev = isFile ? dataDir : join(dataDir, `dev-v${version}.json`);
  if (!existsSync(dev))
    throw new UserError(`${dev}: SQuAD dev file not found (--data DIR with dev-v${version}.json)`);
  const trainFile = isFile ? null : join(dataDir, `train-v${version}.json`);
  if (trainFile && existsSync(trainFile)) {
    return {
      train: readSquad(trainFile),
      eval: readSquad(dev),
      heldOutEvery: null,
      describe: `${trainFile} → ${dev}`,
    };
  }
  const split = splitByArticle(readSquad(dev), heldOutEvery);
  return {
    ...split,
    heldOutEvery,
    describe: `${dev} split by article (every ${heldOutEvery}th held out)`,
  };
}

/** Pad windows to the batch's longest. */
export function collateWindows(features: readonly SquadFeature[], padId: number): SpanBatch {
  return {
    ...padSequences(features, padId),
    start_positions: Int32Array.from(features, (f) => f.startPosition),
    end_positions: Int32Array.from(features, (f) => f.endPosition),
  };
}

/** Start/end logits of every window, in batches sorted by length. */
export async function predictWindows(
  model: BertModel,
  features: readonly SquadFeature[],
  padId: number,
  batchSize: number,
): Promise<FeatureLogits[]> {
  const out: FeatureLogits[] = new Array<FeatureLogits>(features.length);
  for (const idx of lengthSortedBatches(features, batchSize)) {
    const batch: EncoderBatch = collateWindows(
      idx.map((i) => features[i]),
      padId,
    );
    const { start, end } = await predictSpans(model, batch);
    const T = batch.seq_length;
    idx.forEach((fi, b) => {
      const n = features[fi].ids.length;
      out[fi] = { start: start.slice(b * T, b * T + n), end: end.slice(b * T, b * T + n) };
    });
  }
  return out;
}

/** Predictions JSON and EM/F1 of `model` on `examples`. */
export async function evaluateSquad(
  model: BertModel,
  tokenizer: BertTokenizer,
  examples: readonly SquadExample[],
  maxSeqLength: number,
  options: SquadOptions,
  batchSize: number,
): Promise<{ metrics: Record<string, number>; predictions: Record<string, string> }> {
  const cache = new ContextCache(tokenizer);
  const features = squadFeatures(
    tokenizer,
    examples,
    { maxSeqLength, docStride: options.docStride, maxQueryLength: options.maxQueryLength },
    cache,
  );
  const logits = await predictWindows(model, features, tokenizer.padId, batchSize);
  const v2 = options.version === '2.0';
  const predictions = predictionsJson(
    examples,
    nBestAnswers(examples, features, logits, cache, options),
    v2
      ? {
          nullScores: nullScores(examples, features, logits),
          nullScoreDiffThreshold: options.nullScoreDiffThreshold,
        }
      : undefined,
  );
  const golds = new Map(examples.map((e) => [e.id, e.answers.map((a) => a.text)]));
  if (v2) {
    const s = squadV2Scores(golds, predictions);
    const { total: _t, missing: _m, HasAns_total: _h, NoAns_total: _n, ...metrics } = s;
    return { metrics, predictions };
  }
  const s = squadScores(golds, predictions);
  return { metrics: { exact_match: s.exact_match, f1: s.f1 }, predictions };
}

export interface SquadFinetuneOptions extends FinetuneSession {
  squad: SquadOptions;
}

export async function finetuneSquad(o: SquadFinetuneOptions): Promise<FinetuneResult> {
  const { config } = o;
  const dataDir = config.data_dir ?? SQUAD_DATA_DIR;
  const splits = squadSplits(dataDir, o.squad.heldOutEvery, o.squad.version);
  const train = config.max_train_examples
    ? splits.train.slice(0, config.max_train_examples)
    : splits.train;
  const evalExamples = config.max_eval_examples
    ? splits.eval.slice(0, config.max_eval_examples)
    : splits.eval;
  const init = await initialModel(config, { heads: 'question_answering' }, config.train.seed);
  const { tokenizer } = init;
  const features = squadFeatures(tokenizer, train, {
    maxSeqLength: config.max_seq_length,
    docStride: o.squad.docStride,
    maxQueryLength: o.squad.maxQueryLength,
  });
  const metadata: SquadMetadata = {
    task: 'squad',
    version: o.squad.version,
    null_score_diff_threshold: o.squad.nullScoreDiffThreshold,
    data_dir: dataDir,
    max_seq_length: config.max_seq_length,
    lowercase: init.lowercase,
    doc_stride: o.squad.docStride,
    max_query_length: o.squad.maxQueryLength,
    max_answer_length: o.squad.maxAnswerLength,
    n_best_size: o.squad.nBestSize,
    held_out_every: splits.heldOutEvery,
  };
  return runFinetuning<SpanBatch, SquadFeature, Record<string, number>>({
    ...o,
    init,
    shuffleStream: SHUFFLE_STREAM.spans,
    features,
    collate: (fs) => collateWindows(fs, tokenizer.padId),
    Step: QuestionAnsweringStep,
    evaluate: async () =>
      devEvaluation(
        (
          await evaluateSquad(
            init.model,
            tokenizer,
            evalExamples,
            config.max_seq_length,
            o.squad,
            config.train.eval_batch_size,
          )
        ).metrics,
      ),
    checkpointConfig: toHfConfigJson(init.config, 'BertForPreTraining', {
      architectures: ['BertForQuestionAnswering'],
      finetuning_task: o.squad.version === '2.0' ? 'squad_v2' : 'squad',
      bert: { ...metadata },
    }),
    dataLabel: `squad: ${train.length} questions (${features.length} windows) train, ${evalExamples.length} eval; ${splits.describe}`,
  });
}
