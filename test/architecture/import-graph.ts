/**
 * The import graph of src/ between folders: every import (static, dynamic,
 * `import type`, `export … from`) of every src/**\/*.ts(x), as TypeScript's
 * own pre-processor reads it, folded to the folder under src/ it lands in
 * (src/cli/commands/x.ts → cli; a file directly in src/ is its own node,
 * e.g. errors.ts). Used by imports.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** One import between two folders, with the files that make it. */
export interface FolderEdge {
  from: string;
  to: string;
  /** "src/a/x.ts → src/b/y.ts" for each import that makes the edge. */
  imports: string[];
}

export type FolderGraph = Map<string, Map<string, FolderEdge>>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The folder (or top-level file) under `srcDir` that `file` belongs to. */
export function folderOf(srcDir: string, file: string): string {
  return relative(srcDir, file).split(sep)[0];
}

/** Relative import specifiers of one source text ('./x.js', '../y/z.js'). */
export function relativeImports(text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((name) => name.startsWith('./') || name.startsWith('../'));
}

/** The folder-level graph of every src file's relative imports that stay inside srcDir. */
export function folderGraph(srcDir: string): FolderGraph {
  const root = resolve(srcDir);
  const graph: FolderGraph = new Map();
  for (const file of sourceFiles(root)) {
    const from = folderOf(root, file);
    if (!graph.has(from)) graph.set(from, new Map());
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      if (!target.startsWith(root + sep)) continue;
      const to = folderOf(root, target);
      if (to === from) continue;
      const edges = graph.get(from) as Map<string, FolderEdge>;
      const edge = edges.get(to) ?? { from, to, imports: [] };
      edge.imports.push(`src/${relative(root, file)} → src/${relative(root, target)}`);
      edges.set(to, edge);
      if (!graph.has(to)) graph.set(to, new Map());
    }
  }
  return graph;
}

/** Strongly connected components with more than one member (Tarjan), members sorted. */
export function tangledComponents(graph: FolderGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** The shortest path from `start` to `goal` that stays inside `members` (breadth first). */
function shortestPath(
  graph: FolderGraph,
  start: string,
  goal: string,
  members: Set<string>,
): string[] {
  const previous = new Map<string, string>([[start, start]]);
  let frontier = [start];
  while (frontier.length && !previous.has(goal)) {
    const next: string[] = [];
    for (const v of frontier) {
      for (const w of [...(graph.get(v)?.keys() ?? [])].sort()) {
        if (!members.has(w) || previous.has(w)) continue;
        previous.set(w, v);
        next.push(w);
      }
    }
    frontier = next;
  }
  if (!previous.has(goal)) return [];
  const path = [goal];
  while (path[0] !== start) path.unshift(previous.get(path[0]) as string);
  return path;
}

/**
 * For every import edge inside a tangled component, the shortest cycle that
 * uses it, rotated to start at its alphabetically first folder and without
 * repeats, e.g. ['model', 'native', 'model']: every edge that has to go is
 * in at least one printed cycle.
 */
export function folderCycles(graph: FolderGraph): string[][] {
  const seen = new Map<string, string[]>();
  for (const component of tangledComponents(graph)) {
    const members = new Set(component);
    for (const from of component) {
      for (const to of graph.get(from)?.keys() ?? []) {
        if (!members.has(to)) continue;
        const back = shortestPath(graph, to, from, members);
        if (!back.length) continue;
        const cycle = [from, ...back.slice(0, -1)];
        const first = cycle.indexOf([...cycle].sort()[0]);
        const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
        seen.set(rotated.join(' → '), [...rotated, rotated[0]]);
      }
    }
  }
  return [...seen.keys()].sort().map((k) => seen.get(k) as string[]);
}

/** A cycle as lines: "model → native → model", then one file-level import per edge. */
export function describeCycle(graph: FolderGraph, cycle: string[]): string {
  const lines = [cycle.join(' → ')];
  for (let i = 0; i + 1 < cycle.length; i++) {
    const edge = graph.get(cycle[i])?.get(cycle[i + 1]);
    const imports = edge?.imports ?? [];
    const more = imports.length > 1 ? ` (and ${imports.length - 1} more)` : '';
    lines.push(`  ${imports[0] ?? `${cycle[i]} → ${cycle[i + 1]}`}${more}`);
  }
  return lines.join('\n');
}
