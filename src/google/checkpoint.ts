/**
 * A google-research/bert checkpoint directory — `bert_config.json`,
 * `vocab.txt`, `<prefix>.index` and `<prefix>.data-*` (TensorFlow checkpoint
 * V2) — read as HF-named tensors, and written back from our parameters
 * (`bert export --format tf`). Also accepted: the `.zip` Google publishes
 * (unpacked once into the cache) and the checkpoint prefix itself
 * (`…/bert_model.ckpt`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { writeDirAtomic } from '../io/atomic.js';
import type { TensorData } from '../io/safetensors.js';
import {
  TF_DTYPES,
  readBundleIndex,
  readBundleTensors,
  writeBundle,
  type BundleTensor,
} from '../io/tf-checkpoint/bundle.js';
import { fromHfConfigJson, type BertConfig } from '../model/config.js';
import { parameterSpecs, type BertHeads } from '../model/params.js';
import { cacheRoot } from '../setup/cache.js';
import { extractZipEntry, readZipEntries, type ZipEntry } from '../setup/zip.js';
import { loadVocab, type Vocab } from '../tokenizer/vocab.js';
import { googleToHf, hfToGoogle, isOptimizerState } from './names.js';
import { cachedModelDir, isModelName } from './models.js';

export const GOOGLE_CONFIG = 'bert_config.json';
export const GOOGLE_PREFIX = 'bert_model.ckpt';

export interface GoogleCheckpoint {
  dir: string;
  /** Path prefix of the `.index` / `.data-*` files. */
  prefix: string;
}

/**
 * The checkpoint prefix in `dir`: the only one; else the one TensorFlow's
 * `checkpoint` file names (the latest of a run_pretraining.py output_dir);
 * else bert_model.ckpt; else null.
 */
function findPrefix(dir: string): string | null {
  const prefixes = readdirSync(dir)
    .filter((f) => f.endsWith('.index'))
    .map((f) => f.slice(0, -'.index'.length));
  if (prefixes.length === 0) return null;
  if (prefixes.length === 1) return join(dir, prefixes[0]);
  const state = join(dir, 'checkpoint');
  if (existsSync(state)) {
    const m = /^model_checkpoint_path:\s*"([^"]+)"/m.exec(readFileSync(state, 'utf8'));
    const latest = m ? basename(m[1]) : null;
    if (latest && prefixes.includes(latest)) return join(dir, latest);
  }
  return prefixes.includes(GOOGLE_PREFIX) ? join(dir, GOOGLE_PREFIX) : null;
}

/** A directory holding bert_config.json and a `*.index` checkpoint. */
export function googleCheckpointIn(dir: string): GoogleCheckpoint | null {
  if (!existsSync(join(dir, GOOGLE_CONFIG)) || !statSync(dir).isDirectory()) return null;
  const prefix = findPrefix(dir);
  return prefix ? { dir, prefix } : null;
}

/** Whether `pathArg` names something this module reads (before any reading). */
export function isGoogleSource(pathArg: string): boolean {
  if (isModelName(pathArg)) return true;
  const p = resolve(pathArg);
  if (!existsSync(p))
    return existsSync(`${p}.index`) && existsSync(join(dirname(p), GOOGLE_CONFIG));
  if (statSync(p).isDirectory()) {
    return existsSync(join(p, GOOGLE_CONFIG)) && readdirSync(p).some((f) => f.endsWith('.index'));
  }
  return p.endsWith('.zip');
}

/**
 * The files of the folder in a zip that holds bert_config.json and a
 * `*.index` (top level, or one folder as Google's BERT-Base zips have), or
 * null when there is none. Extract each under its base name.
 */
export function checkpointZipEntries(entries: readonly ZipEntry[]): ZipEntry[] | null {
  const config = entries.find((e) => basename(e.name) === GOOGLE_CONFIG);
  if (!config) return null;
  const inner = dirname(config.name);
  const here = entries.filter((e) => !e.name.endsWith('/') && dirname(e.name) === inner);
  return here.some((e) => e.name.endsWith('.index')) ? here : null;
}

/**
 * Unpack a google-research/bert zip into `<cache>/models/unpacked/<name>-<hash>`
 * (once; the hash covers the zip's path, size and time) and return the checkpoint.
 */
export async function unpackGoogleZip(zipPath: string, flag: string): Promise<GoogleCheckpoint> {
  const abs = resolve(zipPath);
  const entries = await readZipEntries(abs);
  const here = checkpointZipEntries(entries);
  if (!here) {
    throw new UserError(
      `${flag} ${zipPath}: no ${GOOGLE_CONFIG} with a *.ckpt.index beside it in the zip (not a google-research/bert checkpoint)`,
    );
  }
  const st = statSync(abs);
  const hash = createHash('sha256')
    .update(`${abs}\0${st.size}\0${st.mtimeMs}`)
    .digest('hex')
    .slice(0, 12);
  const out = join(cacheRoot(undefined), 'models', 'unpacked', `${basename(abs, '.zip')}-${hash}`);
  if (!existsSync(out)) {
    await writeDirAtomic(out, async (tmp) => {
      for (const e of here) await extractZipEntry(abs, e, join(tmp, basename(e.name)));
    });
  }
  const found = googleCheckpointIn(out);
  if (!found)
    throw new UserError(`${flag} ${zipPath}: unpacked into ${out} but found no checkpoint there`);
  return found;
}

/** Where a Google source lives on disk: a directory, a prefix, a zip or a `google/<name>` model. */
export async function locateGoogleCheckpoint(
  pathArg: string,
  flag: string,
): Promise<GoogleCheckpoint> {
  if (isModelName(pathArg)) {
    const dir = cachedModelDir(pathArg);
    const found = dir ? googleCheckpointIn(dir) : null;
    if (!found) {
      throw new UserError(
        `${flag} ${pathArg}: not downloaded yet (run: bert models fetch ${pathArg})`,
      );
    }
    return found;
  }
  const p = resolve(pathArg);
  if (existsSync(p) && statSync(p).isFile()) return unpackGoogleZip(p, flag);
  if (existsSync(p)) {
    const found = googleCheckpointIn(p);
    if (!found) {
      throw new UserError(
        `${flag} ${pathArg}: no ${GOOGLE_CONFIG} + *.index checkpoint (with several checkpoints, name one: ${join(pathArg, 'model.ckpt-N')})`,
      );
    }
    return found;
  }
  return { dir: dirname(p), prefix: p };
}

/** bert_config.json as an HF-style config: Google's "gelu" is the tanh form (gelu_new). */
export function configFromGoogleJson(
  raw: Record<string, unknown>,
  where: string,
): { config: BertConfig; configJson: Record<string, unknown> } {
  if (raw.hidden_act !== undefined && raw.hidden_act !== 'gelu') {
    throw new UserError(
      `${where}: hidden_act is ${JSON.stringify(raw.hidden_act)}, expected "gelu" (google-research/bert's tanh approximation)`,
    );
  }
  const configJson: Record<string, unknown> = {
    ...raw,
    hidden_act: 'gelu_new',
    model_type: 'bert',
  };
  return { config: fromHfConfigJson(configJson, where), configJson };
}

export interface GoogleDirectory {
  dir: string;
  config: BertConfig;
  configJson: Record<string, unknown>;
  tensors: Map<string, TensorData>;
  vocab: Vocab;
  vocabPath: string;
}

/** The heads a set of mapped names carries: span, classifier, pretraining, or none (encoder only). */
function headsOf(hfNames: ReadonlySet<string>): BertHeads | null {
  if (hfNames.has('qa_outputs.weight') || hfNames.has('qa_outputs.bias'))
    return 'question_answering';
  if (hfNames.has('classifier.weight') || hfNames.has('classifier.bias')) return 'classification';
  if ([...hfNames].some((n) => n.startsWith('cls.'))) return 'pretraining';
  return null;
}

const list = (names: string[]): string =>
  names.length > 8
    ? `${names.slice(0, 8).join(', ')}, … (${names.length} in all)`
    : names.join(', ');

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * Read a Google checkpoint: its config, vocabulary (size checked against the
 * config), and every model variable as an HF-named, HF-shaped tensor. Unknown
 * variables, or variables missing for the heads present, are one UserError.
 */
export async function readGoogleDirectory(pathArg: string, flag: string): Promise<GoogleDirectory> {
  const { dir, prefix } = await locateGoogleCheckpoint(pathArg, flag);
  const configPath = join(dir, GOOGLE_CONFIG);
  if (!existsSync(configPath))
    throw new UserError(`${flag} ${pathArg}: no ${GOOGLE_CONFIG} in ${dir}`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`${configPath}: not valid JSON (${(err as Error).message})`);
  }
  const { config, configJson } = configFromGoogleJson(raw, configPath);
  const vocabPath = join(dir, 'vocab.txt');
  if (!existsSync(vocabPath)) throw new UserError(`${flag} ${pathArg}: no vocab.txt in ${dir}`);
  const vocab = loadVocab(vocabPath);
  if (vocab.size !== config.vocab_size) {
    throw new UserError(
      `${vocabPath}: ${vocab.size} tokens but ${GOOGLE_CONFIG} says vocab_size ${config.vocab_size}`,
    );
  }
  const index = await readBundleIndex(prefix);
  const unknown: string[] = [];
  const model = index.entries.filter((e) => {
    if (isOptimizerState(e.name)) return false;
    if (googleToHf(e.name)) return true;
    unknown.push(e.name);
    return false;
  });
  if (unknown.length > 0) {
    throw new UserError(
      `${prefix}.index: unknown variable(s) ${list(unknown)} (expected google-research/bert names)`,
    );
  }
  const mapped = new Map(model.map((e) => [googleToHf(e.name)!.hf, e]));
  const heads = headsOf(new Set(mapped.keys()));
  const specs = parameterSpecs(config, {
    heads: heads ?? 'pretraining',
    numLabels: mapped.get('classifier.weight')?.shape[0] ?? 2,
  }).filter((spec) => heads !== null || !spec.name.startsWith('cls.'));
  const missing = specs
    .filter((spec) => !mapped.has(spec.name))
    .map((spec) => hfToGoogle(spec.name)?.google ?? spec.name);
  if (missing.length > 0) {
    throw new UserError(`${prefix}.index: missing variable(s) ${list(missing)}`);
  }
  // Shapes against bert_config.json, in Google's layout (kernels [in, out], output_weights [out, in]).
  const wrong: string[] = [];
  for (const spec of specs) {
    const e = mapped.get(spec.name)!;
    const g = hfToGoogle(spec.name)!;
    const hfShape = spec.kind === 'linear' ? [spec.shape[1], spec.shape[0]] : spec.shape;
    const want = g.transpose ? [...hfShape].reverse() : hfShape;
    if (e.dtype !== TF_DTYPES.float32 || e.shape.join() !== want.join()) {
      wrong.push(`${e.name} is ${e.dtypeName} [${e.shape}], expected float32 [${want}]`);
    }
  }
  if (wrong.length > 0) {
    throw new UserError(
      `${prefix}.index: ${list(wrong)} (does ${GOOGLE_CONFIG} belong to this checkpoint?)`,
    );
  }
  const data = await readBundleTensors(index, model);
  const tensors = new Map<string, TensorData>();
  for (const e of model) {
    const { hf, transpose: t } = googleToHf(e.name)!;
    const v = data.get(e.name)!;
    if (t && v.shape.length === 2) {
      tensors.set(hf, {
        dtype: 'float32',
        shape: [v.shape[1], v.shape[0]],
        data: transpose(v.data as Float32Array, v.shape[0], v.shape[1]),
      });
    } else {
      tensors.set(hf, v);
    }
  }
  return { dir, config, configJson, tensors, vocab, vocabPath };
}

/** bert_config.json for our config, with google-research/bert's keys. */
export function googleConfigJson(config: BertConfig): Record<string, unknown> {
  return {
    attention_probs_dropout_prob: config.attention_probs_dropout_prob,
    // google-research/bert knows one GELU (its tanh form); exact-erf models are written as it too.
    hidden_act: 'gelu',
    hidden_dropout_prob: config.hidden_dropout_prob,
    hidden_size: config.hidden_size,
    initializer_range: config.initializer_range,
    intermediate_size: config.intermediate_size,
    max_position_embeddings: config.max_position_embeddings,
    num_attention_heads: config.num_attention_heads,
    num_hidden_layers: config.num_hidden_layers,
    type_vocab_size: config.type_vocab_size,
    vocab_size: config.vocab_size,
  };
}

/** HF-named tensors as Google-named TF tensors (kernels transposed back). */
export function googleTensors(hfTensors: ReadonlyMap<string, TensorData>): BundleTensor[] {
  const out: BundleTensor[] = [];
  for (const [name, t] of hfTensors) {
    const g = hfToGoogle(name);
    if (!g) throw new Error(`no google-research/bert name for ${name}`);
    const data = t.data as Float32Array;
    if (g.transpose) {
      const [rows, cols] = t.shape;
      out.push({
        name: g.google,
        dtype: 'float32',
        shape: [cols, rows],
        data: transpose(data, rows, cols),
      });
    } else {
      out.push({ name: g.google, dtype: 'float32', shape: [...t.shape], data });
    }
  }
  return out;
}

export const GOOGLE_FILES = [
  GOOGLE_CONFIG,
  'vocab.txt',
  `${GOOGLE_PREFIX}.index`,
  `${GOOGLE_PREFIX}.data-00000-of-00001`,
  'checkpoint',
] as const;

/** Write a Google checkpoint directory into `dir` (which exists and is empty). */
export async function writeGoogleDirectory(
  dir: string,
  config: BertConfig,
  hfTensors: ReadonlyMap<string, TensorData>,
  vocab: { path: string | null; text: string },
): Promise<void> {
  await writeBundle(join(dir, GOOGLE_PREFIX), googleTensors(hfTensors));
  await writeFile(
    join(dir, GOOGLE_CONFIG),
    JSON.stringify(googleConfigJson(config), null, 2) + '\n',
  );
  if (vocab.path) await copyFile(vocab.path, join(dir, 'vocab.txt'));
  else await writeFile(join(dir, 'vocab.txt'), vocab.text);
  // What tf.train.latest_checkpoint(dir) reads.
  await writeFile(
    join(dir, 'checkpoint'),
    `model_checkpoint_path: "${GOOGLE_PREFIX}"\nall_model_checkpoint_paths: "${GOOGLE_PREFIX}"\n`,
  );
}
