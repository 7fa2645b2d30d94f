/**
 * The pretraining loader the trainer iterates: a worker thread builds batches
 * (src/data/loader-worker.ts) and keeps up to `prefetch` of them ready; each
 * arrives as typed arrays whose buffers were transferred, not copied.
 *
 *   const loader = PretrainingLoader.start({ source: { kind: 'shards', dir }, ... });
 *   for await (const { batch, cursor } of loader) { ...; if (done) break; }
 *   await loader.stop();            // also done by breaking out of for-await
 *
 * `cursor` is where the stream continues after that batch: store it in
 * trainer_state.json and pass it back as `cursor` to resume the same stream.
 */
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { UserError } from '../errors.js';
import type { PretrainingBatch } from './batch.js';
import type { FromWorker, LoaderSource, ToWorker, WorkerInit } from './loader-protocol.js';
import type { DataSplitName, PipelineConfig } from './pipeline.js';
import { START_CURSOR, type LoaderCursor } from './stream.js';

export type { LoaderCursor } from './stream.js';
export type { LoaderSource } from './loader-protocol.js';
export type { PretrainingBatch } from './batch.js';

export interface LoaderOptions {
  source: LoaderSource;
  /** vocab.txt as token strings (id = index). */
  vocabTokens: readonly string[];
  config: PipelineConfig;
  seed: number;
  batchSize: number;
  /** 'train' cycles through epochs forever; 'heldout' is one pass over the held-out documents. */
  split?: DataSplitName;
  /** Resume point (default: epoch 0, instance 0). */
  cursor?: LoaderCursor;
}

export interface LoaderItem {
  batch: PretrainingBatch;
  /** Where the stream continues after this batch; null after the last batch of a held-out pass. */
  cursor: LoaderCursor | null;
}

export interface LoaderStats {
  batches: number;
  instances: number;
  /** Real (non-padding) tokens delivered. */
  tokens: number;
  /** Worker build rate: instances per second of worker busy time. */
  instancesPerSec: number;
  tokensPerSec: number;
  /** Time the consumer spent waiting in next(), first batch excluded. */
  consumerWaitMs: number;
  /** next() calls that found the queue empty, first batch excluded. */
  waits: number;
  /** Time from start() to the first batch (worker start-up, opening shards, first epoch plan). */
  firstBatchMs: number;
}

type Waiter = { resolve: (item: LoaderItem | null) => void; reject: (err: Error) => void };

export class PretrainingLoader implements AsyncIterable<LoaderItem> {
  private readonly worker: Worker;
  private readonly queue: LoaderItem[] = [];
  private waiter: Waiter | undefined;
  private failure: Error | undefined;
  private ended = false;
  private stopping: Promise<void> | undefined;
  private readonly exited: Promise<void>;
  private readonly startedAt = performance.now();
  private readonly counters = {
    batches: 0,
    instances: 0,
    tokens: 0,
    buildMs: 0,
    builtInstances: 0,
    builtTokens: 0,
    waitMs: 0,
    waits: 0,
    firstBatchMs: Number.NaN,
  };

  private constructor(options: LoaderOptions) {
    const init: WorkerInit = {
      source: options.source,
      vocabTokens: options.vocabTokens,
      config: options.config,
      seed: options.seed,
      batchSize: options.batchSize,
      split: options.split ?? 'train',
      cursor: options.cursor ?? START_CURSOR,
      prefetch: options.config.prefetch,
    };
    if (!Number.isInteger(init.batchSize) || init.batchSize < 1) {
      throw new UserError(`batch size: expected an integer >= 1, got ${init.batchSize}`);
    }
    this.worker = new Worker(new URL('./loader-worker.js', import.meta.url), { workerData: init });
    // The worker only keeps the process alive while someone awaits a batch,
    // so a forgotten loader never hangs the process at exit.
    this.worker.unref();
    this.worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    this.worker.on('error', (err) => this.fail(err));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        if (!this.ended && !this.stopping && !this.failure) {
          this.fail(new Error(`data loader worker exited unexpectedly (code ${code})`));
        }
        resolve();
      });
    });
  }

  /** Batches built and waiting for the consumer (the prefetch queue's fill). */
  get queueDepth(): number {
    return this.queue.length;
  }

  static start(options: LoaderOptions): PretrainingLoader {
    return new PretrainingLoader(options);
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === 'batch') {
      this.counters.buildMs += msg.buildMs;
      this.counters.builtInstances += msg.batch.batch_size;
      this.counters.builtTokens += msg.batch.num_tokens;
      this.deliver({ batch: msg.batch, cursor: msg.cursor });
    } else if (msg.type === 'end') {
      this.ended = true;
      this.deliver(null);
    } else {
      this.fail(msg.userError ? new UserError(msg.message, msg.exitCode) : new Error(msg.message));
    }
  }

  private deliver(item: LoaderItem | null): void {
    if (this.stopping) return; // batches still in flight when stop() was called
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      this.worker.unref();
      if (item) this.taken(item);
      w.resolve(item);
    } else if (item) {
      this.queue.push(item);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      this.worker.unref();
      w.reject(err);
    }
  }

  /** Bookkeeping for a batch handed to the consumer; frees its queue slot. */
  private taken(item: LoaderItem): void {
    const c = this.counters;
    if (c.batches === 0) c.firstBatchMs = performance.now() - this.startedAt;
    c.batches++;
    c.instances += item.batch.batch_size;
    c.tokens += item.batch.num_tokens;
    if (!this.stopping && !this.ended) this.send({ type: 'credit' });
  }

  private send(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }

  /** The next batch and the cursor after it; null when a held-out pass is over or the loader stopped. */
  async next(): Promise<LoaderItem | null> {
    if (this.stopping) return null;
    const ready = this.queue.shift();
    if (ready) {
      this.taken(ready);
      return ready;
    }
    if (this.failure) throw this.failure;
    if (this.ended) return null;
    if (this.waiter) throw new Error('PretrainingLoader.next() called again before the last call resolved');
    const first = this.counters.batches === 0;
    const t0 = performance.now();
    this.worker.ref();
    const item = await new Promise<LoaderItem | null>((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
    if (!first && item) {
      this.counters.waitMs += performance.now() - t0;
      this.counters.waits++;
    }
    return item;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LoaderItem> {
    try {
      for (;;) {
        const item = await this.next();
        if (!item) return;
        yield item;
      }
    } finally {
      await this.stop();
    }
  }

  /** Stop the worker and wait until its thread has exited. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve(null);
      }
      this.queue.length = 0;
      this.worker.ref();
      try {
        this.send({ type: 'stop' });
      } catch {
        // the worker is already gone
      }
      const timeout = new Promise<'timeout'>((resolve) => {
        const t = setTimeout(() => resolve('timeout'), 2000);
        t.unref();
      });
      if ((await Promise.race([this.exited, timeout])) === 'timeout') await this.worker.terminate();
      await this.exited;
    })();
    return this.stopping;
  }

  stats(): LoaderStats {
    const c = this.counters;
    const busyS = c.buildMs / 1000;
    return {
      batches: c.batches,
      instances: c.instances,
      tokens: c.tokens,
      instancesPerSec: busyS > 0 ? c.builtInstances / busyS : 0,
      tokensPerSec: busyS > 0 ? c.builtTokens / busyS : 0,
      consumerWaitMs: c.waitMs,
      waits: c.waits,
      firstBatchMs: c.firstBatchMs,
    };
  }
}
