/**
 * `npm run bench -- embed [--size tiny|mini|...] [--lines N] [--backend wasm] [--json]`
 *
 * Sentence-embedding throughput (sentences/s, real tokens/s) of the forward
 * pass `bert embed` runs, on the first N lines of the sample corpus, for
 * several batch sizes with length-sorted batching (what `bert embed` does),
 * input-order batching at the default batch size (what sorting buys: less
 * padding), and `runEmbed` end to end (tokenize + forward + write .npy).
 * Random weights: the speed does not depend on their values.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { selectBackend, type BackendRequest } from '../src/backend/select.js';
import { bertConfig, isSizeName, toHfConfigJson } from '../src/model/config.js';
import { createBertModel } from '../src/model/bert.js';
import { toHfTensors } from '../src/model/hf.js';
import { disposeParams } from '../src/model/params.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { BertTokenizer, type Encoding } from '../src/tokenizer/bert-tokenizer.js';
import { loadVocab } from '../src/tokenizer/vocab.js';
import { packageRoot } from '../src/paths.js';
import { paddedBatch, poolBatch, runEmbed } from '../src/export/embed.js';

interface Row {
  size: string;
  variant: string;
  backend: string;
  batch: number;
  sentences: number;
  tokens: number;
  padding: number;
  seconds: number;
  sentences_per_s: number;
  tokens_per_s: number;
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export async function run(argv: string[]): Promise<void> {
  const size = flag(argv, 'size') ?? 'tiny';
  if (!isSizeName(size)) throw new Error(`--size ${size}: unknown size`);
  const lines = Number(flag(argv, 'lines') ?? 1000);
  const json = argv.includes('--json');
  const backend = await selectBackend((flag(argv, 'backend') ?? 'wasm') as BackendRequest);
  const vocabPath = join(packageRoot, 'data/vocab/bert-base-uncased/vocab.txt');
  const vocab = loadVocab(vocabPath);
  const text = readFileSync(join(packageRoot, 'data/corpus/sample.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .slice(0, lines);
  const config = bertConfig(size, { vocab_size: vocab.size, max_position_embeddings: 512 });
  const model = createBertModel(config, { heads: 'pretraining', seed: 1 });
  const tokenizer = new BertTokenizer(vocab, { lowercase: true });
  const encodings = text.map((l) => tokenizer.encode(l, null, { maxLength: 128 }));
  const realTokens = encodings.reduce((a, e) => a + e.ids.length, 0);
  const rows: Row[] = [];

  const forward = async (variant: string, batch: number, order: number[]): Promise<void> => {
    // Warm up kernels and caches on one batch first.
    await poolBatch(model, paddedBatch(order.slice(0, batch).map((i) => encodings[i])), 'cls');
    let padded = 0;
    const t0 = performance.now();
    for (let b = 0; b < order.length; b += batch) {
      const group: Encoding[] = order.slice(b, b + batch).map((i) => encodings[i]);
      const pb = paddedBatch(group);
      padded += pb.batch_size * pb.seq_length;
      await poolBatch(model, pb, 'cls');
    }
    const seconds = (performance.now() - t0) / 1000;
    rows.push({
      size,
      variant,
      backend: backend.backend,
      batch,
      sentences: order.length,
      tokens: realTokens,
      padding: 1 - realTokens / padded,
      seconds,
      sentences_per_s: order.length / seconds,
      tokens_per_s: realTokens / seconds,
    });
  };

  const inputOrder = encodings.map((_, i) => i);
  // Sorted over the whole input: the best case of `bert embed`'s per-chunk sort.
  const sorted = [...inputOrder].sort((a, b) => encodings[a].ids.length - encodings[b].ids.length);
  for (const batch of [1, 8, 32, 128]) await forward('sorted', batch, sorted);
  await forward('input order', 32, inputOrder);

  // End to end, as the CLI runs it: checkpoint load, tokenize, chunked sort, forward, .npy write.
  const dir = await mkdtemp(join(tmpdir(), 'bench-embed-'));
  try {
    const ckpt = join(dir, 'ckpt');
    const { mkdir, copyFile } = await import('node:fs/promises');
    await mkdir(ckpt);
    await writeSafetensors(join(ckpt, 'model.safetensors'), await toHfTensors(model.params), {
      format: 'pt',
    });
    await writeFile(join(ckpt, 'config.json'), JSON.stringify(toHfConfigJson(config)));
    await copyFile(vocabPath, join(ckpt, 'vocab.txt'));
    await writeFile(join(dir, 'input.txt'), text.join('\n') + '\n');
    const r = await runEmbed({
      checkpoint: ckpt,
      input: join(dir, 'input.txt'),
      pooling: 'cls',
      out: join(dir, 'out.npy'),
      batchSize: 32,
      maxLength: 128,
      reporter: { emit: () => undefined, close: async () => undefined },
    });
    rows.push({
      size,
      variant: 'runEmbed end to end',
      backend: backend.backend,
      batch: 32,
      sentences: r.sentences,
      tokens: r.tokens,
      padding: NaN,
      seconds: r.seconds,
      sentences_per_s: r.sentencesPerSecond,
      tokens_per_s: r.tokensPerSecond,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
    disposeParams(model.params);
  }

  if (json) {
    for (const r of rows) console.log(JSON.stringify(r));
    return;
  }
  console.log(
    `embed bench: BERT-${size} (${config.num_hidden_layers} layers, hidden ${config.hidden_size}), ${text.length} lines, ${realTokens} tokens, backend ${backend.backend}`,
  );
  console.log(
    'variant                batch  padding  seconds  sentences/s  tokens/s  vs sorted@32',
  );
  const base = rows.find((r) => r.variant === 'sorted' && r.batch === 32)!;
  for (const r of rows) {
    console.log(
      `${r.variant.padEnd(22)} ${String(r.batch).padStart(5)}  ${Number.isNaN(r.padding) ? '    -  ' : `${(100 * r.padding).toFixed(1).padStart(5)}%`}  ${r.seconds.toFixed(2).padStart(7)}  ${r.sentences_per_s.toFixed(1).padStart(11)}  ${r.tokens_per_s.toFixed(0).padStart(8)}  ${(r.sentences_per_s / base.sentences_per_s).toFixed(2).padStart(11)}x`,
    );
  }
}
