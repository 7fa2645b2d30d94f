/**
 * Token shards (Megatron-style indexed dataset), written by `bert tokenize`
 * and read by the pretraining data pipeline.
 *
 * A shard is `<prefix>.bin` + `<prefix>.idx`:
 * - `.bin`: flat little-endian token ids, uint16 when the vocabulary has at
 *   most 65,535 tokens, else uint32; all sentences concatenated.
 * - `.idx`: little-endian: 8-byte magic `BERTIDX1`, u32 version (1),
 *   u32 bytes per token (2 or 4), u64 numSentences, u64 numDocuments, then
 *   (numSentences + 1) u64 token offsets of sentence starts into .bin, then
 *   (numDocuments + 1) u64 sentence offsets of document starts.
 * `shards.json` in the shard directory lists the shards (see ShardManifest).
 * With `index_format: megatron` the .idx is Megatron-Core's MMIDIDX layout
 * instead (src/data/megatron-index.ts); reading accepts either.
 */
import { readFileSync, statSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DocumentSource, Sentence } from './types.js';
import { UserError } from '../errors.js';
import { tempSibling } from '../io/atomic.js';
import {
  decodeMegatronIndex,
  encodeMegatronIndex,
  isMegatronIndex,
  megatronBytesPerToken,
} from './megatron-index.js';

export const IDX_MAGIC = 'BERTIDX1';
export const IDX_VERSION = 1;
export const SHARDS_FORMAT = 'bert-shards/1';
export const MANIFEST_NAME = 'shards.json';
const HEADER_BYTES = 32;

export interface ShardFileInfo {
  /** File name prefix inside the shard directory (`<prefix>.bin`, `<prefix>.idx`). */
  prefix: string;
  documents: number;
  sentences: number;
  tokens: number;
  /** How many of the tokens are [UNK]. */
  unk: number;
}

/** Layout of the .idx files: ours (BERTIDX1) or Megatron-Core's (MMIDIDX). */
export type IndexFormat = 'bert' | 'megatron';

export interface ShardManifest {
  format: typeof SHARDS_FORMAT;
  /** Absent = 'bert'. */
  index_format?: IndexFormat;
  vocab_size: number;
  vocab_sha256: string;
  lowercase: boolean;
  files: ShardFileInfo[];
}

/** Bytes per token id on disk for a vocabulary of `vocabSize` tokens. */
export function bytesPerToken(vocabSize: number): 2 | 4 {
  return vocabSize <= 65535 ? 2 : 4;
}

/**
 * Accumulates documents of one shard in memory; `finish` gives the .bin and
 * .idx bytes. Sentences are copied in, so callers may reuse their buffers.
 */
export class ShardBuilder {
  readonly bytesPerToken: 2 | 4;
  private tokens: Uint16Array | Uint32Array;
  private numTokens = 0;
  private sentenceStarts: number[] = [0];
  private documentStarts: number[] = [0];
  unk = 0;

  constructor(
    vocabSize: number,
    readonly indexFormat: IndexFormat = 'bert',
  ) {
    this.bytesPerToken =
      indexFormat === 'megatron' ? megatronBytesPerToken(vocabSize) : bytesPerToken(vocabSize);
    this.tokens = this.bytesPerToken === 2 ? new Uint16Array(1 << 16) : new Uint32Array(1 << 16);
  }

  get tokenCount(): number {
    return this.numTokens;
  }
  get sentenceCount(): number {
    return this.sentenceStarts.length - 1;
  }
  get documentCount(): number {
    return this.documentStarts.length - 1;
  }

  /** Append one sentence to the current document. */
  addSentence(ids: ArrayLike<number>): void {
    this.reserve(ids.length);
    this.tokens.set(ids, this.numTokens);
    this.numTokens += ids.length;
    this.sentenceStarts.push(this.numTokens);
  }

  /** Close the current document (no-op if it has no sentences). */
  endDocument(): void {
    const n = this.sentenceCount;
    if (n > this.documentStarts[this.documentStarts.length - 1]!) this.documentStarts.push(n);
  }

  private reserve(extra: number): void {
    const need = this.numTokens + extra;
    if (need <= this.tokens.length) return;
    let cap = this.tokens.length * 2;
    while (cap < need) cap *= 2;
    const grown = this.bytesPerToken === 2 ? new Uint16Array(cap) : new Uint32Array(cap);
    grown.set(this.tokens.subarray(0, this.numTokens));
    this.tokens = grown;
  }

  /** The .bin and .idx contents. */
  finish(): { bin: Uint8Array; idx: Uint8Array } {
    this.endDocument();
    const t = this.tokens.subarray(0, this.numTokens);
    // Typed arrays are little-endian on every platform Node runs on that we support.
    const bin = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
    const encode = this.indexFormat === 'megatron' ? encodeMegatronIndex : encodeIndex;
    return { bin, idx: encode(this.bytesPerToken, this.sentenceStarts, this.documentStarts) };
  }
}

/** The .idx bytes for the given boundaries. */
export function encodeIndex(bpt: 2 | 4, sentenceStarts: readonly number[], documentStarts: readonly number[]): Uint8Array {
  const numSentences = sentenceStarts.length - 1;
  const numDocuments = documentStarts.length - 1;
  const bytes = new Uint8Array(HEADER_BYTES + 8 * (sentenceStarts.length + documentStarts.length));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) bytes[i] = IDX_MAGIC.charCodeAt(i);
  view.setUint32(8, IDX_VERSION, true);
  view.setUint32(12, bpt, true);
  view.setBigUint64(16, BigInt(numSentences), true);
  view.setBigUint64(24, BigInt(numDocuments), true);
  let off = HEADER_BYTES;
  for (const s of sentenceStarts) {
    view.setBigUint64(off, BigInt(s), true);
    off += 8;
  }
  for (const d of documentStarts) {
    view.setBigUint64(off, BigInt(d), true);
    off += 8;
  }
  return bytes;
}

export interface DecodedIndex {
  bytesPerToken: 2 | 4;
  /** Token offset of each sentence start, plus the end (length numSentences + 1). */
  sentenceStarts: Float64Array;
  /** Sentence offset of each document start, plus the end (length numDocuments + 1). */
  documentStarts: Float64Array;
}

/** Parse .idx bytes (ours, or Megatron-Core's MMIDIDX); `source` names the file in errors. */
export function decodeIndex(bytes: Uint8Array, source: string): DecodedIndex {
  if (isMegatronIndex(bytes)) return decodeMegatronIndex(bytes, source);
  const bad = (what: string): UserError => new UserError(`${source}: not a bert shard index (${what})`);
  if (bytes.length < HEADER_BYTES) throw bad('file too short');
  for (let i = 0; i < 8; i++) if (bytes[i] !== IDX_MAGIC.charCodeAt(i)) throw bad(`expected magic ${IDX_MAGIC}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== IDX_VERSION) throw bad(`version ${version}, expected ${IDX_VERSION}`);
  const bpt = view.getUint32(12, true);
  if (bpt !== 2 && bpt !== 4) throw bad(`bytes per token ${bpt}, expected 2 or 4`);
  const numSentences = Number(view.getBigUint64(16, true));
  const numDocuments = Number(view.getBigUint64(24, true));
  const expected = HEADER_BYTES + 8 * (numSentences + 1 + numDocuments + 1);
  if (bytes.length !== expected) throw bad(`${bytes.length} bytes, expected ${expected}`);
  const read = (at: number, n: number): Float64Array => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(view.getBigUint64(at + 8 * i, true));
    return out;
  };
  const sentenceStarts = read(HEADER_BYTES, numSentences + 1);
  const documentStarts = read(HEADER_BYTES + 8 * (numSentences + 1), numDocuments + 1);
  return { bytesPerToken: bpt, sentenceStarts, documentStarts };
}

/**
 * Writes shards and the manifest into a directory. Every file goes to a
 * temporary name first; `commit` renames them all into place (manifest last),
 * `abort` deletes them, so an error leaves nothing half-written.
 */
export class ShardDirWriter {
  readonly dir: string;
  private pending: Array<{ tmp: string; final: string }> = [];
  readonly files: ShardFileInfo[] = [];

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Write one finished shard under `prefix` (to temporary names). */
  async writeShard(prefix: string, builder: ShardBuilder): Promise<ShardFileInfo> {
    const info: ShardFileInfo = {
      prefix,
      documents: builder.documentCount,
      sentences: builder.sentenceCount,
      tokens: builder.tokenCount,
      unk: builder.unk,
    };
    const { bin, idx } = builder.finish();
    info.documents = builder.documentCount;
    await this.stage(`${prefix}.bin`, bin);
    await this.stage(`${prefix}.idx`, idx);
    this.files.push(info);
    return info;
  }

  private async stage(name: string, data: Uint8Array | string): Promise<void> {
    const final = join(this.dir, name);
    const tmp = tempSibling(final);
    this.pending.push({ tmp, final });
    await writeFile(tmp, data);
  }

  /** Write the manifest and rename everything into place. */
  async commit(meta: Omit<ShardManifest, 'format' | 'files'>): Promise<ShardManifest> {
    const manifest: ShardManifest = { format: SHARDS_FORMAT, ...meta, files: this.files };
    await this.stage(MANIFEST_NAME, JSON.stringify(manifest, null, 2) + '\n');
    for (const { tmp, final } of this.pending) await rename(tmp, final);
    this.pending = [];
    return manifest;
  }

  /** Delete everything written so far. */
  async abort(): Promise<void> {
    await Promise.all(this.pending.map(({ tmp }) => rm(tmp, { force: true })));
    this.pending = [];
  }
}

interface LoadedShard {
  info: ShardFileInfo;
  tokens: Uint16Array | Uint32Array;
  index: DecodedIndex;
}

/** A shard directory opened for reading: a DocumentSource over all its shards, in manifest order. */
export class ShardSet implements DocumentSource {
  readonly dir: string;
  readonly manifest: ShardManifest;
  readonly numDocuments: number;
  readonly numSentences: number;
  readonly numTokens: number;
  private readonly shards: LoadedShard[];
  /** Global index of the first document of each shard, plus the total. */
  private readonly firstDocument: number[];

  constructor(dir: string, manifest: ShardManifest, shards: LoadedShard[]) {
    this.dir = dir;
    this.manifest = manifest;
    this.shards = shards;
    this.firstDocument = [0];
    let sentences = 0;
    let tokens = 0;
    for (const s of shards) {
      this.firstDocument.push(this.firstDocument[this.firstDocument.length - 1]! + s.index.documentStarts.length - 1);
      sentences += s.index.sentenceStarts.length - 1;
      tokens += s.tokens.length;
    }
    this.numDocuments = this.firstDocument[this.firstDocument.length - 1]!;
    this.numSentences = sentences;
    this.numTokens = tokens;
  }

  /** Sentences of document `i` (0 <= i < numDocuments), as views into the loaded .bin. */
  document(i: number): Sentence[] {
    if (!Number.isInteger(i) || i < 0 || i >= this.numDocuments) {
      throw new RangeError(`document ${i} out of range [0, ${this.numDocuments})`);
    }
    let lo = 0;
    let hi = this.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.firstDocument[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    const shard = this.shards[lo]!;
    const d = i - this.firstDocument[lo]!;
    const { sentenceStarts, documentStarts } = shard.index;
    const out: Sentence[] = [];
    for (let s = documentStarts[d]!; s < documentStarts[d + 1]!; s++) {
      out.push(shard.tokens.subarray(sentenceStarts[s]!, sentenceStarts[s + 1]!));
    }
    return out;
  }
}

function readManifest(dir: string): ShardManifest {
  const path = join(dir, MANIFEST_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`${path}: shard manifest not found (run \`bert tokenize\` to create shards)`);
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path}: invalid JSON (${(err as Error).message})`);
  }
  const o = m as Partial<ShardManifest> | null;
  if (o === null || typeof o !== 'object' || o.format !== SHARDS_FORMAT) {
    throw new UserError(`${path}: expected "format": "${SHARDS_FORMAT}"`);
  }
  if (typeof o.vocab_size !== 'number' || !Array.isArray(o.files)) {
    throw new UserError(`${path}: expected "vocab_size" (number) and "files" (array)`);
  }
  return o as ShardManifest;
}

/** Open a shard directory written by `bert tokenize` (reads every shard into memory). */
export function openShards(dir: string): ShardSet {
  const manifest = readManifest(dir);
  const shards: LoadedShard[] = manifest.files.map((info) => {
    const idxPath = join(dir, `${info.prefix}.idx`);
    const binPath = join(dir, `${info.prefix}.bin`);
    let idxBytes: Buffer;
    let binBytes: Buffer;
    try {
      statSync(idxPath);
      statSync(binPath);
      idxBytes = readFileSync(idxPath);
      binBytes = readFileSync(binPath);
    } catch {
      throw new UserError(`${dir}: shard ${info.prefix} listed in ${MANIFEST_NAME} is missing its .bin or .idx`);
    }
    const index = decodeIndex(idxBytes, idxPath);
    const bpt = index.bytesPerToken;
    if (binBytes.length % bpt !== 0) throw new UserError(`${binPath}: size ${binBytes.length} is not a multiple of ${bpt}`);
    // Typed-array views need aligned offsets; copy if the buffer is not.
    const aligned = binBytes.byteOffset % bpt === 0 ? binBytes : new Uint8Array(binBytes);
    const n = aligned.length / bpt;
    const tokens =
      bpt === 2 ? new Uint16Array(aligned.buffer, aligned.byteOffset, n) : new Uint32Array(aligned.buffer, aligned.byteOffset, n);
    const end = index.sentenceStarts[index.sentenceStarts.length - 1]!;
    if (end !== n) throw new UserError(`${idxPath}: index ends at token ${end} but ${binPath} holds ${n} tokens`);
    return { info, tokens, index };
  });
  return new ShardSet(dir, manifest, shards);
}
