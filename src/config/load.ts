/**
 * Config loading: YAML (with line numbers) → `--set` overrides (typed by the
 * schema) → ajv validation against the command's JSON Schema (defaults
 * filled in). Every error is one line naming file:line, the key and what
 * was expected, e.g.
 *   configs/x.yaml:12: train.lr_schedule: must be one of linear, cosine, constant
 */
import { readFileSync, statSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, parseDocument, parse as parseYaml, isMap, type Document } from 'yaml';
import { UserError } from '../errors.js';
import { loadSchema, type JsonSchema, type SchemaName } from './schemas.js';
import { crossKeyProblem } from './cross-checks.js';

export interface LoadedConfig<T> {
  config: T;
  /** Where the config came from: a file path, or null for schema defaults only. */
  file: string | null;
}

const validators = new Map<SchemaName, ValidateFunction>();

function validatorFor(name: SchemaName): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
    v = ajv.compile(loadSchema(name));
    validators.set(name, v);
  }
  return v;
}

/** Parse `a.b.c=value` into a key path and raw value. */
export function parseSetArg(arg: string): { path: string[]; raw: string } {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${arg}: expected key.path=value`);
  const key = arg.slice(0, eq).trim();
  const path = key.split('.');
  if (path.some((p) => p === '')) throw new UserError(`--set ${arg}: malformed key '${key}'`);
  return { path, raw: arg.slice(eq + 1) };
}

/** The schema node at `path` (following object `properties`), or null if there is none. */
export function schemaAt(schema: JsonSchema, path: string[]): JsonSchema | null {
  let node: JsonSchema | undefined = schema;
  for (const key of path) {
    node = node?.properties?.[key];
    if (!node) return null;
  }
  return node;
}

function schemaTypes(node: JsonSchema): string[] {
  if (node.type) return Array.isArray(node.type) ? node.type : [node.type];
  if (node.enum) return [...new Set(node.enum.map((v) => (v === null ? 'null' : typeof v)))];
  return [];
}

/** Turn a `--set` string into the value its schema type asks for. */
export function coerceSetValue(node: JsonSchema, raw: string, key: string): unknown {
  const types = schemaTypes(node);
  const onlyString = types.length > 0 && types.every((t) => t === 'string');
  if (onlyString) return raw;
  let value: unknown;
  try {
    value = parseYaml(raw);
  } catch {
    throw new UserError(`--set ${key}=${raw}: not a valid value`);
  }
  if (types.includes('array') && !Array.isArray(value) && typeof value === 'string') {
    value = raw.split(',').map((s) => s.trim());
  }
  if (value === null && types.includes('null')) return null;
  if (types.includes('string') && typeof value !== 'string' && !types.includes(typeof value)) {
    value = raw;
  }
  return value;
}

function setIn(target: Record<string, unknown>, path: string[], value: unknown): void {
  let obj = target;
  for (const key of path.slice(0, -1)) {
    const next = obj[key];
    if (next === undefined || next === null) obj[key] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) {
      throw new UserError(`--set ${path.join('.')}: '${key}' is not a section`);
    }
    obj = obj[key] as Record<string, unknown>;
  }
  obj[path[path.length - 1]] = value;
}

/** Levenshtein distance, for "did you mean" on misspelt keys. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

function describeError(err: ErrorObject, schema: JsonSchema): { path: string[]; message: string } {
  const path = err.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      const known = Object.keys(schemaAt(schema, path)?.properties ?? {}).filter(
        (k) => k !== '$schema',
      );
      const close = known
        .map((k) => [k, editDistance(k, extra)] as const)
        .filter(([, dist]) => dist <= 2)
        .sort((a, b) => a[1] - b[1])[0];
      const hint = close ? `did you mean '${close[0]}'? ` : '';
      return {
        path: [...path, extra],
        message: `unknown key (${hint}expected one of ${known.join(', ')})`,
      };
    }
    case 'enum':
      return {
        path,
        message: `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
      };
    case 'type':
      return { path, message: `must be ${String(params.type).replace(/,/g, ' or ')}` };
    case 'required':
      return { path: [...path, String(params.missingProperty)], message: 'is required' };
    default:
      return { path, message: err.message ?? err.keyword };
  }
}

/** Line number (1-based) of the YAML node at `path`, or of its nearest existing parent. */
function lineOf(doc: Document, lines: LineCounter, path: string[]): number | null {
  for (let n = path.length; n >= 1; n--) {
    const prefix = path.slice(0, n);
    const node = doc.getIn(prefix, true) as { range?: [number, number, number] } | undefined;
    if (node?.range) {
      // Point at the key of the pair, which is where a person looks.
      const parent = n > 1 ? doc.getIn(prefix.slice(0, -1), true) : doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find(
          (it) => (it.key as { value?: unknown } | null)?.value === prefix[prefix.length - 1],
        );
        const keyRange = (pair?.key as { range?: [number, number, number] } | null)?.range;
        if (keyRange) return lines.linePos(keyRange[0]).line;
      }
      return lines.linePos(node.range[0]).line;
    }
  }
  return null;
}

export interface LoadOptions {
  /** `--set key.path=value` strings, applied after the file, before validation. */
  sets?: string[];
  /** Values from dedicated flags (e.g. --seed), applied last: flags win over the file. */
  overrides?: Array<{ path: string[]; value: unknown }>;
}

/**
 * Load and validate the config for `schemaName` from `file` (or only the
 * schema's defaults when `file` is null). Throws UserError on any problem.
 */
export function loadConfig<T>(
  schemaName: SchemaName,
  file: string | null,
  options: LoadOptions = {},
): LoadedConfig<T> {
  const schema = loadSchema(schemaName);
  let raw: Record<string, unknown> = {};
  let doc: Document | null = null;
  const lines = new LineCounter();
  if (file !== null) {
    let text: string;
    try {
      if (statSync(file).isDirectory())
        throw new UserError(`${file}: is a directory, expected a YAML file`);
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(
        `${file}: cannot read config (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      // Errors found at end of input point past the last line; the culprit is the last non-blank one.
      const lastLine = text.replace(/\s+$/, '').split('\n').length;
      const line = Math.min(lines.linePos(e.pos[0]).line, lastLine);
      throw new UserError(`${file}:${line}: YAML syntax error: ${e.message.split('\n')[0]}`);
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) {
      // An empty file would silently mean a run with every default: almost surely the wrong file.
      throw new UserError(`${file}: the config file is empty (expected a mapping of config keys)`);
    } else if (typeof value !== 'object' || Array.isArray(value)) {
      throw new UserError(`${file}:1: expected a mapping of config keys at the top level`);
    } else raw = value as Record<string, unknown>;
  }

  const fromSet = new Set<string>();
  for (const arg of options.sets ?? []) {
    const { path, raw: rawValue } = parseSetArg(arg);
    const node = schemaAt(schema, path);
    if (!node) {
      const parent = schemaAt(schema, path.slice(0, -1));
      const known = Object.keys(parent?.properties ?? {}).filter((k) => k !== '$schema');
      throw new UserError(
        `--set ${path.join('.')}: unknown key` +
          (known.length ? ` (expected one of ${known.join(', ')})` : ''),
      );
    }
    setIn(raw, path, coerceSetValue(node, rawValue, path.join('.')));
    fromSet.add(path.join('.'));
  }
  for (const { path, value } of options.overrides ?? []) {
    if (value === undefined) continue;
    setIn(raw, path, value);
    fromSet.add(path.join('.'));
  }

  /** Where the value at `path` came from, as a message prefix: `file:line: key`, `--set key` or `key`. */
  const where = (path: string[]): string => {
    const key = path.join('.') || '(top level)';
    const viaSet = [...fromSet].find((k) => key === k || key.startsWith(k + '.'));
    if (viaSet) return `--set ${key}`;
    if (!doc || !file) return key;
    const line = lineOf(doc, lines, path);
    return `${file}${line ? `:${line}` : ''}: ${key}`;
  };

  const nonFinite = nonFinitePath(raw, []);
  if (nonFinite) {
    throw new UserError(
      `${where(nonFinite.path)}: must be a finite number, got ${String(nonFinite.value)}`,
    );
  }

  const validate = validatorFor(schemaName);
  if (!validate(raw)) {
    const first =
      (validate.errors ?? [])
        // `if/then` wrappers repeat the real error; keep the specific ones.
        .filter((e) => e.keyword !== 'if' && e.keyword !== 'anyOf' && e.keyword !== 'oneOf')[0] ??
      validate.errors![0];
    const { path, message } = describeError(first, schema);
    throw new UserError(`${where(path)}: ${message}`);
  }
  const isSet = (path: string[]): boolean =>
    fromSet.has(path.join('.')) || (doc !== null && doc.hasIn(path));
  const problem = crossKeyProblem(schemaName, raw, isSet);
  if (problem) throw new UserError(`${where(problem.path)}: ${problem.message}`);
  locations.set(raw, where);
  return { config: raw as T, file };
}

/** How each loaded config names its keys' origins (see `configKeyLocation`). */
const locations = new WeakMap<object, (path: string[]) => string>();

/**
 * Where `path` of a config returned by `loadConfig` was set, for errors
 * found later (e.g. against a checkpoint): `file:line: key`, `--set key`, or
 * the bare key for a config that did not come from `loadConfig`.
 */
export function configKeyLocation(config: object, path: string[]): string {
  return locations.get(config)?.(path) ?? path.join('.');
}

/** The first number that is NaN or ±Infinity (YAML's .inf, 1e999), with its key path. */
function nonFinitePath(value: unknown, path: string[]): { path: string[]; value: number } | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : { path, value };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nonFinitePath(value[i], [...path, String(i)]);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = nonFinitePath(v, [...path, k]);
      if (found) return found;
    }
  }
  return null;
}
