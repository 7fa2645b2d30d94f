/** What the span and token task tests share: a tiny config, a collecting reporter, an HF export. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { FinetuneConfig } from '../../src/config/types.js';
import type { BertEvent } from '../../src/ui/events.js';
import type { BackendChoice } from '../../src/backend/select.js';
import { packageRoot } from '../../src/paths.js';
import { exportHf } from '../../src/export/hf.js';
import { readSafetensors } from '../../src/io/safetensors.js';

/** Export a checkpoint for transformers and return its config.json and tensor shapes. */
export async function exported(
  checkpoint: string,
  out: string,
): Promise<{ config: Record<string, unknown>; shapes: Map<string, number[]> }> {
  await exportHf({ checkpoint, out, force: true });
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const { tensors } = await readSafetensors(join(out, 'model.safetensors'));
  return { config, shapes: new Map([...tensors].map(([k, t]) => [k, t.shape])) };
}

/** A 1-layer H32 model from scratch on `dataDir`, 4 steps of 8, every step logged. */
export function tinyConfig(dataDir: string, extra: string[] = []): FinetuneConfig {
  return loadConfig<FinetuneConfig>('finetune', join(packageRoot, 'configs/finetune/glue.yaml'), {
    sets: [
      'from=none',
      'model.hidden_size=32',
      'model.num_hidden_layers=1',
      'model.num_attention_heads=2',
      'model.intermediate_size=64',
      `data_dir=${dataDir}`,
      'max_seq_length=48',
      'train.batch_size=8',
      'train.max_steps=4',
      'train.lr=1e-3',
      'train.log_every=1',
      ...extra,
    ],
  }).config;
}

/** Events into `events`. */
export function reporter(events: BertEvent[]): {
  emit: (e: BertEvent) => void;
  close: () => Promise<void>;
} {
  return { emit: (e) => void events.push(e), close: async () => undefined };
}

/** How the task tests run a fine-tuning: into `runDir`, to the end, its events into `events`. */
export function runToEnd(
  runDir: string,
  backend: BackendChoice,
  events: BertEvent[] = [],
): {
  runDir: string;
  stopAtStep: null;
  reporter: ReturnType<typeof reporter>;
  stopRequested: () => boolean;
  backend: BackendChoice;
} {
  return {
    runDir,
    stopAtStep: null,
    reporter: reporter(events),
    stopRequested: () => false,
    backend,
  };
}
