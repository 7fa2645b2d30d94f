/**
 * Corpus → shards: read the input files, cut them into blocks of whole
 * documents, encode the blocks on all cores (worker_threads), and write the
 * shard format of src/data/shards.ts in input order. Everything is written
 * under temporary names and renamed at the end; on any error the temporary
 * files are deleted and nothing is left behind.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  MANIFEST_NAME,
  ShardBuilder,
  ShardDirWriter,
  type IndexFormat,
  type ShardManifest,
} from '../data/shards.js';
import { UserError } from '../errors.js';
import { now, type Reporter } from '../ui/events.js';
import { blockBoundaries, type EncodedBlock, type InputFormat } from './encode-block.js';
import { checkTextFile, readDocumentPieces } from './text-file.js';
import type { Vocab } from './vocab.js';
import { EncodeWorkerPool } from './worker-pool.js';

export interface ShardCorpusOptions {
  inputs: readonly string[];
  format: InputFormat;
  vocab: Vocab;
  lowercase: boolean;
  outputDir: string;
  /** Worker threads; 'auto' = one per core. */
  workers: number | 'auto';
  /** Start a new shard once the current one holds this many tokens (default 2^26). */
  shardTokens?: number;
  /** Characters of text per work unit sent to a worker (default 256 Ki). */
  blockChars?: number;
  /** Bytes read from an input file at a time (default 32 MiB); pieces end at blank lines. */
  readChunkBytes?: number;
  /** Replace an existing shards.json in outputDir. */
  force?: boolean;
  /** .idx layout: ours (default) or Megatron-Core's, one sequence per sentence. */
  indexFormat?: IndexFormat;
  reporter?: Reporter;
}

export interface ShardSummary {
  documents: number;
  sentences: number;
  tokens: number;
  unk: number;
  unk_rate: number;
  shards: number;
  bytes: number;
  seconds: number;
  workers: number;
  manifest: ShardManifest;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Resolve `workers: auto|n` to a thread count. */
export function resolveWorkers(workers: number | 'auto'): number {
  if (workers === 'auto') return Math.max(1, availableParallelism());
  if (!Number.isInteger(workers) || workers < 1)
    throw new UserError(`workers: expected a positive integer or "auto", got ${String(workers)}`);
  return workers;
}

/** Check every input up front, so a typo fails before any work. Returns the total size in bytes. */
export function checkInputs(inputs: readonly string[]): number {
  if (inputs.length === 0) throw new UserError('input: expected at least one text file');
  let total = 0;
  for (const p of inputs) total += checkTextFile(p, 'input file');
  return total;
}

export async function shardCorpus(options: ShardCorpusOptions): Promise<ShardSummary> {
  const started = performance.now();
  const totalBytes = checkInputs(options.inputs);
  const manifestPath = join(options.outputDir, MANIFEST_NAME);
  if (existsSync(manifestPath) && !options.force) {
    throw new UserError(
      `${manifestPath}: shards already exist (choose another output_dir or pass --force)`,
    );
  }
  const createdDir = !existsSync(options.outputDir);
  await mkdir(options.outputDir, { recursive: true });
  const workers = resolveWorkers(options.workers);
  const shardTokens = options.shardTokens ?? 1 << 26;
  const blockChars = options.blockChars ?? 1 << 18;
  const { vocab, reporter } = options;
  const writer = new ShardDirWriter(options.outputDir);
  const pool = new EncodeWorkerPool(workers, {
    tokens: [...vocab.tokens],
    lowercase: options.lowercase,
    format: options.format,
  });
  let builder = new ShardBuilder(vocab.size, options.indexFormat);
  const totals = { documents: 0, sentences: 0, tokens: 0, unk: 0 };
  let bytesDone = 0;
  let lastReport = 0;

  const progress = (force: boolean): void => {
    const t = performance.now();
    if (!reporter || (!force && t - lastReport < 250)) return;
    lastReport = t;
    const secs = (t - started) / 1000;
    reporter.emit({
      type: 'progress',
      time: now(),
      stage: 'tokenize',
      done: bytesDone,
      total: totalBytes,
      unit: 'B',
      rate: secs > 0 ? bytesDone / secs : undefined,
    });
  };

  const flushShard = async (): Promise<void> => {
    if (builder.sentenceCount === 0) return;
    const info = await writer.writeShard(
      `shard-${String(writer.files.length).padStart(5, '0')}`,
      builder,
    );
    totals.documents += info.documents;
    totals.sentences += info.sentences;
    totals.tokens += info.tokens;
    totals.unk += info.unk;
    builder = new ShardBuilder(vocab.size, options.indexFormat);
  };

  const consume = async (r: EncodedBlock, bytes: number): Promise<void> => {
    let tok = 0;
    let sent = 0;
    for (let d = 0; d < r.documentSentences.length; d++) {
      for (let s = 0; s < r.documentSentences[d]!; s++) {
        const n = r.sentenceLengths[sent++]!;
        builder.addSentence(r.ids.subarray(tok, tok + n));
        tok += n;
      }
      builder.endDocument();
    }
    builder.unk += r.unk;
    bytesDone += bytes;
    progress(false);
    if (builder.tokenCount >= shardTokens) await flushShard();
  };

  try {
    const inflight: Array<{ result: Promise<EncodedBlock>; bytes: number }> = [];
    for (const path of options.inputs) {
      for await (const text of readDocumentPieces(path, options.readChunkBytes)) {
        const cuts = blockBoundaries(text, blockChars);
        for (let b = 0; b + 1 < cuts.length; b++) {
          const block = text.slice(cuts[b], cuts[b + 1]);
          const result = pool.encode(block);
          // Avoid an unhandled rejection while earlier blocks are awaited.
          result.catch(() => undefined);
          inflight.push({ result, bytes: Buffer.byteLength(block) });
          while (inflight.length >= 2 * workers) {
            const next = inflight.shift()!;
            await consume(await next.result, next.bytes);
          }
        }
      }
    }
    // Blocks end at document boundaries, so a document never continues into the next file.
    while (inflight.length > 0) {
      const next = inflight.shift()!;
      await consume(await next.result, next.bytes);
    }
    await flushShard();
    const manifest = await writer.commit({
      vocab_size: vocab.size,
      vocab_sha256: sha256Hex(vocab.toText()),
      lowercase: options.lowercase,
      ...(options.indexFormat === 'megatron' ? { index_format: 'megatron' as const } : {}),
    });
    progress(true);
    return {
      ...totals,
      unk_rate: totals.tokens > 0 ? totals.unk / totals.tokens : 0,
      shards: manifest.files.length,
      bytes: bytesDone,
      seconds: (performance.now() - started) / 1000,
      workers,
      manifest,
    };
  } catch (err) {
    await writer.abort();
    // Leave no trace: an output directory this run created goes too (only if empty).
    if (createdDir) await rmdir(options.outputDir).catch(() => undefined);
    throw err;
  } finally {
    await pool.close();
  }
}
