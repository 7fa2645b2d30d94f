/**
 * `bert eval --checkpoint` for SQuAD and CoNLL-2003 checkpoints: the task
 * and how its inputs were made come from config.json's `bert` section.
 * SQuAD: EM/F1 on the evaluation questions and the official predictions
 * JSON ({id: answer}); CoNLL-2003: entity P/R/F1 and a `token gold pred`
 * file (conlleval's input) for dev (testa) or test (testb).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { loadCheckpoint, type CheckpointDir } from '../../train/checkpoint.js';
import { fromHfConfigJson, type BertConfig } from '../../model/config.js';
import type { BertModel } from '../../model/bert.js';
import { modelFromTensors } from '../../model/load.js';
import { disposeParams } from '../../model/params.js';
import { BertTokenizer } from '../../tokenizer/bert-tokenizer.js';
import { loadVocab } from '../../tokenizer/vocab.js';
import { CONLL2003_LABELS, conllFiles, readConll } from '../conll2003/conll.js';
import { evaluateNer, type NerMetadata } from '../conll2003/finetune.js';
import { SQUAD_DEFAULTS, evaluateSquad, squadSplits, type SquadMetadata } from './finetune.js';

export interface TaskEvaluation {
  task: string;
  split: string;
  examples: number;
  metrics: Record<string, number>;
  predictions: string;
}

/** The checkpoint's task if it is a span/token one, else null (GLUE and others go their own way). */
export async function checkpointTask(dir: CheckpointDir): Promise<'squad' | 'conll2003' | null> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return null;
  const { readFile } = await import('node:fs/promises');
  const task = (JSON.parse(await readFile(path, 'utf8')) as { bert?: { task?: unknown } }).bert
    ?.task;
  return task === 'squad' || task === 'conll2003' ? task : null;
}

/** A fine-tuned span/token model with its tokenizer, from a checkpoint written by `bert finetune`. */
export async function loadTaskModel(dir: CheckpointDir): Promise<{
  task: 'squad' | 'conll2003';
  model: BertModel;
  config: BertConfig;
  tokenizer: BertTokenizer;
  meta: SquadMetadata | NerMetadata;
}> {
  const ckpt = await loadCheckpoint(dir);
  const meta = ckpt.config.bert as SquadMetadata | NerMetadata | undefined;
  if (!meta || (meta.task !== 'squad' && meta.task !== 'conll2003'))
    throw new UserError(
      `${join(dir, 'config.json')}: not a squad or conll2003 checkpoint (bert.task)`,
    );
  const cfg = fromHfConfigJson(ckpt.config, join(dir, 'config.json'));
  const heads = meta.task === 'squad' ? 'question_answering' : 'token_classification';
  const numLabels = meta.task === 'squad' ? 2 : CONLL2003_LABELS.length;
  const { model } = modelFromTensors(
    ckpt.model,
    cfg,
    { heads, numLabels },
    { source: join(dir, 'model.safetensors') },
  );
  return {
    task: meta.task,
    model,
    config: cfg,
    tokenizer: new BertTokenizer(loadVocab(ckpt.vocabPath), { lowercase: meta.lowercase }),
    meta,
  };
}

export async function evaluateTaskCheckpoint(o: {
  checkpoint: CheckpointDir;
  split: 'dev' | 'test';
  dataDir?: string;
  outDir: string;
  batchSize?: number;
}): Promise<TaskEvaluation> {
  const { task, model, tokenizer, meta } = await loadTaskModel(o.checkpoint);
  const dataDir = o.dataDir ?? meta.data_dir;
  const batchSize = o.batchSize ?? 64;
  try {
    if (task === 'squad') {
      const m = meta as SquadMetadata;
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
      const r = evaluateSquad(
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
      return {
        task,
        split: 'dev',
        examples: examples.length,
        metrics: r.metrics,
        predictions: path,
      };
    }
    const files = conllFiles(dataDir, existsSync);
    const file = o.split === 'dev' ? files.dev : files.test;
    const sentences = readConll(file);
    const r = evaluateNer(model, tokenizer, sentences, meta.max_seq_length, batchSize);
    mkdirSync(o.outDir, { recursive: true });
    const path = join(o.outDir, `conll2003-${o.split}-predictions.txt`);
    // conlleval's input: token, gold, predicted; a blank line between sentences.
    const lines: string[] = [];
    sentences.forEach((s, i) => {
      s.tokens.forEach((t, k) => lines.push(`${t} ${s.tags[k]} ${r.predicted[i][k]}`));
      lines.push('');
    });
    writeFileSync(path, lines.join('\n'));
    return {
      task,
      split: o.split,
      examples: sentences.length,
      metrics: r.metrics,
      predictions: path,
    };
  } finally {
    disposeParams(model.params);
  }
}
