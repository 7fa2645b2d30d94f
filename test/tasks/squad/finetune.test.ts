/**
 * End to end on made-up articles: `finetune squad` / `squad2` write a best
 * checkpoint whose `bert eval` reproduces the logged dev metrics, with the
 * official predictions JSON, and `bert predict` answers.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { finetuneSquad, SQUAD_DEFAULTS } from '../../../src/tasks/squad/finetune.js';
import { evaluateCheckpoint } from '../../../src/tasks/registry.js';
import { selectBackend, type BackendChoice } from '../../../src/backend/select.js';
import type { BertEvent } from '../../../src/ui/events.js';
import { packageRoot } from '../../../src/paths.js';
import { exported, runToEnd, tinyConfig } from '../helpers.js';

const root = mkdtempSync(join(tmpdir(), 'bert-span-'));
let backend: BackendChoice;

before(async () => {
  backend = await selectBackend((process.env.BERT_TEST_BACKEND as 'wasm') ?? 'wasm');
});

/** Made-up articles: 4 articles, every 2nd held out; v2 adds an unanswerable question per article. */
function squadFixture(dir: string, version: '1.1' | '2.0' = '1.1'): void {
  const names = ['Zorblax', 'Quentavious', 'Northvale', 'Flumm'];
  const data = names.map((n, a) => {
    const context = `${n} was founded in ${1900 + a * 7} by a miller. The town of ${n} lies on the river Ombe, and its bridge is made of red stone.`;
    const qa = (id: string, question: string, text: string): object => ({
      id: `${a}-${id}`,
      question,
      answers: [{ text, answer_start: context.indexOf(text) }],
    });
    return {
      title: n,
      paragraphs: [
        {
          context,
          qas: [
            qa('y', `When was ${n} founded?`, String(1900 + a * 7)),
            qa('r', `Which river is ${n} on?`, 'Ombe'),
            qa('b', 'What is the bridge made of?', 'red stone'),
            ...(version === '2.0'
              ? [{ id: `${a}-n`, question: 'Who is the mayor?', answers: [], is_impossible: true }]
              : []),
          ],
        },
      ],
    };
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `dev-v${version}.json`), JSON.stringify({ data, version }));
}

test('finetune squad on held-out articles; eval reproduces EM/F1 and writes {id: answer}', async () => {
  const dataDir = join(root, 'squad');
  squadFixture(dataDir);
  const events: BertEvent[] = [];
  const runDir = join(root, 'run-squad');
  const result = await finetuneSquad({
    // Batch 2: several steps per epoch, so epoch-end evaluation is visible.
    config: tinyConfig(dataDir, ['train.batch_size=2', 'train.max_steps=8']),
    squad: { ...SQUAD_DEFAULTS, docStride: 16, maxQueryLength: 12, heldOutEvery: 2 },
    ...runToEnd(runDir, backend, events),
  });
  assert.equal(result.status, 'completed');
  assert.ok(result.bestCheckpoint);
  // Once per epoch (eval_every unset) and at the end, never again on the step after an epoch ends.
  const evalSteps = events.flatMap((e) => (e.type === 'eval' ? [e.step] : []));
  const start = events.find((e) => e.type === 'run_start');
  const train = events.filter((e) => e.type === 'step');
  assert.ok(evalSteps.length > 0 && start && train.length > 0);
  const stepsPerEpoch = Math.round(1 / (train[0].type === 'step' ? train[0].epoch : 1));
  assert.deepEqual(
    evalSteps,
    [...new Set(evalSteps)].filter((s) => s % stepsPerEpoch === 0 || s === result.step),
    `evaluated at steps ${evalSteps} with ${stepsPerEpoch} steps per epoch`,
  );
  const [r] = await evaluateCheckpoint({
    checkpoint: result.bestCheckpoint,
    split: 'dev',
    outDir: join(root, 'pred'),
  });
  assert.equal(r.examples, 6, 'articles 1 and 3 held out, 3 questions each');
  // The best checkpoint's logged metrics, reproduced from the saved weights.
  assert.deepEqual(r.metrics, result.best?.metrics);
  const predictions = JSON.parse(readFileSync(r.predictions, 'utf8')) as Record<string, string>;
  assert.deepEqual(Object.keys(predictions).sort(), ['1-b', '1-r', '1-y', '3-b', '3-r', '3-y']);
  // HF's BertForQuestionAnswering: no pooler, qa_outputs [2, hidden] in the [out, in] layout.
  const hf = await exported(result.bestCheckpoint, join(root, 'hf-squad'));
  assert.deepEqual(hf.config.architectures, ['BertForQuestionAnswering']);
  assert.deepEqual(hf.shapes.get('qa_outputs.weight'), [2, 32]);
  assert.deepEqual(hf.shapes.get('qa_outputs.bias'), [2]);
  assert.ok(
    ![...hf.shapes.keys()].some((k) => k.startsWith('bert.pooler') || k.startsWith('cls.')),
  );
  const out = spawnSync(
    process.execPath,
    [
      join(packageRoot, 'bin/bert.js'),
      'predict',
      '--checkpoint',
      result.bestCheckpoint,
      '--question',
      'Which river?',
      '--context',
      'The town lies on the river Ombe.',
      '--json',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(out.status, 0, out.stderr);
  const answer = (JSON.parse(out.stdout) as { answer: string }).answer;
  assert.ok('The town lies on the river Ombe.'.includes(answer) && answer.length > 0);
});

test('finetune squad2: unanswerable questions, no-answer threshold, v2 metrics reproduced by eval', async () => {
  const dataDir = join(root, 'squad2');
  squadFixture(dataDir, '2.0');
  const result = await finetuneSquad({
    config: tinyConfig(dataDir),
    squad: {
      ...SQUAD_DEFAULTS,
      version: '2.0',
      docStride: 16,
      maxQueryLength: 12,
      heldOutEvery: 2,
    },
    ...runToEnd(join(root, 'run-squad2'), backend),
  });
  assert.ok(result.bestCheckpoint && result.best);
  assert.deepEqual(Object.keys(result.best.metrics).sort(), [
    'HasAns_exact',
    'HasAns_f1',
    'NoAns_exact',
    'NoAns_f1',
    'exact_match',
    'f1',
  ]);
  const [r] = await evaluateCheckpoint({
    checkpoint: result.bestCheckpoint,
    split: 'dev',
    outDir: join(root, 'pred2'),
  });
  assert.equal(r.examples, 8);
  assert.deepEqual(r.metrics, result.best.metrics);
  assert.match(r.predictions, /squad2-dev-predictions\.json$/);
});
