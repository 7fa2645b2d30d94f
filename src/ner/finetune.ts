/**
 * `bert finetune conll2003`: BertForTokenClassification on CoNLL-2003
 * (train → dev = testa; testb scored by `bert eval --split test`). Tags are
 * learnt as IOB2 (IOB1 files are converted); predictions are scored against
 * the file's own tags with conlleval's entity rules, which read both.
 */
import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import { configKeyLocation } from '../config/load.js';
import type { FinetuneConfig } from '../config/types.js';
import type { BertModel } from '../model/bert.js';
import { toHfConfigJson } from '../model/config.js';
import {
  TokenClassificationStep,
  predictTokenLogits,
  type TokenLabelBatch,
} from '../model/step.js';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.js';
import { loadVocab } from '../tokenizer/vocab.js';
import { seqevalScores } from '../metrics/seqeval.js';
import type { BackendChoice } from '../backend/select.js';
import type { Reporter } from '../ui/events.js';
import { initialTaskModel, runTaskLoop, type TaskLoopResult } from '../squad/loop.js';
import { CONLL2003_LABELS, conllFiles, readConll, toIob2, type ConllSentence } from './conll.js';
import { collateNer, nerFeatures, type NerFeature } from './features.js';

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
export function predictTags(
  model: BertModel,
  tokenizer: BertTokenizer,
  sentences: readonly ConllSentence[],
  maxSeqLength: number,
  batchSize: number,
  labels: readonly string[] = CONLL2003_LABELS,
): string[][] {
  const features = nerFeatures(tokenizer, sentences, LABEL_IDS, maxSeqLength);
  const out = sentences.map((s) => new Array<string>(s.tokens.length).fill('O'));
  const order = features
    .map((_, i) => i)
    .sort((a, b) => features[a].ids.length - features[b].ids.length);
  const C = labels.length;
  for (let s = 0; s < order.length; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const fs: NerFeature[] = idx.map((i) => features[i]);
    const batch = collateNer(fs, tokenizer.padId);
    const logits = predictTokenLogits(model, batch);
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

export function evaluateNer(
  model: BertModel,
  tokenizer: BertTokenizer,
  sentences: readonly ConllSentence[],
  maxSeqLength: number,
  batchSize: number,
): { metrics: Record<string, number>; predicted: string[][] } {
  const predicted = predictTags(model, tokenizer, sentences, maxSeqLength, batchSize);
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

export interface NerFinetuneOptions {
  config: FinetuneConfig;
  runDir: string;
  stopAtStep: number | null;
  maxMinutes: number | null;
  reporter: Reporter;
  stopRequested: () => boolean;
  backend: BackendChoice;
}

export async function finetuneConll(o: NerFinetuneOptions): Promise<TaskLoopResult> {
  const { config } = o;
  const files = conllFiles(config.data_dir, existsSync);
  const allTrain = readConll(files.train);
  const train = config.max_train_examples ? allTrain.slice(0, config.max_train_examples) : allTrain;
  const allDev = readConll(files.dev);
  const dev = config.max_eval_examples ? allDev.slice(0, config.max_eval_examples) : allDev;
  const init = await initialTaskModel(
    config,
    'token_classification',
    CONLL2003_LABELS.length,
    config.train.seed,
  );
  const tokenizer = new BertTokenizer(loadVocab(init.vocabPath), { lowercase: init.lowercase });
  if (config.max_seq_length > init.config.max_position_embeddings)
    throw new UserError(
      `${configKeyLocation(config, ['max_seq_length'])}: ${config.max_seq_length} exceeds the model's max_position_embeddings (${init.config.max_position_embeddings})`,
    );
  const features = nerFeatures(tokenizer, train, LABEL_IDS, config.max_seq_length, (s) =>
    toIob2(s.tags),
  );
  const metadata: NerMetadata = {
    task: 'conll2003',
    data_dir: config.data_dir,
    max_seq_length: config.max_seq_length,
    lowercase: init.lowercase,
  };
  return runTaskLoop<TokenLabelBatch>({
    ...o,
    init,
    trainCount: features.length,
    collate: (idx) => {
      const fs = idx.map((i) => features[i]);
      return {
        batch: collateNer(fs, tokenizer.padId),
        tokens: fs.reduce((n, f) => n + f.ids.length, 0),
      };
    },
    makeStepper: (model, optimizer, seed) =>
      new TokenClassificationStep(model, optimizer, {
        maxGradNorm: config.train.max_grad_norm ?? 0,
        seed,
      }),
    evaluate: () =>
      evaluateNer(init.model, tokenizer, dev, config.max_seq_length, config.train.eval_batch_size)
        .metrics,
    evalSplit: 'dev',
    mainMetric: 'f1',
    checkpointConfig: () =>
      toHfConfigJson(init.config, 'BertForPreTraining', {
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
