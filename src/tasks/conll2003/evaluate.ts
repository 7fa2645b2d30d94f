/**
 * `bert eval` of a CoNLL-2003 checkpoint: entity P/R/F1 and a
 * `token gold pred` file (conlleval's input) for dev (testa) or test (testb).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { disposeParams } from '../../model/params.js';
import { loadTaskCheckpoint } from '../checkpoint.js';
import type { EvaluateRequest, TaskEvaluation } from '../task.js';
import { CONLL2003_LABELS, conllFiles, readConll } from './conll.js';
import { evaluateNer, type NerMetadata } from './finetune.js';

export async function evaluateConllCheckpoint(o: EvaluateRequest): Promise<TaskEvaluation[]> {
  const loaded = await loadTaskCheckpoint(o.checkpoint, {
    heads: 'token_classification',
    numLabels: CONLL2003_LABELS.length,
  });
  const { model, tokenizer } = loaded;
  const meta = loaded.meta as unknown as NerMetadata;
  const dataDir = o.dataDir ?? meta.data_dir;
  const batchSize = o.batchSize ?? 64;
  try {
    const files = conllFiles(dataDir, existsSync);
    const file = o.split === 'dev' ? files.dev : files.test;
    const sentences = readConll(file);
    const r = await evaluateNer(model, tokenizer, sentences, meta.max_seq_length, batchSize);
    mkdirSync(o.outDir, { recursive: true });
    const path = join(o.outDir, `conll2003-${o.split}-predictions.txt`);
    // conlleval's input: token, gold, predicted; a blank line between sentences.
    const lines: string[] = [];
    sentences.forEach((s, i) => {
      s.tokens.forEach((t, k) => lines.push(`${t} ${s.tags[k]} ${r.predicted[i][k]}`));
      lines.push('');
    });
    writeFileSync(path, lines.join('\n'));
    return [
      {
        task: 'conll2003',
        split: o.split,
        examples: sentences.length,
        metrics: r.metrics,
        predictions: path,
      },
    ];
  } finally {
    disposeParams(model.params);
  }
}
