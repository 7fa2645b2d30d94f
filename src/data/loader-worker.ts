/**
 * The loader's worker thread: builds batches ahead of the trainer and hands
 * them over by transferring their buffers (no copy). It builds while it holds
 * credits (the bounded prefetch queue: one credit per free slot) and waits for
 * the next credit otherwise.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { UserError } from '../errors.js';
import { batchBuffers, buildBatches } from './batch.js';
import type { FromWorker, LoaderSource, ToWorker, WorkerInit } from './loader-protocol.js';
import { createPipeline } from './pipeline.js';
import type { DocumentSource, Sentence } from './types.js';
import { buildMaskingVocab } from './vocab.js';

interface ShardsModule {
  openShards(dir: string): DocumentSource | Promise<DocumentSource>;
}

/**
 * Open the documents; shards.ts belongs to the tokenizer, so it is imported
 * lazily. With `vocabSize`, shards built with another vocabulary are refused.
 */
export async function openSource(source: LoaderSource, vocabSize?: number): Promise<DocumentSource> {
  if (source.kind === 'memory') {
    const docs: Sentence[][] = source.documents.map((d) => d.map((s) => Int32Array.from(s)));
    return { numDocuments: docs.length, document: (i) => docs[i] };
  }
  const spec = './shards.js';
  const mod = (await import(spec)) as ShardsModule;
  const shards = await mod.openShards(source.dir);
  const built = (shards as { manifest?: { vocab_size?: number } }).manifest?.vocab_size;
  if (vocabSize !== undefined && built !== undefined && built !== vocabSize) {
    throw new UserError(
      `${source.dir}: shards were built with a vocabulary of ${built} tokens, but the vocab has ${vocabSize}`,
    );
  }
  return shards;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('loader-worker.js must run in a worker thread');
  const init = workerData as WorkerInit;
  let credits = init.prefetch;
  let stopped = false;
  let wake: (() => void) | undefined;
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'credit') credits++;
    else stopped = true;
    wake?.();
  });
  const post = (msg: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);
  try {
    const source = await openSource(init.source, init.vocabTokens.length);
    const vocab = buildMaskingVocab(init.vocabTokens);
    const { stream, shape } = createPipeline(source, vocab, init.config, init.seed, init.split);
    const batches = buildBatches(stream, init.cursor, init.batchSize, shape);
    let epoch = init.cursor.epoch;
    while (!stopped) {
      if (credits <= 0) {
        // Idle with a full queue: a good time to plan the next epoch.
        stream.preparePlanAfter(epoch);
        if (credits > 0 || stopped) continue;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const t0 = performance.now();
      const next = batches.next();
      if (next.done) {
        post({ type: 'end' });
        break;
      }
      const buildMs = performance.now() - t0;
      credits--;
      const { batch, cursor } = next.value;
      if (cursor) epoch = cursor.epoch;
      post({ type: 'batch', batch, cursor, buildMs }, batchBuffers(batch));
      // Let credit/stop messages in between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({
      type: 'error',
      message: e.message,
      userError: e instanceof UserError,
      exitCode: e instanceof UserError ? e.exitCode : 1,
    });
  } finally {
    port.close();
  }
}

if (parentPort) void main();
