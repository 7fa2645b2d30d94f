/**
 * `bert export --format tf`: a checkpoint as a google-research/bert directory
 * (bert_config.json, vocab.txt, bert_model.ckpt.index/.data-00000-of-00001,
 * checkpoint) that `tf.train.load_checkpoint` reads with Google's names and
 * shapes and run_classifier.py / run_pretraining.py take as --init_checkpoint.
 */
import { UserError } from '../errors.js';
import { replaceDirAtomic } from '../io/atomic.js';
import { loadExportSource } from './load.js';
import { toHfTensors } from '../model/hf.js';
import { countParameters } from '../model/params.js';
import { GOOGLE_FILES, writeGoogleDirectory } from '../google/checkpoint.js';

export interface ExportTfResult {
  out: string;
  source: string;
  variables: number;
  parameters: number;
  files: string[];
  /** Things the user should know (an exact-GELU model written as Google's tanh GELU). */
  notes: string[];
}

export async function exportTf(options: {
  checkpoint: string;
  out: string;
  force: boolean;
}): Promise<ExportTfResult> {
  const { out, loaded } = await loadExportSource(options);
  if (loaded.config.layer_norm === 'pre') {
    for (const v of loaded.model.params.values()) v.dispose();
    throw new UserError(
      `--checkpoint ${options.checkpoint}: a pre-LN model (layer_norm: pre) has no google-research/bert layout; export it with --format hf (roberta-prelayernorm)`,
    );
  }
  const notes: string[] = [];
  if (loaded.config.hidden_act === 'gelu') {
    notes.push(
      'hidden_act: this model uses the exact (erf) GELU; google-research/bert computes "gelu" with its tanh approximation (outputs differ slightly there)',
    );
  }
  if (loaded.heads === 'token_classification') {
    notes.push('token classifier written as output_weights/output_bias (run_classifier names)');
  }
  const tensors = await toHfTensors(loaded.model.params);
  const parameters = countParameters(loaded.model.params);
  try {
    await replaceDirAtomic(out, (tmp) =>
      writeGoogleDirectory(tmp, loaded.config, tensors, {
        path: loaded.vocabPath,
        text: loaded.vocab.toText(),
      }),
    );
  } finally {
    for (const v of loaded.model.params.values()) v.dispose();
  }
  return {
    out,
    source: loaded.dir,
    variables: tensors.size,
    parameters,
    files: [...GOOGLE_FILES],
    notes,
  };
}
