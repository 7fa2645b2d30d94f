/**
 * The pretrained checkpoints google-research/bert publishes (its README's
 * download links) under short names, and where `bert models fetch` keeps them:
 * `<cache>/models/<name>/` (cache as for `bert setup`: BERT_CACHE_DIR, else
 * $XDG_CACHE_HOME/bert, else ~/.cache/bert), holding the unpacked checkpoint
 * and a `bert-model.json` manifest written last (its presence = complete).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../setup/cache.js';

export const GOOGLE_STORAGE = 'https://storage.googleapis.com';
export const MODEL_MANIFEST = 'bert-model.json';

export interface KnownModel {
  /** `google/<id>`. */
  name: string;
  /** Path under the storage host (`bert_models/…zip`). */
  path: string;
  layers: number;
  hidden: number;
  heads: number;
  cased: boolean;
  description: string;
}

const SMALL_NAMES: Record<string, string> = {
  '2_128': 'BERT-Tiny',
  '4_256': 'BERT-Mini',
  '4_512': 'BERT-Small',
  '8_512': 'BERT-Medium',
  '12_768': 'BERT-Base (2020 re-training)',
};

function smallBerts(): KnownModel[] {
  const out: KnownModel[] = [];
  for (const layers of [2, 4, 6, 8, 10, 12]) {
    for (const hidden of [128, 256, 512, 768]) {
      const heads = hidden / 64;
      const id = `uncased_L-${layers}_H-${hidden}_A-${heads}`;
      out.push({
        name: `google/bert_${id}`,
        path: `bert_models/2020_02_20/${id}.zip`,
        layers,
        hidden,
        heads,
        cased: false,
        description:
          SMALL_NAMES[`${layers}_${hidden}`] ?? `small BERT ${layers}/${hidden} (Turc et al. 2019)`,
      });
    }
  }
  return out;
}

function original(
  name: string,
  path: string,
  layers: number,
  hidden: number,
  heads: number,
  cased: boolean,
  description: string,
): KnownModel {
  return { name: `google/${name}`, path, layers, hidden, heads, cased, description };
}

export const KNOWN_MODELS: readonly KnownModel[] = [
  ...smallBerts(),
  original(
    'bert-base-uncased',
    'bert_models/2018_10_18/uncased_L-12_H-768_A-12.zip',
    12,
    768,
    12,
    false,
    'BERT-Base, Uncased',
  ),
  original(
    'bert-large-uncased',
    'bert_models/2018_10_18/uncased_L-24_H-1024_A-16.zip',
    24,
    1024,
    16,
    false,
    'BERT-Large, Uncased',
  ),
  original(
    'bert-base-cased',
    'bert_models/2018_10_18/cased_L-12_H-768_A-12.zip',
    12,
    768,
    12,
    true,
    'BERT-Base, Cased',
  ),
  original(
    'bert-large-cased',
    'bert_models/2018_10_18/cased_L-24_H-1024_A-16.zip',
    24,
    1024,
    16,
    true,
    'BERT-Large, Cased',
  ),
  original(
    'bert-base-multilingual-cased',
    'bert_models/2018_11_23/multi_cased_L-12_H-768_A-12.zip',
    12,
    768,
    12,
    true,
    'BERT-Base, Multilingual Cased (104 languages)',
  ),
];

/** `google/<something>`: a model name rather than a path. */
export function isModelName(arg: string): boolean {
  return /^google\/[A-Za-z0-9_.-]+$/.test(arg);
}

export function knownModel(name: string): KnownModel | undefined {
  return KNOWN_MODELS.find((m) => m.name === name);
}

export function modelsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(undefined, env), 'models');
}

/** `<cache>/models/<id>` for `google/<id>`. */
export function modelDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(modelsCacheDir(env), name.replace(/^google\//, ''));
}

export interface ModelManifest {
  name: string;
  url: string;
  bytes: number;
  sha256: string;
  fetched: string;
}

/** The cached checkpoint directory of a model, or null when it is not (completely) there. */
export function cachedModelDir(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = modelDir(name, env);
  return existsSync(join(dir, MODEL_MANIFEST)) ? dir : null;
}

export function readModelManifest(dir: string): ModelManifest | null {
  try {
    return JSON.parse(readFileSync(join(dir, MODEL_MANIFEST), 'utf8')) as ModelManifest;
  } catch {
    return null;
  }
}
