/** Where the package itself lives (for schemas/, configs/, data/ shipped with it). */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('bert: cannot find the package root');
    dir = up;
  }
  return dir;
}

export const packageRoot = findRoot();
