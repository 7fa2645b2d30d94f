/**
 * Independent reference values from scikit-learn and scipy, computed by
 * /usr/bin/python3 on the same vectors (Debian python3-sklearn / python3-scipy),
 * and a runner for the small Python re-implementations the metric tests carry.
 */
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/**
 * What `script`, run by /usr/bin/python3 with `input` as JSON on stdin, prints
 * as JSON; undefined after skipping `t` when python3 cannot run it here.
 */
export function pythonReference<T>(t: TestContext, script: string, input: unknown): T | undefined {
  const r = spawnSync('/usr/bin/python3', ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
  });
  if (r.error || r.status !== 0) {
    t.skip(`/usr/bin/python3 unavailable: ${r.error?.message ?? r.stderr}`);
    return undefined;
  }
  return JSON.parse(r.stdout) as T;
}

export interface ClassificationCase {
  readonly pred: number[];
  readonly gold: number[];
}
export interface CorrelationCase {
  readonly x: number[];
  readonly y: number[];
}
export interface ReferenceValues {
  readonly accuracy: (number | null)[];
  readonly f1: (number | null)[];
  readonly mcc: (number | null)[];
  readonly pearson: (number | null)[];
  readonly spearman: (number | null)[];
}

const SCRIPT = `
import json, sys, math, warnings
warnings.simplefilter('ignore')
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef
from scipy.stats import pearsonr, spearmanr
data = json.load(sys.stdin)
def num(v):
    v = float(v)
    return None if math.isnan(v) else v
out = {'accuracy': [], 'f1': [], 'mcc': [], 'pearson': [], 'spearman': []}
for c in data['cls']:
    out['accuracy'].append(num(accuracy_score(c['gold'], c['pred'])))
    binary = set(c['gold']) | set(c['pred']) <= {0, 1}
    out['f1'].append(num(f1_score(c['gold'], c['pred'], pos_label=1, average='binary')) if binary else None)
    out['mcc'].append(num(matthews_corrcoef(c['gold'], c['pred'])))
for c in data['corr']:
    out['pearson'].append(num(pearsonr(c['x'], c['y'])[0]))
    out['spearman'].append(num(spearmanr(c['x'], c['y'])[0]))
json.dump(out, sys.stdout)
`;

/** Reference values, or a string saying why they cannot be computed here. */
export function sklearnReference(
  cls: readonly ClassificationCase[],
  corr: readonly CorrelationCase[],
): ReferenceValues | string {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import sklearn, scipy'], {
    encoding: 'utf8',
  });
  if (probe.error) return `/usr/bin/python3 not available (${probe.error.message})`;
  if (probe.status !== 0)
    return `python3-sklearn / python3-scipy not installed: ${probe.stderr.trim().split('\n').pop()}`;
  const res = spawnSync('/usr/bin/python3', ['-c', SCRIPT], {
    input: JSON.stringify({ cls, corr }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`reference script failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as ReferenceValues;
}
