/**
 * `bert embed`: --pooling cls equals the PyTorch reference's last-hidden-state
 * [CLS] and --pooling pooler its pooled output for the same token ids
 * (≤ 1e-4); mean pooling averages the real tokens; rows come back in input
 * order whatever the batching; .npy and .jsonl hold the same numbers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/tf.js';
import { randomModel, smallConfig } from '../model/helpers.js';
import { disposeParams } from '../../src/model/params.js';
import { BertTokenizer } from '../../src/tokenizer/bert-tokenizer.js';
import { Vocab } from '../../src/tokenizer/vocab.js';
import { UserError } from '../../src/errors.js';
import type { BertEvent, ProgressEvent } from '../../src/ui/events.js';
import { runEmbed, inputLines, type Pooling } from '../../src/export/embed.js';
import { npyHeader, parseNpy } from '../../src/export/npy.js';
import { TINY_VOCAB, maxAbsDiff, runPeer, torchMissing, writeCheckpoint } from './helpers.js';

const skipReason = torchMissing();
let scratch = '';
let ckpt = '';
const config = smallConfig({ vocab_size: TINY_VOCAB.length, max_position_embeddings: 16 });
const H = config.hidden_size;
const LINES = [
  'The cat sat on the mat.',
  '',
  'he is playing , she played !',
  'a big red dog ran fast and the small blue cat was slow ? unlike the house , the tree is big .',
  'Dog',
  'the house the tree the mat the dog the cat the house the tree the mat',
  'red blue red blue',
];

before(async () => {
  await useTestBackend();
  scratch = await mkdtemp(join(tmpdir(), 'bert-embed-'));
  const model = randomModel(config, { seed: 41 });
  ckpt = await writeCheckpoint(join(scratch, 'ckpt'), model, config);
  disposeParams(model.params);
  await writeFile(join(scratch, 'input.txt'), LINES.join('\n') + '\n');
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function reporter(): { emit(e: BertEvent): void; close(): Promise<void>; events: BertEvent[] } {
  const events: BertEvent[] = [];
  return { events, emit: (e) => void events.push(e), close: async () => undefined };
}

async function embed(pooling: Pooling, out: string, batchSize: number): Promise<Float32Array[]> {
  const r = await runEmbed({
    checkpoint: ckpt,
    input: join(scratch, 'input.txt'),
    pooling,
    out: join(scratch, out),
    batchSize,
    reporter: reporter(),
  });
  assert.equal(r.sentences, LINES.length);
  assert.equal(r.dims, H);
  assert.equal(r.truncated, 2, 'the two long lines are cut to max_position_embeddings');
  if (out.endsWith('.npy')) {
    const { shape, data } = parseNpy(readFileSync(join(scratch, out)));
    assert.deepEqual(shape, [LINES.length, H]);
    return LINES.map((_, i) => data.slice(i * H, (i + 1) * H));
  }
  const rows = readFileSync(join(scratch, out), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { index: number; embedding: number[] });
  rows.forEach((r, i) => assert.equal(r.index, i));
  return rows.map((r) => Float32Array.from(r.embedding));
}

/** The token ids `bert embed` feeds the model, for the reference. */
function peerInputs(): { input_ids: number[]; token_type_ids: number[] }[] {
  const tok = new BertTokenizer(new Vocab(TINY_VOCAB), { lowercase: true });
  return LINES.map((l) => {
    const e = tok.encode(l, null, { maxLength: config.max_position_embeddings });
    return { input_ids: e.ids, token_type_ids: e.tokenTypeIds };
  });
}

test('--pooling cls and pooler equal the PyTorch reference (last_hidden_state_cls, pooled) to 1e-4; mean sums to its hidden-state sum', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const inputs = peerInputs();
  const peer = await runPeer(ckpt, inputs, scratch);
  const cls = await embed('cls', 'cls.jsonl', 3);
  const pooler = await embed('pooler', 'pooler.npy', 3);
  const mean = await embed('mean', 'mean.npy', 3);
  let worst = 0;
  peer.forEach((p, i) => {
    worst = Math.max(worst, maxAbsDiff(cls[i], p.last_hidden_state_cls));
    worst = Math.max(worst, maxAbsDiff(pooler[i], p.pooled!));
    // mean × tokens, summed over the hidden units, is the sum of every real token's state.
    const n = inputs[i].input_ids.length;
    const total = mean[i].reduce((a, b) => a + b, 0) * n;
    assert.ok(
      Math.abs(total - p.last_hidden_state_sum) <= 1e-4 * Math.sqrt(n * H),
      `line ${i}: mean-pooled sum ${total} vs reference ${p.last_hidden_state_sum}`,
    );
  });
  console.log(`bert embed vs PyTorch: max abs difference ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-4, `max abs difference ${worst}`);
});

test('rows come back in input order whatever the batch size, and .jsonl equals .npy', async () => {
  const one = await embed('mean', 'one.jsonl', 1);
  const many = await embed('mean', 'many.npy', 4);
  assert.equal(one.length, LINES.length);
  one.forEach((row, i) => assert.ok(maxAbsDiff(row, many[i]) <= 1e-5, `row ${i}`));
  // Different lines give different vectors (the order test means something).
  assert.ok(maxAbsDiff(one[0], one[4]) > 1e-3);
  const cls = await embed('cls', 'cls-b4.jsonl', 4);
  const pooler = await embed('pooler', 'pooler-b4.jsonl', 4);
  // tanh bounds the pooler; the [CLS] state is LayerNorm output (not bounded by 1).
  assert.ok(pooler.every((r) => r.every((v) => Math.abs(v) <= 1)));
  assert.ok(cls.some((r) => r.some((v) => Math.abs(v) > 1)));
});

test('embed reports progress up to every line, and refuses bad flags before writing anything', async () => {
  const rep = reporter();
  await runEmbed({
    checkpoint: ckpt,
    input: join(scratch, 'input.txt'),
    pooling: 'cls',
    out: join(scratch, 'progress.jsonl'),
    batchSize: 2,
    reporter: rep,
  });
  const progress = rep.events.filter((e): e is ProgressEvent => e.type === 'progress');
  assert.equal(progress.length, Math.ceil(LINES.length / 2));
  assert.equal(progress[progress.length - 1].done, LINES.length);
  assert.equal(progress[0].total, LINES.length);
  const bad = (o: Partial<Parameters<typeof runEmbed>[0]>, re: RegExp) =>
    assert.rejects(
      runEmbed({
        checkpoint: ckpt,
        input: join(scratch, 'input.txt'),
        pooling: 'cls',
        out: join(scratch, 'bad.jsonl'),
        batchSize: 2,
        reporter: reporter(),
        ...o,
      }),
      (e: unknown) => e instanceof UserError && re.test(e.message),
    );
  await bad({ out: join(scratch, 'bad.csv') }, /--out .*bad\.csv: expected a \.jsonl or \.npy/);
  await bad({ input: join(scratch, 'missing.txt') }, /--input .*missing\.txt: no such file/);
  await bad({ maxLength: 17 }, /--max-length: expected 2\.\.16/);
  await bad({ batchSize: 0 }, /--batch-size: expected a positive integer/);
  assert.ok(!existsSync(join(scratch, 'bad.jsonl')));
  assert.deepEqual(
    readdirSync(scratch).filter((n) => n.includes('.tmp-')),
    [],
  );
});

test('.npy header is what numpy writes: 64-byte aligned, little-endian float32, C order', () => {
  const h = npyHeader([1000, 768]);
  assert.equal(h.length % 64, 0);
  assert.deepEqual([...h.subarray(0, 8)], [0x93, 78, 85, 77, 80, 89, 1, 0]);
  const text = Buffer.from(h.subarray(10)).toString('latin1');
  assert.match(text, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(1000, 768\), \} *\n$/);
  assert.equal(new DataView(h.buffer).getUint16(8, true), h.length - 10);
});

test('input lines: CRLF is stripped, a final newline adds no line, empty lines stay', () => {
  assert.deepEqual(inputLines('a\r\n\r\nb\n'), ['a', '', 'b']);
  assert.deepEqual(inputLines('a\nb'), ['a', 'b']);
  assert.deepEqual(inputLines(''), []);
});
