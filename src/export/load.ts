/**
 * Load a whole BERT directory — one of our checkpoints (or a run directory,
 * meaning its latest) or a HuggingFace model directory (config.json +
 * model.safetensors + vocab.txt) — as a model, its config, vocabulary and
 * lower-casing. Shared by `bert export`, `bert embed`, `pretrain --init-from`
 * and the fine-tuning tasks' starting model (tasks/initial-model.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { bertArchitecture, fromHfConfigJson, type BertConfig } from '../model/config.js';
import type { BertModel } from '../model/bert.js';
import { canonicalName } from '../model/hf.js';
import { modelFromTensors, withoutOtherHeads, type HeadSpec } from '../model/load.js';
import type { BertHeads } from '../model/params.js';
import type { TensorData } from '../io/safetensors.js';
import { readSafetensors } from '../io/safetensors.js';
import { loadVocab, Vocab, SPECIAL_TOKENS } from '../tokenizer/vocab.js';
import { resolveCheckpoint, type CheckpointDir } from '../train/checkpoint.js';
import { isGoogleSource, readGoogleDirectory } from '../google/checkpoint.js';

export interface LoadedBert {
  dir: CheckpointDir;
  model: BertModel;
  config: BertConfig;
  /** config.json as written (labels, task, our `bert` block). */
  configJson: Record<string, unknown>;
  vocab: Vocab;
  /** The vocab.txt it came from; null when it came from tokenizer.json (transformers ≥ 5 writes no vocab.txt). */
  vocabPath: string | null;
  lowercase: boolean;
  heads: BertHeads;
  /** Parameters that were initialised fresh (only with `heads: 'any'` on a headless file). */
  initialized: string[];
}

export interface LoadBertOptions {
  /** Names the flag in error messages (--checkpoint, --from, --init-from). */
  flag: string;
  /**
   * 'exact': every parameter of the detected heads must be in the file (export).
   * 'encoder': only the encoder and pooler must be; missing heads get a fresh
   * init with `seed` (embeddings from a bare BertModel file).
   */
  require: 'exact' | 'encoder';
  seed?: number;
  /** The heads the task needs; without it, the heads the file carries (detectHeads). */
  head?: HeadSpec;
}

/**
 * Which task heads a checkpoint carries: a classifier → BertForSequenceClassification,
 * otherwise BertForPreTraining (or their roberta-prelayernorm classes). Returns the label count for classification.
 */
export function detectHeads(
  tensors: ReadonlyMap<string, TensorData>,
  configJson: Record<string, unknown>,
): { heads: BertHeads; numLabels: number } {
  // A roberta-prelayernorm class counts as the BERT class with the same heads.
  const architectures = (
    Array.isArray(configJson.architectures) ? configJson.architectures : []
  ).map((a) => (typeof a === 'string' ? bertArchitecture(a) : a));
  // Span and token heads (issue #11): qa_outputs, or a classifier over every token.
  for (const name of tensors.keys())
    if (canonicalName(name) === 'qa_outputs.weight')
      return { heads: 'question_answering', numLabels: 2 };
  if (architectures.includes('BertForTokenClassification')) {
    for (const [name, t] of tensors)
      if (canonicalName(name) === 'classifier.weight')
        return { heads: 'token_classification', numLabels: t.shape[0] };
  }
  for (const [name, t] of tensors) {
    if (canonicalName(name) === 'classifier.weight')
      return { heads: 'classification', numLabels: t.shape[0] };
  }
  if (architectures.includes('BertForSequenceClassification')) {
    const labels = configJson.id2label as Record<string, string> | undefined;
    const n =
      typeof configJson.num_labels === 'number'
        ? configJson.num_labels
        : labels
          ? Object.keys(labels).length
          : 2;
    return { heads: 'classification', numLabels: n };
  }
  return { heads: 'pretraining', numLabels: 2 };
}

/** `data.lowercase` of the run a checkpoint belongs to (<run>/checkpoints/step-N), if recorded. */
function runLowercase(dir: string): boolean | undefined {
  const resolved = join(dirname(dirname(dir)), 'config.resolved.yaml');
  if (!existsSync(resolved)) return undefined;
  const cfg = parseYaml(readFileSync(resolved, 'utf8')) as { data?: { lowercase?: unknown } };
  return typeof cfg?.data?.lowercase === 'boolean' ? cfg.data.lowercase : undefined;
}

/** Lower-casing as the checkpoint says (our config.json, or HF's tokenizer_config.json), else the fallback. */
export function checkpointLowercase(
  dir: string,
  config: Record<string, unknown>,
  fallback: boolean,
): boolean {
  const ours = config.bert as { lowercase?: unknown } | undefined;
  if (typeof ours?.lowercase === 'boolean') return ours.lowercase;
  const tc = join(dir, 'tokenizer_config.json');
  if (existsSync(tc)) {
    const v = (JSON.parse(readFileSync(tc, 'utf8')) as { do_lower_case?: unknown }).do_lower_case;
    if (typeof v === 'boolean') return v;
  }
  return fallback;
}

/** An uncased vocabulary has no upper-case letters outside its [SPECIAL] tokens. */
export function vocabLooksCased(vocab: Vocab): boolean {
  return vocab.tokens.some((t) => !/^\[.*\]$/.test(t) && t !== t.toLowerCase());
}

/**
 * Whether text is lower-cased for this model: our config.json's `bert.lowercase`,
 * HF's tokenizer_config.json `do_lower_case`, the run's data.lowercase, else
 * what the vocabulary says (any upper-case token → cased).
 */
export function modelLowercase(
  dir: string,
  configJson: Record<string, unknown>,
  vocab: Vocab,
): boolean {
  const fallback = runLowercase(dir) ?? !vocabLooksCased(vocab);
  return checkpointLowercase(dir, configJson, fallback);
}

/**
 * The WordPiece vocabulary of a HF tokenizer.json (`model.vocab`, token → id),
 * as a Vocab ordered by id; null when the file is absent. Throws when it is
 * not a WordPiece tokenizer or its ids have gaps.
 */
export function vocabFromTokenizerJson(path: string): Vocab | null {
  if (!existsSync(path)) return null;
  const json = JSON.parse(readFileSync(path, 'utf8')) as {
    model?: { type?: string; vocab?: Record<string, number> };
  };
  const model = json.model;
  if (model?.type !== 'WordPiece' || !model.vocab) {
    throw new UserError(
      `${path}: model.type is ${JSON.stringify(model?.type)}, expected a WordPiece tokenizer (BERT)`,
    );
  }
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(model.vocab)) tokens[id] = token;
  const gap = tokens.findIndex((t) => t === undefined);
  if (gap >= 0 || tokens.length !== Object.keys(model.vocab).length) {
    throw new UserError(`${path}: model.vocab has no token with id ${gap >= 0 ? gap : '?'}`);
  }
  const missing = SPECIAL_TOKENS.filter((t) => !(t in model.vocab!));
  if (missing.length > 0) {
    throw new UserError(`${path}: model.vocab lacks the special token(s) ${missing.join(' ')}`);
  }
  return new Vocab(tokens);
}

/** vocab.txt, else the vocabulary inside tokenizer.json. */
function loadDirectoryVocab(
  dir: string,
  flag: string,
  pathArg: string,
): { vocab: Vocab; vocabPath: string | null } {
  const vocabPath = join(dir, 'vocab.txt');
  if (existsSync(vocabPath)) return { vocab: loadVocab(vocabPath), vocabPath };
  const vocab = vocabFromTokenizerJson(join(dir, 'tokenizer.json'));
  if (vocab) return { vocab, vocabPath: null };
  throw new UserError(`${flag} ${pathArg}: no vocab.txt (nor tokenizer.json) in ${dir}`);
}

/** A BERT directory read from disk and checked, before any tensors are made. */
export interface BertDirectory {
  dir: CheckpointDir;
  config: BertConfig;
  configJson: Record<string, unknown>;
  /** model.safetensors as HF-named data (any of the name variants). */
  tensors: Map<string, TensorData>;
  vocab: Vocab;
  /** The vocab.txt it came from; null when it came from tokenizer.json (transformers ≥ 5 writes no vocab.txt). */
  vocabPath: string | null;
  lowercase: boolean;
}

/**
 * Read and check a checkpoint or HF directory: config.json (a BERT config with
 * a supported hidden_act), model.safetensors, the vocabulary (vocab.txt, else
 * tokenizer.json) and its size against vocab_size. `flag` names the
 * command-line flag in errors. Used by loadBertDirectory; other loaders that
 * build their own heads (fine-tuning) can start here too.
 */
export async function readBertDirectory(pathArg: string, flag: string): Promise<BertDirectory> {
  // google-research/bert checkpoints (a directory, its .zip, or google/<name>): src/google/checkpoint.ts.
  if (isGoogleSource(pathArg)) {
    const g = await readGoogleDirectory(pathArg, flag);
    return { ...g, lowercase: modelLowercase(g.dir, g.configJson, g.vocab) };
  }
  const dir = resolveCheckpoint(pathArg, flag);
  if (!existsSync(join(dir, 'model.safetensors'))) {
    const hasBin = existsSync(join(dir, 'pytorch_model.bin'));
    throw new UserError(
      `${flag} ${pathArg}: no model.safetensors${hasBin ? ' (only pytorch_model.bin: re-save it with save_pretrained(safe_serialization=True))' : ''}`,
    );
  }
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) {
    throw new UserError(`${flag} ${pathArg}: no config.json in ${dir}`);
  }
  let configJson: Record<string, unknown>;
  try {
    configJson = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`${configPath}: not valid JSON (${(err as Error).message})`);
  }
  // model_type "bert", or "roberta-prelayernorm" (a pre-LN model); anything else is refused there.
  const config = fromHfConfigJson(configJson, configPath);
  const { vocab, vocabPath } = loadDirectoryVocab(dir, flag, pathArg);
  if (vocab.size !== config.vocab_size) {
    throw new UserError(
      `${flag} ${pathArg}: ${vocabPath ? 'vocab.txt' : 'tokenizer.json'} has ${vocab.size} tokens but config.json says vocab_size ${config.vocab_size}`,
    );
  }
  const tensors = (await readSafetensors(join(dir, 'model.safetensors'))).tensors;
  return {
    dir,
    config,
    configJson,
    tensors,
    vocab,
    vocabPath,
    lowercase: modelLowercase(dir, configJson, vocab),
  };
}

/**
 * Read a directory (readBertDirectory) and build its model (model/load.ts):
 * with the heads the caller's task describes, or the heads the file carries.
 */
export async function loadBertDirectory(
  pathArg: string,
  options: LoadBertOptions,
): Promise<LoadedBert> {
  const d = await readBertDirectory(pathArg, options.flag);
  const head = options.head ?? detectHeads(d.tensors, d.configJson);
  const loaded = modelFromTensors(
    options.head ? withoutOtherHeads(d.tensors, head) : d.tensors,
    d.config,
    head,
    {
      source: join(d.dir, 'model.safetensors'),
      ...(options.require === 'encoder' ? { newHeads: { seed: options.seed ?? 0 } } : {}),
    },
  );
  return {
    dir: d.dir,
    model: loaded.model,
    config: d.config,
    configJson: d.configJson,
    vocab: d.vocab,
    vocabPath: d.vocabPath,
    lowercase: d.lowercase,
    heads: head.heads,
    initialized: loaded.initialized,
  };
}

/**
 * The checkpoint `bert export` reads, loaded whole, once its destination is
 * checked: `--out` must not exist (unless `force`) nor be the checkpoint itself.
 * `out` is the destination as an absolute path.
 */
export async function loadExportSource(options: {
  checkpoint: string;
  out: string;
  force: boolean;
}): Promise<{ out: string; loaded: LoadedBert }> {
  const out = resolve(options.out);
  if (existsSync(out) && !options.force) {
    throw new UserError(`--out ${options.out}: already exists (pass --force to replace it)`);
  }
  const loaded = await loadBertDirectory(options.checkpoint, {
    flag: '--checkpoint',
    require: 'exact',
  });
  if (out === loaded.dir) {
    throw new UserError(`--out ${options.out}: is the checkpoint being exported`);
  }
  return { out, loaded };
}
