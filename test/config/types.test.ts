/**
 * The JSON Schemas in schemas/ are the source of every config's shape; the
 * TypeScript views of the loaded configs must say the same. This walks each
 * schema beside its type (read with the TypeScript compiler) and fails on
 * drift: a key only on one side, a key optional in the type although the
 * schema fills it in (or the other way round), or a different set of values
 * (types, enum members, null).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import ts from 'typescript';
import { packageRoot } from '../../src/paths.js';
import { loadSchema, type JsonSchema, type SchemaName } from '../../src/config/schemas.js';

const CONFIG_TYPES: { schema: SchemaName; file: string; type: string }[] = [
  { schema: 'pretrain', file: 'src/config/types.ts', type: 'PretrainConfig' },
  { schema: 'finetune', file: 'src/config/types.ts', type: 'FinetuneConfig' },
  { schema: 'ci', file: 'src/ci/config.ts', type: 'CiConfig' },
  { schema: 'tokenizer', file: 'src/tokenizer/config.ts', type: 'TokenizerConfig' },
];

/** The kinds of value a schema node allows: 'string', 'number', 'null', '"gelu"', 'array', 'object', ... */
function schemaKinds(node: JsonSchema): Set<string> {
  const kinds = new Set<string>();
  for (const alt of (node.anyOf ?? node.oneOf ?? []) as JsonSchema[])
    schemaKinds(alt).forEach((k) => kinds.add(k));
  if (node.enum) for (const v of node.enum) kinds.add(v === null ? 'null' : JSON.stringify(v));
  const types = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
  for (const t of types) {
    if (t === 'integer' || t === 'number') kinds.add('number');
    else if (t === 'string' && node.enum) continue;
    else kinds.add(t);
  }
  return kinds;
}

function isArray(checker: ts.TypeChecker, type: ts.Type): boolean {
  return (checker as unknown as { isArrayType(t: ts.Type): boolean }).isArrayType(type);
}

/** The same kinds for a TypeScript type (undefined left out: optionality is checked apart). */
function typeKinds(checker: ts.TypeChecker, type: ts.Type): Set<string> {
  const kinds = new Set<string>();
  for (const t of type.isUnion() ? type.types : [type]) {
    if (t.flags & ts.TypeFlags.Undefined) continue;
    if (t.isStringLiteral()) kinds.add(JSON.stringify(t.value));
    else if (t.isNumberLiteral()) kinds.add(JSON.stringify(t.value));
    else if (t.flags & ts.TypeFlags.BooleanLike) kinds.add('boolean');
    else if (t.flags & ts.TypeFlags.String) kinds.add('string');
    else if (t.flags & ts.TypeFlags.Number) kinds.add('number');
    else if (t.flags & ts.TypeFlags.Null) kinds.add('null');
    else if (isArray(checker, t)) kinds.add('array');
    else if (t.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection)) kinds.add('object');
    else kinds.add(checker.typeToString(t));
  }
  return kinds;
}

/** The one member of `type` that is an object (or array), for walking into it. */
function member(type: ts.Type, pick: (t: ts.Type) => boolean): ts.Type {
  return (type.isUnion() ? type.types : [type]).find(pick) as ts.Type;
}

/** Every difference between `node` and `type` at and below `path`. */
function drift(checker: ts.TypeChecker, node: JsonSchema, type: ts.Type, path: string): string[] {
  const want = [...schemaKinds(node)].sort();
  const have = [...typeKinds(checker, type)].sort();
  if (want.join() !== have.join()) {
    return [`${path}: the schema allows ${want.join(' | ')}, the type ${have.join(' | ')}`];
  }
  const out: string[] = [];
  if (want.includes('array') && node.items) {
    const array = member(type, (t) => isArray(checker, t)) as ts.TypeReference;
    out.push(...drift(checker, node.items, checker.getTypeArguments(array)[0], `${path}[]`));
  }
  if (!want.includes('object')) return out;
  const object = member(
    type,
    (t) =>
      (t.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection)) !== 0 && !isArray(checker, t),
  );
  if (node.properties) {
    const props = new Map(checker.getPropertiesOfType(object).map((p) => [p.name, p]));
    const required = new Set((node.required as string[] | undefined) ?? []);
    for (const [key, child] of Object.entries(node.properties)) {
      if (key === '$schema') continue;
      const where = path ? `${path}.${key}` : key;
      const prop = props.get(key);
      if (!prop) {
        out.push(`${where}: in the schema, not in the type`);
        continue;
      }
      props.delete(key);
      const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
      const filled = child.default !== undefined || required.has(key);
      if (optional === filled) {
        out.push(
          filled
            ? `${where}: optional in the type, but the schema always fills it in`
            : `${where}: required in the type, but the schema has no default for it`,
        );
      }
      out.push(...drift(checker, child, checker.getTypeOfSymbol(prop), where));
    }
    for (const key of props.keys())
      out.push(`${path ? `${path}.` : ''}${key}: in the type, not in the schema`);
  } else if (typeof node.additionalProperties === 'object') {
    const values = checker.getIndexTypeOfType(object, ts.IndexKind.String);
    if (!values)
      out.push(`${path}: the schema maps names to values, the type has no index signature`);
    else out.push(...drift(checker, node.additionalProperties, values, `${path}.*`));
  }
  return out;
}

function program(): ts.Program {
  const files = [...new Set(CONFIG_TYPES.map((c) => join(packageRoot, c.file)))];
  return ts.createProgram(files, {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
  });
}

/** The type `name` exported by `source`. */
function exportedType(checker: ts.TypeChecker, source: ts.SourceFile, name: string): ts.Type {
  const module = checker.getSymbolAtLocation(source);
  const symbol = module && checker.getExportsOfModule(module).find((s) => s.name === name);
  assert.ok(symbol, `${source.fileName}: no exported type ${name}`);
  return checker.getDeclaredTypeOfSymbol(symbol);
}

test('drift between a schema and a type is found and named by key', () => {
  const p = ts.createProgram({
    rootNames: ['drift.ts'],
    options: { strict: true, types: [] },
    host: (() => {
      const host = ts.createCompilerHost({ strict: true });
      const text = [
        'export interface Train {',
        "  lr_schedule: 'linear' | 'cosine';",
        '  seed: number;',
        '  warmup_steps: number;',
        '  eval_every?: number;',
        '  extra: string;',
        '}',
        'export interface Config { name: string | null; train: Train; corpus: number[] }',
      ].join('\n');
      const read = host.getSourceFile;
      host.getSourceFile = (name, version) =>
        name === 'drift.ts'
          ? ts.createSourceFile(name, text, ts.ScriptTarget.ES2022)
          : read.call(host, name, version);
      return host;
    })(),
  });
  const checker = p.getTypeChecker();
  const config = exportedType(checker, p.getSourceFile('drift.ts') as ts.SourceFile, 'Config');
  const schema: JsonSchema = {
    type: 'object',
    properties: {
      name: { type: 'string', default: 'x' },
      corpus: { type: 'array', items: { type: 'string' }, default: [] },
      train: {
        type: 'object',
        default: {},
        properties: {
          lr_schedule: { enum: ['linear', 'cosine', 'constant'], default: 'linear' },
          seed: { type: 'integer', default: 42 },
          warmup_steps: { type: ['integer', 'null'], default: null },
          eval_every: { type: 'integer', default: 100 },
          max_steps: { type: 'integer', default: 10 },
        },
      },
    },
  };
  assert.deepEqual(drift(checker, schema, config, '').sort(), [
    'corpus[]: the schema allows string, the type number',
    'name: the schema allows string, the type null | string',
    'train.eval_every: optional in the type, but the schema always fills it in',
    'train.extra: in the type, not in the schema',
    'train.lr_schedule: the schema allows "constant" | "cosine" | "linear", the type "cosine" | "linear"',
    'train.max_steps: in the schema, not in the type',
    'train.warmup_steps: the schema allows null | number, the type number',
  ]);
});

test('every config type says what its schema says: keys, optional keys, values', () => {
  const p = program();
  const checker = p.getTypeChecker();
  const found: string[] = [];
  for (const { schema, file, type } of CONFIG_TYPES) {
    const source = p.getSourceFile(join(packageRoot, file));
    assert.ok(source, `${file} not read`);
    const problems = drift(checker, loadSchema(schema), exportedType(checker, source, type), '');
    found.push(
      ...problems.map((line) => `schemas/${schema}.schema.json vs ${file} ${type}: ${line}`),
    );
  }
  assert.deepEqual(found, [], found.join('\n'));
});
