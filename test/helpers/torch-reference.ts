/**
 * The PyTorch reference forward (test/fixtures/python/bert_forward_torch.py)
 * that the parity and export tests compare against, transformers' Auto classes
 * (test/fixtures/python/hf_auto_forward.py) for the pre-LN export, and the
 * Python that runs them: /usr/bin/python3 (CI installs Debian's python3-torch), or
 * BERT_TEST_PYTHON where torch lives elsewhere (a virtual environment).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env.BERT_TEST_PYTHON ?? '/usr/bin/python3';

// dist/test/helpers/ → the repository's test/fixtures/python/.
export const TORCH_REFERENCE = fileURLToPath(
  new URL('../../../test/fixtures/python/bert_forward_torch.py', import.meta.url),
);

/** Why the PyTorch checks cannot run here, or null when they can. */
export function torchMissing(): string | null {
  if (!existsSync(PYTHON))
    return `${PYTHON} not found (set BERT_TEST_PYTHON to a python with torch)`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const why = r.error?.message ?? r.stderr.trim().split('\n').pop();
  return `${PYTHON} has no torch (Debian: apt-get install -y python3-torch, or set BERT_TEST_PYTHON): ${why}`;
}

// dist/test/helpers/ → the repository's test/fixtures/python/.
export const HF_AUTO_FORWARD = fileURLToPath(
  new URL('../../../test/fixtures/python/hf_auto_forward.py', import.meta.url),
);

/** Why the transformers checks cannot run here (no torch, or no transformers), or null when they can. */
export function transformersMissing(): string | null {
  const torch = torchMissing();
  if (torch) return torch;
  const r = spawnSync(PYTHON, ['-c', 'import transformers'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const why = r.error?.message ?? r.stderr.trim().split('\n').pop();
  return `${PYTHON} has no transformers (set BERT_TEST_PYTHON to a python with torch and transformers): ${why}`;
}
