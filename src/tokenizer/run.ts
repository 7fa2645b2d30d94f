/**
 * What `bert tokenize` does, behind the thin CLI module:
 * - runTokenize: train-or-load the vocabulary, then encode the corpus into shards;
 * - runTrainVocab: train vocab.txt + tokenizer.json only;
 * - runEncode: encode lines to JSON lines for inspection and scripting.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { UserError } from '../errors.js';
import { now, type Reporter } from '../ui/events.js';
import { BertTokenizer } from './bert-tokenizer.js';
import { DEFAULT_VOCAB_TRAIN, type TokenizerConfig, type VocabTrainConfig } from './config.js';
import { checkInputs, shardCorpus, type ShardSummary } from './shard-corpus.js';
import type { IndexFormat } from '../data/shards.js';
import { decodeUtf8Strict, readDocumentPieces } from './text-file.js';
import { tokenizerConfigJson, writeTokenizerJson } from './tokenizer-json.js';
import { writeFileAtomic } from '../io/atomic.js';
import { WordCounter, trainWordPiece } from './trainer.js';
import { loadVocab, saveVocab, type Vocab } from './vocab.js';

export interface TokenizeResult {
  vocabPath: string;
  tokenizerJsonPath: string;
  /** True when the vocabulary was trained in this run. */
  trainedVocab: boolean;
  summary: ShardSummary;
}

export interface TokenizeRunOptions {
  /** Replace existing shards / vocab.txt in output_dir. */
  force?: boolean;
  /** Tokens per shard before starting a new one. */
  shardTokens?: number;
  /** .idx layout: ours (default) or Megatron-Core's MMIDIDX. */
  indexFormat?: IndexFormat;
}

/** Train a vocabulary on the input files (word counts of BertNormalizer + BertPreTokenizer, then BPE merges). */
export async function trainVocab(
  inputs: readonly string[],
  lowercase: boolean,
  train: Partial<VocabTrainConfig> = {},
  reporter?: Reporter,
): Promise<Vocab> {
  const total = checkInputs(inputs);
  const p = { ...DEFAULT_VOCAB_TRAIN, ...train };
  const counter = new WordCounter(lowercase);
  let done = 0;
  for (const path of inputs) {
    for await (const piece of readDocumentPieces(path)) {
      counter.add(piece);
      done += Buffer.byteLength(piece);
      reporter?.emit({
        type: 'progress',
        time: now(),
        stage: 'count-words',
        done,
        total,
        unit: 'B',
      });
    }
  }
  const words = counter.words();
  reporter?.emit({
    type: 'log',
    time: now(),
    message: `training WordPiece vocabulary on ${words.size} distinct words`,
  });
  return trainWordPiece(words, {
    vocabSize: p.vocab_size,
    minFrequency: p.min_frequency,
    limitAlphabet: p.limit_alphabet,
    onProgress: (size) =>
      reporter?.emit({
        type: 'progress',
        time: now(),
        stage: 'train-vocab',
        done: size,
        total: p.vocab_size,
        unit: 'tokens',
      }),
  });
}

/** Write vocab.txt and tokenizer.json into `dir`, refusing to replace a different vocab.txt without `force`. */
export async function writeVocabFiles(
  dir: string,
  vocab: Vocab,
  lowercase: boolean,
  force = false,
): Promise<{ vocabPath: string; tokenizerJsonPath: string }> {
  const vocabPath = join(dir, 'vocab.txt');
  const tokenizerJsonPath = join(dir, 'tokenizer.json');
  if (existsSync(vocabPath) && !force && readFileSync(vocabPath, 'utf8') !== vocab.toText()) {
    throw new UserError(
      `${vocabPath}: a different vocabulary is already there (choose another output_dir or pass --force)`,
    );
  }
  await saveVocab(vocabPath, vocab);
  await writeTokenizerJson(tokenizerJsonPath, vocab, { lowercase });
  await writeFileAtomic(
    join(dir, 'tokenizer_config.json'),
    // 512: the position limit of every published BERT; an export writes its model's own.
    JSON.stringify(tokenizerConfigJson(lowercase, 512), null, 2) + '\n',
  );
  return { vocabPath, tokenizerJsonPath };
}

/** `bert tokenize --config`: train-or-load the vocabulary, encode the corpus into shards, report a summary. */
export async function runTokenize(
  config: TokenizerConfig,
  reporter: Reporter,
  options: TokenizeRunOptions = {},
): Promise<TokenizeResult> {
  checkInputs(config.input);
  const vocabPath = config.vocab.path;
  const trained = vocabPath === undefined || !existsSync(vocabPath);
  let vocab: Vocab;
  if (!trained) {
    vocab = loadVocab(vocabPath);
    reporter.emit({
      type: 'log',
      time: now(),
      message: `vocabulary ${vocabPath}: ${vocab.size} tokens`,
    });
  } else {
    if (vocabPath !== undefined) {
      reporter.emit({
        type: 'log',
        time: now(),
        message: `${vocabPath} not found: training a vocabulary`,
      });
    }
    vocab = await trainVocab(config.input, config.lowercase, config.vocab.train, reporter);
    reporter.emit({
      type: 'log',
      time: now(),
      message: `trained a vocabulary of ${vocab.size} tokens`,
    });
  }
  const outVocab = join(config.output_dir, 'vocab.txt');
  if (
    !options.force &&
    existsSync(outVocab) &&
    (trained || resolve(outVocab) !== resolve(vocabPath!))
  ) {
    if (readFileSync(outVocab, 'utf8') !== vocab.toText()) {
      throw new UserError(
        `${outVocab}: a different vocabulary is already there (choose another output_dir or pass --force)`,
      );
    }
  }
  const summary = await shardCorpus({
    inputs: config.input,
    format: config.input_format,
    vocab,
    lowercase: config.lowercase,
    outputDir: config.output_dir,
    workers: config.workers,
    force: options.force,
    shardTokens: options.shardTokens,
    indexFormat: options.indexFormat,
    reporter,
  });
  const files = await writeVocabFiles(config.output_dir, vocab, config.lowercase, true);
  reporter.emit({
    type: 'log',
    time: now(),
    message:
      `${summary.documents} documents, ${summary.sentences} sentences, ${summary.tokens} tokens, ` +
      `[UNK] ${(100 * summary.unk_rate).toFixed(4)}% (${summary.unk}) in ${summary.shards} shard(s), ` +
      `${summary.seconds.toFixed(1)} s on ${summary.workers} worker(s)`,
  });
  return { ...files, trainedVocab: trained, summary };
}

export interface TrainVocabOptions {
  inputs: string[];
  outputDir: string;
  lowercase: boolean;
  train?: Partial<VocabTrainConfig>;
  force?: boolean;
}

/** `bert tokenize train`: vocab.txt + tokenizer.json only. */
export async function runTrainVocab(
  options: TrainVocabOptions,
  reporter?: Reporter,
): Promise<{ vocabPath: string; tokenizerJsonPath: string; vocabSize: number }> {
  const vocab = await trainVocab(options.inputs, options.lowercase, options.train, reporter);
  const files = await writeVocabFiles(options.outputDir, vocab, options.lowercase, options.force);
  return { ...files, vocabSize: vocab.size };
}

export interface EncodeCommandOptions {
  vocab: string;
  /** Cased vocabulary: no lower-casing or accent stripping. */
  cased: boolean;
  /** A text file, or '-' for stdin. */
  input: string;
  /** Second segments, line by line with `input`. */
  pairInput?: string;
  format: 'jsonl';
  /** Truncate (longest first) to this many tokens. */
  maxLength?: number;
}

async function readLines(path: string, stdin: NodeJS.ReadableStream | null): Promise<string[]> {
  let text: string;
  if (path === '-') {
    if (stdin === null) throw new UserError('--input -: no standard input');
    const parts: Buffer[] = [];
    for await (const chunk of stdin)
      parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    text = decodeUtf8Strict(Buffer.concat(parts), '<stdin>');
  } else {
    checkInputs([path]);
    text = decodeUtf8Strict(await readFile(path), path);
  }
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * `bert tokenize encode`: one JSON object per input line,
 * `{"tokens":[…],"ids":[…]}` with [CLS]/[SEP] and no padding (pairs add
 * "token_type_ids"). Returns the number of lines written.
 */
export async function runEncode(
  options: EncodeCommandOptions,
  out: Writable,
  stdin: NodeJS.ReadableStream | null = null,
): Promise<number> {
  if (options.format !== 'jsonl')
    throw new UserError(`--format: expected jsonl, got ${String(options.format)}`);
  const tokenizer = BertTokenizer.fromVocabFile(options.vocab, { lowercase: !options.cased });
  const a = await readLines(options.input, stdin);
  const b = options.pairInput === undefined ? null : await readLines(options.pairInput, stdin);
  if (b !== null && b.length !== a.length) {
    throw new UserError(
      `${options.pairInput}: ${b.length} lines, but ${options.input} has ${a.length} (expected one pair per line)`,
    );
  }
  let buf = '';
  for (let i = 0; i < a.length; i++) {
    const enc = tokenizer.encode(a[i]!, b === null ? null : b[i]!, {
      maxLength: options.maxLength,
    });
    const rec: Record<string, unknown> = { tokens: tokenizer.idsToTokens(enc.ids), ids: enc.ids };
    if (b !== null) rec.token_type_ids = enc.tokenTypeIds;
    buf += JSON.stringify(rec) + '\n';
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      buf = '';
    }
  }
  if (buf) out.write(buf);
  return a.length;
}
