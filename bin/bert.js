#!/usr/bin/env node
// Thin launcher: everything lives in dist/src/cli (compiled from src/cli).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('bert: not built yet; run `npm run build` in the package folder first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
