/**
 * A fixed pool of shard workers. `encode` sends a block to the least busy
 * worker; every worker answers in order, so each keeps a FIFO of waiters.
 */
import { Worker } from 'node:worker_threads';
import type { EncodedBlock } from './encode-block.js';
import type { ShardWorkerData } from './shard-worker.js';

interface Waiter {
  resolve: (r: EncodedBlock) => void;
  reject: (e: Error) => void;
}

export class EncodeWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly waiting: Waiter[][] = [];
  private failed: Error | null = null;

  constructor(size: number, data: ShardWorkerData) {
    for (let w = 0; w < size; w++) {
      const worker = new Worker(new URL('./shard-worker.js', import.meta.url), {
        workerData: data,
      });
      const queue: Waiter[] = [];
      worker.on('message', (r: EncodedBlock) => queue.shift()?.resolve(r));
      const fail = (err: Error): void => {
        this.failed ??= err;
        for (const q of queue.splice(0)) q.reject(err);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (queue.length > 0) fail(new Error(`tokenize worker exited with code ${code}`));
      });
      this.workers.push(worker);
      this.waiting.push(queue);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Encode one block of whole documents. */
  encode(text: string): Promise<EncodedBlock> {
    if (this.failed) return Promise.reject(this.failed);
    let best = 0;
    for (let w = 1; w < this.workers.length; w++) {
      if (this.waiting[w]!.length < this.waiting[best]!.length) best = w;
    }
    return new Promise<EncodedBlock>((resolve, reject) => {
      this.waiting[best]!.push({ resolve, reject });
      this.workers[best]!.postMessage({ text });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
