// `npm run docs`: regenerate the config reference block in README.md from schemas/.
import { readFileSync, writeFileSync } from 'node:fs';
import { updateReadme } from '../dist/src/config/reference.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = updateReadme(before);
if (after !== before) writeFileSync(path, after);
console.log(
  after === before
    ? 'README.md config reference is up to date'
    : 'README.md config reference updated',
);
