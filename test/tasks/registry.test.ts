/** The task registry: one entry per task, names and aliases, the task that wrote a checkpoint. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TASKS, findTask, lookupTask, taskOfCheckpoint } from '../../src/tasks/registry.js';
import { UserError } from '../../src/errors.js';

test('every task has one name; GLUE tasks answer to their usual spellings', () => {
  const names = TASKS.map((t) => t.name);
  assert.equal(new Set(names).size, names.length);
  for (const n of ['glue/sst2', 'glue/mnli', 'squad', 'squad2', 'conll2003'])
    assert.ok(names.includes(n), n);
  assert.equal(lookupTask('SST-2')?.name, 'glue/sst2');
  assert.equal(lookupTask('sst2')?.name, 'glue/sst2');
  assert.equal(lookupTask('squad_v2')?.name, 'squad2');
  assert.equal(lookupTask('ner/conll2003')?.name, 'conll2003');
  assert.equal(lookupTask('glue/ax'), null, 'the diagnostic set has no training data');
  assert.throws(
    () => findTask('glue/sst3', 'finetune'),
    (e: unknown) =>
      e instanceof UserError && /^finetune: unknown task 'glue\/sst3'/.test(e.message),
  );
});

test('a checkpoint is read back by the task that wrote it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bert-registry-'));
  const wrote = (bert: object | undefined): string => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(bert ? { bert } : {}));
    return taskOfCheckpoint(dir).name;
  };
  assert.equal(wrote({ task: 'rte' }), 'glue/rte');
  assert.equal(wrote({ task: 'squad', version: '1.1' }), 'squad');
  assert.equal(wrote({ task: 'squad', version: '2.0' }), 'squad2');
  assert.equal(wrote({ task: 'conll2003' }), 'conll2003');
  assert.throws(() => wrote(undefined), /no fine-tuning task recorded \(bert\.task\)/);
});
