/**
 * `bert export --format hf`: a checkpoint as a HuggingFace model directory
 * that transformers' `from_pretrained` loads with no missing or unexpected keys:
 *
 *   config.json              BertConfig fields, architectures, model_type "bert"
 *                            (+ id2label/label2id/num_labels for classifiers)
 *   model.safetensors        BertForPreTraining / BertForSequenceClassification names and
 *                            [out, in] shapes; metadata format "pt" (transformers requires it)
 *   vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json
 *
 * A pre-LN model (model.layer_norm: pre) is written as HF's roberta-prelayernorm
 * (model_type, RobertaPreLayerNormFor* classes and names, model/hf.ts); its
 * masked-LM class has no pooler nor NSP head, so a pretraining model's are left out.
 *
 * A tied MLM decoder (cls.predictions.decoder.weight/bias) is left out, as
 * transformers' own save_pretrained does: it re-ties both on load. An untied one
 * (model.tie_word_embeddings: false) is written with tie_word_embeddings false. No optimizer
 * state, no trainer_state.json. Written into a temporary sibling and renamed.
 */
import { existsSync } from 'node:fs';
import { copyFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempSibling, writeDirAtomic } from '../io/atomic.js';
import { writeSafetensors, type TensorData } from '../io/safetensors.js';
import { hfClassName, toHfConfigJson, type BertConfig } from '../model/config.js';
import { toHfTensors } from '../model/hf.js';
import { countParameters, type BertHeads } from '../model/params.js';
import {
  specialTokensMapJson,
  tokenizerConfigJson,
  tokenizerJsonText,
} from '../tokenizer/tokenizer-json.js';
import { loadExportSource, type LoadedBert } from './load.js';

export const HF_FILES = [
  'config.json',
  'model.safetensors',
  'vocab.txt',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
] as const;

/** Keys of a fine-tuned config.json that transformers reads for a classifier. */
const CLASSIFIER_KEYS = ['id2label', 'label2id', 'finetuning_task', 'problem_type'] as const;

/** config.json for the exported model: BertConfig fields + what picks the class + labels. */
export function exportConfigJson(
  config: BertConfig,
  heads: BertHeads,
  numLabels: number,
  source: Record<string, unknown>,
): Record<string, unknown> {
  const extra: Record<string, unknown> = {
    position_embedding_type: 'absolute',
    classifier_dropout: null,
    use_cache: true,
    torch_dtype: 'float32',
  };
  if (heads === 'classification' || heads === 'token_classification') {
    extra.num_labels = numLabels;
    for (const k of CLASSIFIER_KEYS) if (source[k] !== undefined) extra[k] = source[k];
    if (extra.id2label === undefined) {
      const names = Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`);
      extra.id2label = Object.fromEntries(names.map((n, i) => [String(i), n]));
      extra.label2id = Object.fromEntries(names.map((n, i) => [n, i]));
    }
  }
  // Provenance (task, data dir, sequence length): transformers keeps unknown keys as attributes.
  if (source.bert !== undefined) extra.bert = source.bert;
  // toHfConfigJson names the roberta-prelayernorm class of a pre-LN model.
  return toHfConfigJson(config, 'BertForPreTraining', {
    ...extra,
    architectures: [bertClass(heads)],
  });
}

/** The BERT class of these heads. */
function bertClass(heads: BertHeads): string {
  switch (heads) {
    case 'classification':
      return 'BertForSequenceClassification';
    case 'question_answering':
      return 'BertForQuestionAnswering';
    case 'token_classification':
      return 'BertForTokenClassification';
    case 'pretraining':
      return 'BertForPreTraining';
  }
}

/** The transformers class that loads a model with these heads (a pre-LN model: the roberta-prelayernorm one). */
export function hfArchitecture(heads: BertHeads, config: BertConfig): string {
  return hfClassName(bertClass(heads), config.layer_norm);
}

/**
 * The model's tensors under HF names and shapes, in HF's order. A pre-LN
 * pretraining model is written as RobertaPreLayerNormForMaskedLM, which has
 * no pooler and no NSP head: those two are left out.
 */
export async function exportTensors(
  loaded: Pick<LoadedBert, 'model'>,
): Promise<Map<string, TensorData>> {
  const tensors = await toHfTensors(loaded.model.params);
  if (loaded.model.config.layer_norm === 'pre' && loaded.model.heads === 'pretraining') {
    for (const name of [...tensors.keys()])
      if (
        name.startsWith('roberta_prelayernorm.pooler.') ||
        name.startsWith('cls.seq_relationship.')
      )
        tensors.delete(name);
  }
  return tensors;
}

const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

export interface ExportOptions {
  checkpoint: string;
  out: string;
  force: boolean;
}

export interface ExportResult {
  out: string;
  source: string;
  architecture: string;
  parameters: number;
  files: string[];
}

/** Write the HF directory for an already loaded model into `dir` (which exists and is empty). */
export async function writeHfDirectory(dir: string, loaded: LoadedBert): Promise<void> {
  const numLabels = loaded.model.numLabels;
  await writeSafetensors(join(dir, 'model.safetensors'), await exportTensors(loaded), {
    format: 'pt',
  });
  await writeFile(
    join(dir, 'config.json'),
    json(exportConfigJson(loaded.config, loaded.heads, numLabels, loaded.configJson)),
  );
  // The original bytes when there is a vocab.txt; else the tokens tokenizer.json held.
  if (loaded.vocabPath) await copyFile(loaded.vocabPath, join(dir, 'vocab.txt'));
  else await writeFile(join(dir, 'vocab.txt'), loaded.vocab.toText());
  await writeFile(
    join(dir, 'tokenizer.json'),
    tokenizerJsonText(loaded.vocab, { lowercase: loaded.lowercase }),
  );
  await writeFile(
    join(dir, 'tokenizer_config.json'),
    json(tokenizerConfigJson(loaded.lowercase, loaded.config.max_position_embeddings)),
  );
  await writeFile(join(dir, 'special_tokens_map.json'), json(specialTokensMapJson()));
}

/** `bert export --format hf`. */
export async function exportHf(options: ExportOptions): Promise<ExportResult> {
  const { out, loaded } = await loadExportSource(options);
  const parameters = countParameters(loaded.model.params);
  try {
    if (existsSync(out)) {
      // --force: build the new directory first; the old one is replaced only once it is complete.
      const fresh = tempSibling(out);
      await writeDirAtomic(fresh, (tmp) => writeHfDirectory(tmp, loaded));
      const old = tempSibling(out);
      await rename(out, old);
      await rename(fresh, out);
      await rm(old, { recursive: true, force: true });
    } else {
      await writeDirAtomic(out, (tmp) => writeHfDirectory(tmp, loaded));
    }
  } finally {
    for (const v of loaded.model.params.values()) v.dispose();
  }
  return {
    out,
    source: loaded.dir,
    architecture: hfArchitecture(loaded.heads, loaded.config),
    parameters,
    files: [...HF_FILES],
  };
}
