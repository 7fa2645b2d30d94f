import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { UserError } from '../../src/errors.js';
import type { PretrainConfig } from '../../src/config/types.js';

const dir = mkdtempSync(join(tmpdir(), 'bert-config-'));
function yamlFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'error is one line');
    return err.message;
  }
  assert.fail('expected an error');
}

test('schema defaults fill in every section when the file is empty', () => {
  const { config } = loadConfig<PretrainConfig>('pretrain', yamlFile('empty.yaml', ''));
  assert.equal(config.model.size, 'tiny');
  assert.equal(config.data.masked_lm_prob, 0.15);
  assert.equal(config.data.max_seq_length, 128);
  assert.equal(config.train.lr_schedule, 'linear');
  assert.equal(config.train.max_grad_norm, 1.0);
  assert.equal(config.train.weight_decay, 0.01);
});

test('an unknown key is an error naming file, line and the close match', () => {
  const f = yamlFile('typo.yaml', 'name: x\ntrain:\n  lr: 0.001\n  warmup_stpes: 10\n');
  const msg = errorOf(() => loadConfig('pretrain', f));
  assert.match(
    msg,
    new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: train\\.warmup_stpes: unknown key`),
  );
  assert.match(msg, /did you mean 'warmup_steps'/);
});

test('a wrong type names the key and the expected type', () => {
  const f = yamlFile('type.yaml', 'train:\n  batch_size: "many"\n');
  assert.match(
    errorOf(() => loadConfig('pretrain', f)),
    /type\.yaml:2: train\.batch_size: must be integer$/,
  );
});

test('a bad enum lists the allowed values', () => {
  const f = yamlFile(
    'enum.yaml',
    'model:\n  size: tiny\ntrain:\n  lr: 1e-4\n\n  lr_schedule: cosin\n',
  );
  assert.match(
    errorOf(() => loadConfig('pretrain', f)),
    /enum\.yaml:6: train\.lr_schedule: must be one of linear, cosine, constant$/,
  );
});

test('a YAML syntax error reports file:line', () => {
  const f = yamlFile('syntax.yaml', 'train:\n  lr: 1e-4\n  batch_size: [16\n');
  assert.match(
    errorOf(() => loadConfig('pretrain', f)),
    /syntax\.yaml:3: YAML syntax error/,
  );
});

test('a missing file and a directory are one-line errors', () => {
  assert.match(
    errorOf(() => loadConfig('pretrain', join(dir, 'nope.yaml'))),
    /nope\.yaml: cannot read config \(ENOENT\)/,
  );
  const d = join(dir, 'adir');
  mkdirSync(d);
  assert.match(
    errorOf(() => loadConfig('pretrain', d)),
    /adir: is a directory/,
  );
});

test('--set overrides are typed by the schema and win over the file', () => {
  const f = yamlFile('set.yaml', 'train:\n  lr: 0.001\n  max_steps: 10\n');
  const { config } = loadConfig<PretrainConfig>('pretrain', f, {
    sets: [
      'train.lr=5e-5',
      'train.max_steps=20',
      'data.whole_word_masking=true',
      'name=run7',
      'data.corpus=a.txt,b.txt',
    ],
  });
  assert.equal(config.train.lr, 5e-5);
  assert.equal(config.train.max_steps, 20);
  assert.equal(config.data.whole_word_masking, true);
  assert.equal(config.name, 'run7');
  assert.deepEqual(config.data.corpus, ['a.txt', 'b.txt']);
});

test('--set key=null gives null where the schema allows it', () => {
  const { config } = loadConfig<PretrainConfig>('pretrain', null, {
    sets: ['data.shards=null', 'train.max_steps=null'],
  });
  assert.equal(config.data.shards, null);
  assert.equal(config.train.max_steps, null);
});

test('--set names a string as a string even when it looks like a number', () => {
  const { config } = loadConfig<PretrainConfig>('pretrain', null, { sets: ['name=123'] });
  assert.equal(config.name, '123');
});

test('--set errors name the flag', () => {
  assert.match(
    errorOf(() => loadConfig('pretrain', null, { sets: ['train.lr=fast'] })),
    /^--set train\.lr: must be number$/,
  );
  assert.match(
    errorOf(() => loadConfig('pretrain', null, { sets: ['train.lrate=1'] })),
    /^--set train\.lrate: unknown key/,
  );
  assert.match(
    errorOf(() => loadConfig('pretrain', null, { sets: ['train.lr'] })),
    /expected key\.path=value/,
  );
});

test('dedicated flags override both the file and --set', () => {
  const f = yamlFile('seed.yaml', 'train:\n  seed: 1\n');
  const { config } = loadConfig<PretrainConfig>('pretrain', f, {
    sets: ['train.seed=2'],
    overrides: [{ path: ['train', 'seed'], value: 3 }],
  });
  assert.equal(config.train.seed, 3);
});

test('every shipped config validates', async () => {
  const { readdirSync } = await import('node:fs');
  const { packageRoot } = await import('../../src/paths.js');
  const roots: Array<[string, 'pretrain' | 'finetune' | 'tokenizer']> = [
    ['configs/pretrain', 'pretrain'],
    ['configs/finetune', 'finetune'],
  ];
  let n = 0;
  for (const [sub, schema] of roots) {
    for (const f of readdirSync(join(packageRoot, sub)).filter((x) => x.endsWith('.yaml'))) {
      loadConfig(schema, join(packageRoot, sub, f));
      n++;
    }
  }
  loadConfig('tokenizer', join(packageRoot, 'configs/tokenizer.yaml'));
  assert.ok(n >= 6, `expected the named sizes in configs/pretrain, found ${n} configs`);
});
