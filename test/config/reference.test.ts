import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { updateReadme, configReference } from '../../src/config/reference.js';

test('the README config reference matches the schemas (run `npm run docs` after a schema change)', () => {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  assert.equal(updateReadme(readme), readme);
});

test('the reference lists nested keys with their defaults', () => {
  const ref = configReference();
  assert.match(ref, /\| `train\.lr_schedule` \| linear \\\| cosine \\\| constant \| `"linear"` \|/);
  assert.match(ref, /\| `data\.masked_lm_prob` \| number \| `0\.15` \|/);
});
