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
