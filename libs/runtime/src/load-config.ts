import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ConfigError } from './config-error.js';
import type { ConfigIssue } from './config-error.js';
import { pointerToDotted, segmentsToPointer } from './config-path.js';
import { assertClosedSchema, listConfigLeaves, schemaDefaults, SECRET_KEYWORD } from './config-schema.js';
import type { ConfigLeaf, ConfigSchema, SchemaNode } from './config-schema.js';
import { deepFreeze } from './deep-freeze.js';
import type { DeepReadonly } from './deep-freeze.js';
import { appEnvPrefix, configFileEnvName, SHARED_DB_URL_ENV } from './env-names.js';
import { findConfigPath } from './cli-args.js';

// ajv is CommonJS (`module.exports = Ajv`): Node's ESM loader hands over the class itself as the
// default import, while TypeScript and vite model it as a namespace with `.default`. Accept both.
type AjvClass = typeof AjvModule.default;
const Ajv: AjvClass = (AjvModule as unknown as { default?: AjvClass }).default ?? (AjvModule as unknown as AjvClass);

/** Recursively optional version of a config type, for programmatic defaults. */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** A cross-field rule failure returned by a {@link LoadConfigOptions.check} callback. */
export interface ConfigCheckFailure {
  /** Path of the offending value from the root (`['token']`, `['sensors', 0, 'managerUrl']`). */
  readonly path: readonly (string | number)[];
  /** What is wrong and what is expected. */
  readonly message: string;
}

/** Inputs of {@link loadConfig}. */
export interface LoadConfigOptions<T> {
  /** App name in kebab-case (`sniffer`, `manager-api`); it names the env variables. */
  readonly app: string;
  /** The app's one schema; every object in it must be closed (`additionalProperties: false`). */
  readonly schema: ConfigSchema<T>;
  /** Command-line arguments searched for `--config <file>`. */
  readonly argv?: readonly string[];
  /** Explicit config file path; wins over `--config` and `CALLSCOPE_<APP>_CONFIG`. */
  readonly configPath?: string | null;
  /** Environment to read overrides from (pass `process.env` in main, a literal in tests). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Programmatic defaults layered above the schema defaults and below the file. */
  readonly defaults?: DeepPartial<T>;
  /** Cross-field rules the schema cannot express clearly; run after schema validation. */
  readonly check?: (config: T) => readonly ConfigCheckFailure[];
}

/** A validated, deep-frozen config and where it came from. */
export interface LoadedConfig<T> {
  /** The effective configuration. */
  readonly config: DeepReadonly<T>;
  /** The JSON file that was read, or null when none was given. */
  readonly file: string | null;
  /** Names of the environment variables that overrode a setting, sorted. */
  readonly envOverrides: readonly string[];
}

/** ajv for the merged document: strict (unknown schema keywords are schema bugs), no coercion. */
const validatorAjv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true, coerceTypes: false });
validatorAjv.addKeyword({ keyword: SECRET_KEYWORD, schemaType: 'boolean' });

/** ajv for single env values: environment variables are strings, so coercion happens here only. */
const envAjv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true, coerceTypes: true });
envAjv.addKeyword({ keyword: SECRET_KEYWORD, schemaType: 'boolean' });

interface CompiledSchema {
  readonly validate: ValidateFunction;
  readonly leaves: readonly ConfigLeaf[];
  readonly defaults: Record<string, unknown>;
}

const compiled = new WeakMap<object, CompiledSchema>();
const envValidators = new WeakMap<SchemaNode, ValidateFunction>();

function compile(app: string, schema: object): CompiledSchema {
  let entry = compiled.get(schema);
  if (entry === undefined) {
    assertClosedSchema(app, schema);
    entry = { validate: validatorAjv.compile(schema), leaves: listConfigLeaves(app, schema), defaults: schemaDefaults(schema) };
    compiled.set(schema, entry);
  }
  return entry;
}

/** Remembers which source last set each JSON pointer, to name it in error messages. */
class Provenance {
  private readonly sources = new Map<string, string>();

  /** Records `value` at `pointer` and everything below it as coming from `source`. */
  record(pointer: string, value: unknown, source: string): void {
    for (const key of [...this.sources.keys()]) {
      if (key.startsWith(`${pointer}/`)) this.sources.delete(key);
    }
    this.sources.set(pointer, source);
    if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) this.record(`${pointer}/${key}`, child, source);
    }
  }

  /** The source of the nearest recorded ancestor-or-self of `pointer`. */
  lookup(pointer: string): string {
    let p = pointer;
    for (;;) {
      const found = this.sources.get(p);
      if (found !== undefined) return found;
      if (p === '') return 'defaults';
      p = p.slice(0, p.lastIndexOf('/'));
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges `layer` into `target`: objects merge key by key, anything else replaces. */
function mergeLayer(target: Record<string, unknown>, layer: Record<string, unknown>, pointer: string, source: string, provenance: Provenance): void {
  for (const [key, value] of Object.entries(layer)) {
    const childPointer = `${pointer}/${key}`;
    const current = target[key];
    if (isPlainObject(current) && isPlainObject(value)) {
      mergeLayer(current, value, childPointer, source, provenance);
    } else {
      target[key] = structuredClone(value);
      provenance.record(childPointer, value, source);
    }
  }
}

function readConfigFile(app: string, path: string, source: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError(app, [{ source, path: '', message: `cannot read the config file: ${reason}` }]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(app, [{ source, path: '', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  if (!isPlainObject(doc)) {
    throw new ConfigError(app, [{ source, path: '', message: `must be a JSON object, got ${describeValue(doc)}` }]);
  }
  return doc;
}

/** Turns one env string into the JSON value its leaf expects, before ajv coerces scalars. */
function preparseEnvValue(leaf: ConfigLeaf, raw: string): { value?: unknown; error?: string } {
  const node = leaf.schema;
  const types = typeof node.type === 'string' ? [node.type] : (node.type ?? []);
  // An empty variable is the natural way to say "unset" for a nullable option (`..._LISTEN=`).
  if (raw === '' && node.nullable === true) return { value: null };
  // Operators write switches as 1/0, yes/no and on/off as often as true/false.
  if (types.includes('boolean')) {
    const word = raw.trim().toLowerCase();
    if (['1', 'yes', 'on', 'true'].includes(word)) return { value: true };
    if (['0', 'no', 'off', 'false'].includes(word)) return { value: false };
  }
  if (types.includes('array') || types.includes('object')) {
    const trimmed = raw.trim();
    if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
      try {
        return { value: JSON.parse(trimmed) };
      } catch (err) {
        return { error: `not valid JSON: ${(err as Error).message}` };
      }
    }
    if (types.includes('array')) {
      // Lists are comma-separated (`5060,5061`); ajv coerces each item to the item type.
      return { value: trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim()) };
    }
  }
  return { value: raw };
}

function envValidator(node: SchemaNode): ValidateFunction {
  let validate = envValidators.get(node);
  if (validate === undefined) {
    validate = envAjv.compile({ type: 'object', properties: { value: node }, required: ['value'], additionalProperties: false });
    envValidators.set(node, validate);
  }
  return validate;
}

function setAtPath(doc: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = doc;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const next = node[key];
    if (isPlainObject(next)) node = next;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  node[path[path.length - 1]!] = value;
}

interface EnvLayer {
  readonly doc: Record<string, unknown>;
  readonly used: string[];
  readonly sources: Map<string, string>;
}

function readEnvLayer(app: string, leaves: readonly ConfigLeaf[], env: Readonly<Record<string, string | undefined>>, issues: ConfigIssue[]): EnvLayer {
  const layer: EnvLayer = { doc: {}, used: [], sources: new Map() };
  const known = new Set(leaves.map((l) => l.envName));
  known.add(configFileEnvName(app));
  const prefix = appEnvPrefix(app);
  for (const name of Object.keys(env)) {
    if (name.startsWith(prefix) && !known.has(name) && env[name] !== undefined) {
      issues.push({ source: `env ${name}`, path: '', message: `unknown setting: ${name} matches no ${app} option (run with --help to list them)` });
    }
  }
  for (const leaf of leaves) {
    const isDbUrl = leaf.path.length >= 2 && leaf.path[leaf.path.length - 1] === 'url' && leaf.path[leaf.path.length - 2] === 'db';
    let name = leaf.envName;
    let raw = env[name];
    if (raw === undefined && isDbUrl && env[SHARED_DB_URL_ENV] !== undefined) {
      name = SHARED_DB_URL_ENV;
      raw = env[name];
    }
    if (raw === undefined) continue;
    const dotted = leaf.path.join('.');
    const pre = preparseEnvValue(leaf, raw);
    if (pre.error !== undefined) {
      issues.push({ source: `env ${name}`, path: dotted, message: pre.error });
      continue;
    }
    const holder = { value: pre.value };
    const validate = envValidator(leaf.schema);
    if (!validate(holder)) {
      for (const err of validate.errors ?? []) {
        const sub = err.instancePath.replace(/^\/value/, '');
        issues.push({ source: `env ${name}`, path: joinDotted(dotted, pointerToDotted(sub)), message: describeError(err) });
      }
      continue;
    }
    setAtPath(layer.doc, leaf.path, holder.value);
    layer.used.push(name);
    layer.sources.set(segmentsToPointer(leaf.path), `env ${name}`);
  }
  return layer;
}

function joinDotted(base: string, sub: string): string {
  if (sub === '') return base;
  return sub.startsWith('[') ? `${base}${sub}` : `${base}.${sub}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeError(err: ErrorObject): string {
  const schema = (err.parentSchema ?? {}) as SchemaNode;
  const got = `, got ${schema[SECRET_KEYWORD] === true ? 'a secret value' : describeValue(err.data)}`;
  switch (err.keyword) {
    case 'type': {
      const expected = (err.params as { type: string }).type;
      return `must be ${expected.replace(/,/g, ' or ')}${schema.nullable === true ? ' or null' : ''}${got}`;
    }
    case 'enum': {
      const allowed = (err.params as { allowedValues: unknown[] }).allowedValues;
      return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    }
    case 'additionalProperties': {
      const name = (err.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(schema.properties ?? {}).join(', ');
      return `unknown key "${name}" (allowed here: ${allowed})`;
    }
    case 'required':
      return 'is required and has no default';
    default:
      return `${err.message ?? `fails ${err.keyword}`}${got}`;
  }
}

function issueFromAjv(err: ErrorObject, provenance: Provenance): ConfigIssue {
  let pointer = err.instancePath;
  if (err.keyword === 'additionalProperties') {
    const name = (err.params as { additionalProperty: string }).additionalProperty;
    pointer = `${pointer}${segmentsToPointer([name])}`;
  } else if (err.keyword === 'required') {
    const name = (err.params as { missingProperty: string }).missingProperty;
    return { source: provenance.lookup(pointer), path: pointerToDotted(`${pointer}${segmentsToPointer([name])}`), message: describeError(err) };
  }
  return { source: provenance.lookup(pointer), path: pointerToDotted(pointer), message: describeError(err) };
}

/**
 * Loads an app's configuration once at start: schema defaults < programmatic `defaults` < JSON
 * file (`--config <file>` or `CALLSCOPE_<APP>_CONFIG`) < environment (`CALLSCOPE_<APP>_<PATH>`,
 * plus the shared `CALLSCOPE_DB_URL` for any `db.url`). Env values are coerced to the leaf's
 * type (`"50"` -> 50, `"true"`/`yes`/`on`/`1` -> true, `"5060,5061"` -> [5060, 5061], JSON for lists of
 * objects, empty -> null for nullable options); the file is taken as written, without coercion.
 * The merged document is validated once and returned deep-frozen.
 *
 * @throws ConfigError listing every problem with its source, path and what was expected
 *   (unknown keys and unknown `CALLSCOPE_<APP>_*` variables included).
 * @throws TypeError when the schema itself is wrong (open object, env name collision).
 */
export function loadConfig<T>(options: LoadConfigOptions<T>): LoadedConfig<T> {
  const { app, schema } = options;
  const env = options.env ?? {};
  const { validate, leaves, defaults } = compile(app, schema);
  const issues: ConfigIssue[] = [];
  const provenance = new Provenance();

  const doc = structuredClone(defaults);
  provenance.record('', doc, 'defaults');
  if (options.defaults !== undefined) mergeLayer(doc, options.defaults as Record<string, unknown>, '', 'programmatic defaults', provenance);

  const fileEnv = configFileEnvName(app);
  let file = options.configPath ?? findConfigPath(app, options.argv ?? []);
  let fileSource = `file ${file ?? ''}`;
  if (file === null && env[fileEnv] !== undefined && env[fileEnv] !== '') {
    file = env[fileEnv];
    fileSource = `file ${file} (named by ${fileEnv})`;
  }
  if (file !== null) mergeLayer(doc, readConfigFile(app, file, fileSource), '', fileSource, provenance);

  const envLayer = readEnvLayer(app, leaves, env, issues);
  mergeLayer(doc, envLayer.doc, '', 'env', provenance);
  for (const [pointer, source] of envLayer.sources) provenance.record(pointer, undefined, source);
  if (issues.length > 0) throw new ConfigError(app, issues);

  if (!validate(doc)) {
    // `if`/`anyOf` wrappers only repeat what their inner errors already say.
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if' && e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
    throw new ConfigError(app, errors.map((e) => issueFromAjv(e, provenance)));
  }
  const config = doc as T;
  const failures = options.check?.(config) ?? [];
  if (failures.length > 0) {
    throw new ConfigError(
      app,
      failures.map((f) => {
        const pointer = segmentsToPointer(f.path);
        return { source: provenance.lookup(pointer), path: pointerToDotted(pointer), message: f.message };
      }),
    );
  }
  return { config: deepFreeze(config), file, envOverrides: [...envLayer.used].sort() };
}
