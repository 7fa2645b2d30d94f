/**
 * Code comments in src/ point only at files inside the repository: a reader
 * of a clone has nothing else. Fails on a `../` path that leaves the
 * repository or names nothing in it (e.g. ../shared/notes/x.md) and on a
 * Markdown file that is not in it (e.g. a design note, DESIGN.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { packageRoot } from '../../src/paths.js';

/** The text of every comment in a TypeScript source, with its 1-based line. */
function comments(text: string): { line: number; text: string }[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.JSX, text);
  const out: { line: number; text: string }[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (
      kind === ts.SyntaxKind.SingleLineCommentTrivia ||
      kind === ts.SyntaxKind.MultiLineCommentTrivia
    ) {
      const line = text.slice(0, scanner.getTokenStart()).split('\n').length;
      out.push({ line, text: scanner.getTokenText() });
    }
  }
  return out;
}

const PATH = /(?:\.\.\/)+[\w.@-]+(?:\/[\w.@*-]+)*|[\w.@-]+(?:\/[\w.@-]+)*\.md\b/g;

/**
 * The paths a comment names that are not in the repository at `root`, the
 * comment being in `file`: tried relative to the file, to the root, and for
 * a bare Markdown name to docs/.
 */
function pathsOutside(root: string, file: string, comment: string): string[] {
  const bad: string[] = [];
  for (const [path] of comment.matchAll(PATH)) {
    const trimmed = path.replace(/[.*]+$/, '');
    const candidates = [resolve(dirname(file), trimmed), resolve(root, trimmed)];
    if (!trimmed.includes('/')) candidates.push(resolve(root, 'docs', trimmed));
    const inside = candidates.some(
      (c) => (c === root || c.startsWith(root + sep)) && existsSync(c),
    );
    if (!inside) bad.push(trimmed);
  }
  return bad;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(e.name) ? [path] : [];
  });
}

test('a comment path is checked against the repository, not the machine', () => {
  const file = join(packageRoot, 'src', 'model', 'ops.ts');
  const check = (comment: string): string[] => pathsOutside(packageRoot, file, comment);
  assert.deepEqual(check('/* (../shared/notes/tfjs-wasm.md): WASM slow paths */'), [
    '../shared/notes/tfjs-wasm.md',
  ]);
  assert.deepEqual(check('// Compute backends (DESIGN.md)'), ['DESIGN.md']);
  assert.deepEqual(check('// see ../../../notes/plan.txt'), ['../../../notes/plan.txt']);
  assert.deepEqual(check('// see ../../package.json'), []);
  assert.deepEqual(check('// see README.md, docs/events.md, events.md and ./bert.ts'), []);
  assert.deepEqual(check('// the gradients live in ../model/gradients.ts'), []);
  assert.deepEqual(comments('const a = "../shared/x.md"; // one\n/* two\n three */ const b = 1;'), [
    { line: 1, text: '// one' },
    { line: 2, text: '/* two\n three */' },
  ]);
});

test('comments in src/ point only at files inside the repository', () => {
  const root = resolve(packageRoot);
  const found: string[] = [];
  for (const file of sourceFiles(join(root, 'src'))) {
    for (const c of comments(readFileSync(file, 'utf8'))) {
      c.text.split('\n').forEach((text, i) => {
        for (const path of pathsOutside(root, file, text)) {
          found.push(`${relative(root, file)}:${c.line + i}: ${path}`);
        }
      });
    }
  }
  assert.deepEqual(found, [], `comments that point outside the repository:\n${found.join('\n')}`);
});
