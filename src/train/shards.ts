/**
 * Token shards for a pretraining config: `data.shards` when it holds shards;
 * otherwise the corpus is tokenized once into a content-addressed cache
 * (runs/.shards/<key>/, key = corpus files, sizes, mtimes, vocab, casing) that
 * every run and `bert data inspect` on the same corpus reuses.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { PretrainDataSection } from '../config/types.js';
import { loadVocab } from '../tokenizer/vocab.js';
import { shardCorpus, sha256Hex } from '../tokenizer/shard-corpus.js';
import { MANIFEST_NAME, type ShardManifest } from '../data/shards.js';
import { now, type Reporter } from '../ui/events.js';

export const SHARD_CACHE = join('runs', '.shards');

/** The cache key of a corpus as data.* describes it (`filesKey` names the files in errors). */
export function shardCacheKey(
  data: PretrainDataSection,
  vocabSha: string,
  filesKey = 'data.corpus',
): string {
  const files = data.corpus.map((p) => {
    const abs = resolve(p);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new UserError(`${filesKey}: ${p}: no such file`);
    }
    if (st.isDirectory())
      throw new UserError(`${filesKey}: ${p}: is a directory, expected a text file`);
    return [abs, st.size, st.mtimeMs];
  });
  const key = JSON.stringify({
    files,
    vocabSha,
    lowercase: data.lowercase,
    format: data.input_format,
  });
  return sha256Hex(key).slice(0, 16);
}

export async function ensureShards(
  data: PretrainDataSection,
  reporter: Reporter,
  key = 'data.corpus',
): Promise<string> {
  // The manifest records the hash of the vocabulary's canonical text (tokens joined by \n).
  const vocab = loadVocab(data.vocab);
  const vocabSha = sha256Hex(vocab.toText());
  const dir = resolve(data.shards ?? join(SHARD_CACHE, shardCacheKey(data, vocabSha, key)));
  const manifestPath = join(dir, MANIFEST_NAME);
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ShardManifest;
    if (manifest.vocab_sha256 && manifest.vocab_sha256 !== vocabSha) {
      throw new UserError(
        `${manifestPath}: shards were encoded with another vocabulary than data.vocab (${data.vocab}); re-tokenize or point data.shards elsewhere`,
      );
    }
    return dir;
  }
  reporter.emit({
    type: 'log',
    time: now(),
    message: `tokenizing ${data.corpus.join(', ')} into ${dir}`,
  });
  const summary = await shardCorpus({
    inputs: data.corpus,
    format: data.input_format,
    vocab,
    lowercase: data.lowercase,
    outputDir: dir,
    workers: 'auto',
    reporter,
  });
  reporter.emit({
    type: 'log',
    time: now(),
    message: `shards: ${summary.documents} documents, ${summary.sentences} sentences, ${summary.tokens} tokens, [UNK] ${(100 * summary.unk_rate).toFixed(2)}%`,
  });
  return dir;
}

/**
 * Shards of `data.heldout_corpus` (which must be set): tokenized like the
 * corpus (same vocab, casing and input format) into the same cache, keyed by
 * the held-out files.
 */
export async function ensureHeldoutShards(
  data: PretrainDataSection,
  reporter: Reporter,
): Promise<string> {
  if (!data.heldout_corpus || data.heldout_corpus.length === 0) {
    throw new UserError('data.heldout_corpus: expected a list of text files');
  }
  return ensureShards(
    { ...data, corpus: data.heldout_corpus, shards: null },
    reporter,
    'data.heldout_corpus',
  );
}
