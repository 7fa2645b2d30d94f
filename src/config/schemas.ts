/**
 * The JSON Schemas of the configs, published as files in schemas/ so editors
 * validate configs too (`# yaml-language-server: $schema=../../schemas/pretrain.schema.json`).
 */
import { readFileSync } from 'node:fs';
import { packageRoot } from '../paths.js';
import { join } from 'node:path';

export const SCHEMA_NAMES = ['tokenizer', 'pretrain', 'finetune', 'ci'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** The subset of JSON Schema the config code walks (ajv sees the whole of it). */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  additionalProperties?: boolean | JsonSchema;
  [k: string]: unknown;
}

const cache = new Map<SchemaName, JsonSchema>();

export function schemaPath(name: SchemaName): string {
  return join(packageRoot, 'schemas', `${name}.schema.json`);
}

export function loadSchema(name: SchemaName): JsonSchema {
  let s = cache.get(name);
  if (!s) {
    s = JSON.parse(readFileSync(schemaPath(name), 'utf8')) as JsonSchema;
    cache.set(name, s);
  }
  return s;
}

/** The values the schema's enum at `path` allows (e.g. 'pretrain', ['data', 'pad_to']), in its order. */
export function schemaEnum<T>(name: SchemaName, path: readonly string[]): readonly T[] {
  let node: JsonSchema | undefined = loadSchema(name);
  for (const key of path) node = node?.properties?.[key];
  if (!node?.enum) throw new Error(`${schemaPath(name)}: no enum at ${path.join('.')}`);
  return node.enum as T[];
}

/** An enum's values as a one-line error lists them: `"a", "b" or "c"`. */
export function expectedValues(values: readonly unknown[]): string {
  const quoted = values.map((v) => JSON.stringify(v));
  return quoted.length < 2
    ? quoted.join('')
    : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/**
 * The defaults the schema gives the properties of the object at `path`
 * (e.g. 'pretrain', ['data']): how code that runs without a config file
 * (tests, benchmarks, `bert tokenize train`) gets the same defaults as a
 * loaded config. Properties without a default are left out.
 */
export function schemaDefaults(name: SchemaName, path: readonly string[]): Record<string, unknown> {
  let node: JsonSchema | undefined = loadSchema(name);
  for (const key of path) node = node?.properties?.[key];
  if (!node?.properties) throw new Error(`${schemaPath(name)}: no object at ${path.join('.')}`);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.properties)) {
    if (child.default !== undefined) out[key] = structuredClone(child.default);
  }
  return out;
}
