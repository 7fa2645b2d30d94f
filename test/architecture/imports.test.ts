/**
 * No import cycle between the folders of src/: each folder may use the ones
 * below it (model/ the maths, backend/ registers kernels into tfjs, train/
 * runs the model, cli/ on top; docs/architecture.md has the map), never the
 * other way round. A failure prints each cycle with one import per edge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import {
  describeCycle,
  folderCycles,
  folderGraph,
  relativeImports,
  tangledComponents,
} from './import-graph.js';

test('every kind of import is read: static, type-only, re-export, dynamic, side effect', () => {
  const text = [
    "import { a } from './a.js';",
    "import type { B } from '../b/b.js';",
    "export { c } from '../c/c.js';",
    "const d = await import('../d/d.js');",
    "import '../e/e.js';",
    "import * as tf from '@tensorflow/tfjs-core';",
    "// import { f } from '../f/f.js' in a comment is not an import",
  ].join('\n');
  assert.deepEqual(relativeImports(text).sort(), [
    '../b/b.js',
    '../c/c.js',
    '../d/d.js',
    '../e/e.js',
    './a.js',
  ]);
});

test('cycles between folders are found and printed with the imports that make them', async () => {
  const root = await mkdtemp(join(tmpdir(), 'bert-imports-'));
  const files: Record<string, string> = {
    // model ↔ native, as src/ had it before src/backend.
    'model/ops.ts': "import { active } from '../native/kernels.js';",
    'native/kernels.ts': "import type { Mask } from '../model/mask.js';",
    'model/mask.ts': "import './ops.js';",
    // squad → cli → ner → squad: a three-folder cycle.
    'squad/cli.ts': "import { flags } from '../cli/common.js';",
    'cli/common.ts': "import { tags } from '../ner/tags.js';",
    'ner/tags.ts': "export { spans } from '../squad/spans.js';",
    'squad/spans.ts': "import { UserError } from '../errors.js';",
    // A chain without a cycle, and a top-level file.
    'tokenizer/wordpiece.ts': "import { UserError } from '../errors.js';",
    'data/loader.ts': "import { wordpiece } from '../tokenizer/wordpiece.js';",
    'errors.ts': 'export class UserError extends Error {}',
  };
  try {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text + '\n');
    }
    const graph = folderGraph(root);
    assert.deepEqual(tangledComponents(graph), [
      ['cli', 'ner', 'squad'],
      ['model', 'native'],
    ]);
    assert.deepEqual(folderCycles(graph), [
      ['cli', 'ner', 'squad', 'cli'],
      ['model', 'native', 'model'],
    ]);
    assert.equal(
      describeCycle(graph, ['model', 'native', 'model']),
      [
        'model → native → model',
        '  src/model/ops.ts → src/native/kernels.ts',
        '  src/native/kernels.ts → src/model/mask.ts',
      ].join('\n'),
    );
    assert.ok(graph.get('data')?.has('tokenizer'));
    assert.ok(graph.get('tokenizer')?.has('errors.ts'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('src/ has no import cycle between folders', () => {
  const graph = folderGraph(join(packageRoot, 'src'));
  assert.ok(graph.size > 10, `read only ${graph.size} folders of src/`);
  const cycles = folderCycles(graph);
  assert.deepEqual(
    cycles.map((c) => c.join(' → ')),
    [],
    `import cycles between folders of src/:\n${cycles.map((c) => describeCycle(graph, c)).join('\n')}`,
  );
});
