/**
 * End to end on made-up sentences: `finetune conll2003` writes a best
 * checkpoint whose `bert eval` reproduces the logged entity F1, `bert
 * predict` tags a sentence, and the export is an HF token classifier.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finetuneConll } from '../../../src/tasks/conll2003/finetune.js';
import { evaluateCheckpoint, loadTaskModel } from '../../../src/tasks/registry.js';
import { tagEntities } from '../../../src/tasks/conll2003/predict.js';
import { disposeParams } from '../../../src/model/params.js';
import { selectBackend, type BackendChoice } from '../../../src/backend/select.js';
import type { BertEvent } from '../../../src/ui/events.js';
import { exported, runToEnd, tinyConfig } from '../helpers.js';

const root = mkdtempSync(join(tmpdir(), 'bert-ner-'));
let backend: BackendChoice;

before(async () => {
  backend = await selectBackend((process.env.BERT_TEST_BACKEND as 'wasm') ?? 'wasm');
});

test('finetune conll2003 on made-up sentences; eval reproduces entity F1', async () => {
  const dataDir = join(root, 'conll');
  mkdirSync(dataDir, { recursive: true });
  const sentence = (i: number): string =>
    [
      `Zorblax${i % 3} NNP I-NP B-ORG`,
      'hired VBD I-VP O',
      `Quentavious NNP I-NP B-PER`,
      `Flumm${i % 2} NNP I-NP I-PER`,
      'in IN I-PP O',
      'Northvale NNP I-NP B-LOC',
      '. . O O',
      '',
    ].join('\n');
  const file = (n: number): string =>
    ['-DOCSTART- -X- -X- O', '', ...Array.from({ length: n }, (_, i) => sentence(i))].join('\n');
  writeFileSync(join(dataDir, 'train.txt'), file(24));
  writeFileSync(join(dataDir, 'valid.txt'), file(6));
  writeFileSync(join(dataDir, 'test.txt'), file(5));
  const events: BertEvent[] = [];
  const result = await finetuneConll({
    config: tinyConfig(dataDir, ['train.max_steps=12', 'train.lr=3e-3']),
    ...runToEnd(join(root, 'run-ner'), backend, events),
  });
  assert.equal(result.status, 'completed');
  const logged = events.filter((e) => e.type === 'eval').at(-1);
  assert.ok(logged && logged.type === 'eval' && result.bestCheckpoint);
  const [dev] = await evaluateCheckpoint({
    checkpoint: result.bestCheckpoint,
    split: 'dev',
    outDir: join(root, 'pred-ner'),
  });
  assert.equal(dev.examples, 6);
  assert.equal(dev.metrics.f1, result.best?.metrics.f1);
  const [test] = await evaluateCheckpoint({
    checkpoint: result.bestCheckpoint,
    split: 'test',
    outDir: join(root, 'pred-ner'),
  });
  assert.equal(test.examples, 5);
  const lines = readFileSync(test.predictions, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  assert.equal(lines.length, 5 * 7);
  assert.match(lines[0], /^Zorblax0 B-ORG (O|[BI]-[A-Z]+)$/);
  // predict: words split like BERT's pre-tokenizer, entities with their character ranges.
  const text = 'Zorblax1 hired Quentavious Flumm1, in Northvale.';
  const loaded = await loadTaskModel(result.bestCheckpoint);
  const tagged = await tagEntities(loaded.model, loaded.tokenizer, 48, text);
  disposeParams(loaded.model.params);
  assert.deepEqual(tagged.words, [
    'Zorblax1',
    'hired',
    'Quentavious',
    'Flumm1',
    ',',
    'in',
    'Northvale',
    '.',
  ]);
  assert.equal(tagged.tags.length, tagged.words.length);
  for (const e of tagged.entities) assert.equal(text.slice(e.start, e.end), e.text);
  const hf = await exported(result.bestCheckpoint, join(root, 'hf-ner'));
  assert.deepEqual(hf.config.architectures, ['BertForTokenClassification']);
  assert.equal(hf.config.num_labels, 9);
  assert.equal((hf.config.id2label as Record<string, string>)['1'], 'B-PER');
  assert.deepEqual(hf.shapes.get('classifier.weight'), [9, 32]);
  assert.ok(![...hf.shapes.keys()].some((k) => k.startsWith('bert.pooler')));
});
