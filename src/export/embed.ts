/**
 * `bert embed`: sentence embeddings ("BERT as an embedding generator") — one
 * vector per input line from the last hidden state's [CLS] row (`cls`), the
 * pooler's tanh(dense([CLS])) (`pooler`), or the mean over real tokens,
 * [CLS]/[SEP] included (`mean`, as sentence-transformers' mean pooling).
 *
 * Lines are encoded, grouped into chunks, sorted by length within a chunk so
 * each batch pads to little more than its own longest line, run without
 * dropout, and written back in input order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { namingPath } from '../io/fs-errors.js';
import { dirname, extname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserError } from '../errors.js';
import { tempSibling, writeAll } from '../io/atomic.js';
import { bertEncoder, type BertModel } from '../model/bert.js';
import { forInference, lengthSortedBatches } from '../model/predict.js';
import { padSequences, encoderTensors, disposeTensors, type EncoderBatch } from '../model/batch.js';
import { BertTokenizer, type Encoding } from '../tokenizer/bert-tokenizer.js';
import { decodeUtf8Strict } from '../tokenizer/text-file.js';
import { now, type Reporter } from '../ui/events.js';
import { loadBertDirectory } from './load.js';
import { npyHeader } from './npy.js';

export const POOLINGS = ['cls', 'pooler', 'mean'] as const;
export type Pooling = (typeof POOLINGS)[number];

/** Encodings padded to the longest of them, as one batch. */
export function paddedBatch(encodings: readonly Encoding[]): EncoderBatch {
  return padSequences(
    encodings.map((e) => ({ ids: e.ids, typeIds: e.tokenTypeIds })),
    0,
  );
}

/** Embeddings of one batch, [B, H] row-major. Pure given the model (no dropout). */
export async function poolBatch(
  model: BertModel,
  batch: EncoderBatch,
  pooling: Pooling,
): Promise<Float32Array> {
  const inputs = encoderTensors(batch);
  const out = tf.tidy(() => {
    const enc = bertEncoder(forInference(model), inputs, { training: false });
    if (pooling === 'pooler') return enc.pooledOutput;
    if (pooling === 'cls') return model.ops.gatherRows(enc.sequenceOutput, inputs.clsRows);
    const B = batch.batch_size;
    const T = batch.seq_length;
    const H = model.config.hidden_size;
    const mask = tf.tensor2d(Float32Array.from(batch.attention_mask), [B * T, 1]);
    const sums = tf.sum(tf.reshape(tf.mul(enc.sequenceOutput, mask), [B, T, H]), 1);
    return tf.div(sums, tf.sum(tf.reshape(mask, [B, T]), 1, true));
  });
  disposeTensors(inputs);
  const data = Float32Array.from((await out.data()) as Float32Array);
  out.dispose();
  return data;
}

/** Input lines: one sentence a line; a final newline does not add an empty one. */
export function inputLines(text: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export type OutputFormat = 'jsonl' | 'npy';

export function outputFormatOf(path: string): OutputFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl') return 'jsonl';
  if (ext === '.npy') return 'npy';
  throw new UserError(`--out ${path}: expected a .jsonl or .npy file name`);
}

/** Writes rows in order to a temporary sibling, renamed into place on commit. */
class EmbeddingWriter {
  private next = 0;
  private constructor(
    private readonly fh: FileHandle,
    private readonly tmp: string,
    private readonly path: string,
    private readonly format: OutputFormat,
    private readonly dims: number,
  ) {}

  static async create(path: string, rows: number, dims: number): Promise<EmbeddingWriter> {
    const format = outputFormatOf(path);
    const tmp = tempSibling(resolve(path));
    return namingPath(
      path,
      async () => {
        await mkdir(dirname(resolve(path)), { recursive: true });
        const fh = await open(tmp, 'w');
        const w = new EmbeddingWriter(fh, tmp, path, format, dims);
        if (format === 'npy') await w.named(() => writeAll(fh, npyHeader([rows, dims])));
        return w;
      },
      tmp,
    );
  }

  /** Filesystem errors (a full disk) name the output file, not the temporary. */
  private named<T>(fn: () => Promise<T>): Promise<T> {
    return namingPath(this.path, fn, this.tmp);
  }

  /** `data` holds consecutive rows, [n, dims]. */
  async write(data: Float32Array): Promise<void> {
    await this.named(() => this.writeRows(data));
  }

  private async writeRows(data: Float32Array): Promise<void> {
    const n = data.length / this.dims;
    if (this.format === 'npy') {
      await writeAll(this.fh, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } else {
      let text = '';
      for (let i = 0; i < n; i++) {
        const row = Array.from(data.subarray(i * this.dims, (i + 1) * this.dims));
        text += JSON.stringify({ index: this.next + i, embedding: row }) + '\n';
      }
      await writeAll(this.fh, text);
    }
    this.next += n;
  }

  async commit(): Promise<void> {
    await this.named(async () => {
      await this.fh.sync();
      await this.fh.close();
      await rename(this.tmp, this.path);
    });
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}

export interface EmbedOptions {
  checkpoint: string;
  input: string;
  pooling: Pooling;
  out: string;
  batchSize: number;
  /** Truncate lines to this many tokens ([CLS]/[SEP] included); default max_position_embeddings. */
  maxLength?: number;
  reporter: Reporter;
}

export interface EmbedResult {
  sentences: number;
  dims: number;
  tokens: number;
  truncated: number;
  seconds: number;
  sentencesPerSecond: number;
  tokensPerSecond: number;
  source: string;
}

/** Sentences sorted by length within chunks of this many batches. */
const BATCHES_PER_CHUNK = 16;

export async function runEmbed(options: EmbedOptions): Promise<EmbedResult> {
  const { reporter, batchSize, pooling } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UserError(`--batch-size: expected a positive integer, got ${batchSize}`);
  }
  outputFormatOf(options.out);
  let text: string;
  try {
    text = decodeUtf8Strict(await readFile(options.input), options.input);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT')
      throw new UserError(`--input ${options.input}: no such file`);
    throw err;
  }
  const lines = inputLines(text);
  const loaded = await loadBertDirectory(options.checkpoint, {
    flag: '--checkpoint',
    require: 'encoder',
  });
  const { model, config } = loaded;
  const maxLength = options.maxLength ?? config.max_position_embeddings;
  if (maxLength < 2 || maxLength > config.max_position_embeddings) {
    throw new UserError(
      `--max-length: expected 2..${config.max_position_embeddings} (the model's max_position_embeddings), got ${maxLength}`,
    );
  }
  const tokenizer = new BertTokenizer(loaded.vocab, { lowercase: loaded.lowercase });
  reporter.emit({
    type: 'log',
    time: now(),
    message: `embedding ${lines.length} lines from ${options.input} with ${loaded.dir} (${config.num_hidden_layers} layers, hidden ${config.hidden_size}, ${loaded.lowercase ? 'uncased' : 'cased'}), pooling ${pooling}`,
  });
  const H = config.hidden_size;
  const writer = await EmbeddingWriter.create(options.out, lines.length, H);
  const started = performance.now();
  let tokens = 0;
  let truncated = 0;
  try {
    const chunkSize = batchSize * BATCHES_PER_CHUNK;
    for (let c = 0; c < lines.length; c += chunkSize) {
      const chunk = lines.slice(c, c + chunkSize);
      const encodings = chunk.map((line) => {
        const full = tokenizer.encode(line);
        if (full.ids.length <= maxLength) return full;
        truncated++;
        return tokenizer.encode(line, null, { maxLength });
      });
      const rows = new Float32Array(chunk.length * H);
      let embedded = 0;
      for (const idx of lengthSortedBatches(encodings, batchSize)) {
        const batchEncodings = idx.map((i) => encodings[i]);
        const pooled = await poolBatch(model, paddedBatch(batchEncodings), pooling);
        idx.forEach((i, k) => rows.set(pooled.subarray(k * H, (k + 1) * H), i * H));
        for (const e of batchEncodings) tokens += e.ids.length;
        embedded += idx.length;
        const done = c + embedded;
        reporter.emit({
          type: 'progress',
          time: now(),
          stage: 'embed',
          done,
          total: lines.length,
          unit: 'sentences',
          rate: done / ((performance.now() - started) / 1000),
        });
      }
      await writer.write(rows);
    }
    await writer.commit();
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    for (const v of model.params.values()) v.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    sentences: lines.length,
    dims: H,
    tokens,
    truncated,
    seconds,
    sentencesPerSecond: lines.length / Math.max(seconds, 1e-9),
    tokensPerSecond: tokens / Math.max(seconds, 1e-9),
    source: loaded.dir,
  };
}
