import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configKeyLocation, loadConfig } from '../../src/config/load.js';
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

test('schema defaults fill in every section the file leaves out', () => {
  const { config } = loadConfig<PretrainConfig>(
    'pretrain',
    yamlFile('name-only.yaml', 'name: x\n'),
  );
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

test('an empty config file (or one with only comments) is refused, naming the file', () => {
  for (const [name, text] of [
    ['empty.yaml', ''],
    ['comments.yaml', '# all defaults?\n\n# nothing here\n'],
  ]) {
    const f = yamlFile(name, text);
    assert.equal(
      errorOf(() => loadConfig('pretrain', f)),
      `${f}: the config file is empty (expected a mapping of config keys)`,
    );
  }
});

test('non-finite numbers (1e999, .inf, .nan) are refused with file:line or --set', () => {
  const inf = yamlFile('inf.yaml', 'name: x\ntrain:\n  lr: 1e999\n');
  assert.equal(
    errorOf(() => loadConfig('pretrain', inf)),
    `${inf}:3: train.lr: must be a finite number, got Infinity`,
  );
  const nan = yamlFile('nan.yaml', 'name: x\ntrain:\n  warmup_ratio: .nan\n');
  assert.equal(
    errorOf(() => loadConfig('pretrain', nan)),
    `${nan}:3: train.warmup_ratio: must be a finite number, got NaN`,
  );
  const ok = yamlFile('ok.yaml', 'name: x\n');
  assert.equal(
    errorOf(() => loadConfig('pretrain', ok, { sets: ['train.lr=1e999'] })),
    '--set train.lr: must be a finite number, got Infinity',
  );
  assert.equal(
    errorOf(() => loadConfig('finetune', null, { sets: ['train.max_grad_norm=.inf'] })),
    '--set train.max_grad_norm: must be a finite number, got Infinity',
  );
});

test('hidden_size that the heads do not divide: file:line of the key that was set', () => {
  const hidden = yamlFile('hidden.yaml', 'name: x\nmodel:\n  size: tiny\n  hidden_size: 129\n');
  assert.equal(
    errorOf(() => loadConfig('pretrain', hidden)),
    `${hidden}:4: model.hidden_size: 129 must be a multiple of model.num_attention_heads (2, from size tiny)`,
  );
  const heads = yamlFile('heads.yaml', 'name: x\nmodel:\n  num_attention_heads: 3\n');
  assert.equal(
    errorOf(() => loadConfig('pretrain', heads)),
    `${heads}:3: model.num_attention_heads: 3 must divide model.hidden_size (128, from size tiny)`,
  );
  assert.equal(
    errorOf(() => loadConfig('pretrain', null, { sets: ['model.hidden_size=129'] })),
    '--set model.hidden_size: 129 must be a multiple of model.num_attention_heads (2, from size tiny)',
  );
  // Both given and compatible: no error.
  const fine = yamlFile(
    'fine.yaml',
    'name: x\nmodel:\n  hidden_size: 96\n  num_attention_heads: 3\n',
  );
  assert.equal(loadConfig<PretrainConfig>('pretrain', fine).config.model.hidden_size, 96);
  // Fine-tuning from a checkpoint ignores `model`: only `from: none` builds from it.
  const ft = yamlFile('ft.yaml', 'from: none\nmodel:\n  hidden_size: 129\n');
  assert.match(
    errorOf(() => loadConfig('finetune', ft)),
    new RegExp(`^${ft}:3: model.hidden_size: 129`),
  );
  const ftFrom = yamlFile('ft-from.yaml', 'from: runs/x\nmodel:\n  hidden_size: 129\n');
  assert.equal(loadConfig<{ from: string }>('finetune', ftFrom).config.from, 'runs/x');
});

test('max_seq_length beyond max_position_embeddings: file:line', () => {
  const seq = yamlFile('seq.yaml', 'name: x\ndata:\n  max_seq_length: 600\n');
  assert.equal(
    errorOf(() => loadConfig('pretrain', seq)),
    `${seq}:3: data.max_seq_length: 600 exceeds model.max_position_embeddings (512)`,
  );
  const pos = yamlFile('pos.yaml', 'name: x\nmodel:\n  max_position_embeddings: 64\n');
  assert.equal(
    errorOf(() => loadConfig('pretrain', pos)),
    `${pos}:3: model.max_position_embeddings: 64 is less than data.max_seq_length (128)`,
  );
  const ft = yamlFile('ft-seq.yaml', 'from: none\nmax_seq_length: 1024\n');
  assert.equal(
    errorOf(() => loadConfig('finetune', ft)),
    `${ft}:2: max_seq_length: 1024 exceeds model.max_position_embeddings (512)`,
  );
});

test('configKeyLocation names file:line, --set, or the bare key for later checks', () => {
  const f = yamlFile('where.yaml', 'name: x\nmax_seq_length: 256\n');
  const fromFile = loadConfig<object>('finetune', f).config;
  assert.equal(configKeyLocation(fromFile, ['max_seq_length']), `${f}:2: max_seq_length`);
  const fromSet = loadConfig<object>('finetune', f, { sets: ['max_seq_length=300'] }).config;
  assert.equal(configKeyLocation(fromSet, ['max_seq_length']), '--set max_seq_length');
  assert.equal(configKeyLocation({ max_seq_length: 1 }, ['max_seq_length']), 'max_seq_length');
});
