/**
 * Worker-thread entry for corpus encoding: builds its own BertTokenizer from
 * the vocabulary in workerData and answers each block of text with its
 * EncodedBlock (buffers transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BertTokenizer } from './bert-tokenizer.js';
import { encodeBlock, type InputFormat } from './encode-block.js';
import { Vocab } from './vocab.js';

export interface ShardWorkerData {
  tokens: string[];
  lowercase: boolean;
  format: InputFormat;
}

export interface ShardWorkerRequest {
  text: string;
}

const data = workerData as ShardWorkerData;
const tokenizer = new BertTokenizer(new Vocab(data.tokens), { lowercase: data.lowercase });
const port = parentPort!;
port.on('message', (msg: ShardWorkerRequest) => {
  const r = encodeBlock(tokenizer, msg.text, data.format);
  port.postMessage(r, [
    r.ids.buffer,
    r.sentenceLengths.buffer,
    r.documentSentences.buffer,
  ] as ArrayBuffer[]);
});
