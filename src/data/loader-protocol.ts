/** Messages between the loader (main thread) and its worker (src/data/loader-worker.ts). */
import type { PretrainingBatch } from './batch.js';
import type { DataSplitName, PipelineConfig } from './pipeline.js';
import type { LoaderCursor } from './stream.js';

export type LoaderSource =
  /** A shard directory; the worker opens it with `openShards` (src/data/shards.ts). */
  | { kind: 'shards'; dir: string }
  /** Documents → sentences → token ids, cloned into the worker (tests, small corpora). */
  | { kind: 'memory'; documents: ReadonlyArray<ReadonlyArray<ArrayLike<number>>> };

export interface WorkerInit {
  source: LoaderSource;
  vocabTokens: readonly string[];
  config: PipelineConfig;
  seed: number;
  batchSize: number;
  split: DataSplitName;
  cursor: LoaderCursor;
  /** Batches the worker may build before the consumer takes one. */
  prefetch: number;
}

export type ToWorker = { type: 'credit' } | { type: 'stop' };

export type FromWorker =
  | { type: 'batch'; batch: PretrainingBatch; cursor: LoaderCursor | null; buildMs: number }
  | { type: 'end' }
  | { type: 'error'; message: string; userError: boolean; exitCode: number };
