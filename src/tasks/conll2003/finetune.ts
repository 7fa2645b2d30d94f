/**
 * `bert finetune conll2003`: BertForTokenClassification on CoNLL-2003
 * (train → dev = testa; testb scored by `bert eval --split test`). Tags are
 * learnt as IOB2 (IOB1 files are converted); predictions are scored against
 * the file's own tags with conlleval's entity rules, which read both.
 */
import { existsSync } from 'node:fs';
import type { BertModel } from '../../model/bert.js';
import { toHfConfigJson } from '../../model/config.js';
import { TokenClassificationStep } from '../../train/step.js';
import { lengthSortedBatches, predictTokenLogits } from '../../model/predict.js';
import type { TokenLabelBatch } from '../../model/batch.js';
import { BertTokenizer } from '../../tokenizer/bert-tokenizer.js';
import { seqevalScores } from '../../metrics/seqeval.js';
import { initialModel } from '../initial-model.js';
import {
  devEvaluation,
  runFinetuning,
  type FinetuneResult,
  type FinetuneSession,
} from '../finetune.js';
import { SHUFFLE_STREAM } from '../../train/epochs.js';
import { CONLL2003_LABELS, conllFiles, readConll, toIob2, type ConllSentence } from './conll.js';
import { collateNer, nerFeatures, type NerFeature } from './features.js';

/** data_dir when the config names none. */
export const CONLL_DATA_DIR = 'data/conll2003';

export interface NerMetadata {
  task: 'conll2003';
  data_dir: string;
  max_seq_length: number;
  lowercase: boolean;
}

export const LABEL_IDS: ReadonlyMap<string, number> = new Map(
  CONLL2003_LABELS.map((l, i) => [l, i]),
);

/** Predicted tags for every word of every sentence. */
export async function predictTags(
  model: BertModel,
  tokenizer: BertTokenizer,
  sentences: readonly ConllSentence[],
  maxSeqLength: number,
  batchSize: number,
  labels: readonly string[] = CONLL2003_LABELS,
): Promise<string[][]> {
  const features = nerFeatures(tokenizer, sentences, LABEL_IDS, maxSeqLength);
  const out = sentences.map((s) => new Array<string>(s.tokens.length).fill('O'));
  const C = labels.length;
  for (const idx of lengthSortedBatches(features, batchSize)) {
    const fs: NerFeature[] = idx.map((i) => features[i]);
    const batch = collateNer(fs, tokenizer.padId);
    const logits = await predictTokenLogits(model, batch);
    const T = batch.seq_length;
    fs.forEach((f, b) => {
      f.wordStarts.forEach((pos, k) => {
        const row = (b * T + pos) * C;
        let best = 0;
        for (let c = 1; c < C; c++) if (logits[row + c] > logits[row + best]) best = c;
        out[f.sentence][f.firstWord + k] = labels[best];
      });
    });
  }
  return out;
}

export async function evaluateNer(
  model: BertModel,
  tokenizer: BertTokenizer,
  sentences: readonly ConllSentence[],
  maxSeqLength: number,
  batchSize: number,
): Promise<{ metrics: Record<string, number>; predicted: string[][] }> {
  const predicted = await predictTags(model, tokenizer, sentences, maxSeqLength, batchSize);
  const r = seqevalScores(
    sentences.map((s) => s.tags),
    predicted,
  );
  const metrics: Record<string, number> = {
    precision: r.overall.precision,
    recall: r.overall.recall,
    f1: r.overall.f1,
    accuracy: r.overall.accuracy,
  };
  for (const [type, v] of Object.entries(r.perType)) metrics[`f1_${type}`] = v.f1;
  return { metrics, predicted };
}

export type NerFinetuneOptions = FinetuneSession;

export async function finetuneConll(o: NerFinetuneOptions): Promise<FinetuneResult> {
  const { config } = o;
  const dataDir = config.data_dir ?? CONLL_DATA_DIR;
  const files = conllFiles(dataDir, existsSync);
  const allTrain = readConll(files.train);
  const train = config.max_train_examples ? allTrain.slice(0, config.max_train_examples) : allTrain;
  const allDev = readConll(files.dev);
  const dev = config.max_eval_examples ? allDev.slice(0, config.max_eval_examples) : allDev;
  const init = await initialModel(
    config,
    { heads: 'token_classification', numLabels: CONLL2003_LABELS.length },
    config.train.seed,
  );
  const { tokenizer } = init;
  const features = nerFeatures(tokenizer, train, LABEL_IDS, config.max_seq_length, (s) =>
    toIob2(s.tags),
  );
  const metadata: NerMetadata = {
    task: 'conll2003',
    data_dir: dataDir,
    max_seq_length: config.max_seq_length,
    lowercase: init.lowercase,
  };
  return runFinetuning<TokenLabelBatch, NerFeature, Record<string, number>>({
    ...o,
    init,
    shuffleStream: SHUFFLE_STREAM.spans,
    features,
    collate: (fs) => collateNer(fs, tokenizer.padId),
    Step: TokenClassificationStep,
    evaluate: async () =>
      devEvaluation(
        (
          await evaluateNer(
            init.model,
            tokenizer,
            dev,
            config.max_seq_length,
            config.train.eval_batch_size,
          )
        ).metrics,
      ),
    checkpointConfig: toHfConfigJson(init.config, 'BertForPreTraining', {
      architectures: ['BertForTokenClassification'],
      finetuning_task: 'ner',
      num_labels: CONLL2003_LABELS.length,
      id2label: Object.fromEntries(CONLL2003_LABELS.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(CONLL2003_LABELS.map((l, i) => [l, i])),
      bert: { ...metadata },
    }),
    dataLabel: `conll2003: ${train.length} train sentences (${features.length} chunks), ${dev.length} dev (${files.dev})`,
  });
}
