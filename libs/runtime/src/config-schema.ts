import { configEnvName } from './env-names.js';

/** Keywords any config schema node may carry, whatever its type. */
interface CommonKeywords<T> {
  readonly default?: T;
  readonly description?: string;
  /** Marks a secret (see {@link SECRET_KEYWORD}). */
  readonly 'x-secret'?: boolean;
}

// `[U] extends [X]` instead of `U extends X` keeps unions such as `'sip' | 'rtp'` or `boolean`
// (= true | false) from being distributed into one schema per member.
type TypedKeywords<U> = [U] extends [string]
  ? { readonly type: 'string'; readonly enum?: readonly U[]; readonly pattern?: string; readonly minLength?: number; readonly maxLength?: number }
  : [U] extends [number]
    ? {
        readonly type: 'integer' | 'number';
        readonly minimum?: number;
        readonly maximum?: number;
        readonly exclusiveMinimum?: number;
        readonly exclusiveMaximum?: number;
      }
    : [U] extends [boolean]
      ? { readonly type: 'boolean' }
      : [U] extends [readonly (infer I)[]]
        ? { readonly type: 'array'; readonly items: ConfigSchema<I>; readonly minItems?: number; readonly maxItems?: number; readonly uniqueItems?: boolean }
        : [U] extends [object]
          ? {
              readonly type: 'object';
              readonly additionalProperties: false;
              readonly required: readonly (keyof U & string)[];
              readonly properties: { readonly [K in keyof U]-?: ConfigSchema<U[K]> };
            }
          : never;

/**
 * JSON Schema (draft-07, as ajv checks it) of one app's configuration, typed against the app's
 * config interface `T` so the schema and the type cannot drift apart: every property of `T` has a
 * schema of the matching JSON type, `T | null` requires `nullable: true`, and every object must be
 * closed (`additionalProperties: false`). (ajv's own `JSONSchemaType` cannot express a required
 * `string | null`, which configs need for "off" values such as `mirror.listen`.)
 */
export type ConfigSchema<T> = TypedKeywords<NonNullable<T>> &
  CommonKeywords<T> &
  ([null] extends [T] ? { readonly nullable: true } : { readonly nullable?: false });

/**
 * Custom annotation keyword marking a property as a secret (tokens, shared secrets, passwords):
 * {@link redactConfig} replaces its value and `--help` never prints its default.
 */
export const SECRET_KEYWORD = 'x-secret';

/**
 * The structural view of a schema node that the config machinery walks. Only the keywords the
 * loader interprets are listed; ajv validates the rest.
 */
export interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
  readonly required?: readonly string[];
  readonly default?: unknown;
  readonly nullable?: boolean;
  readonly additionalProperties?: unknown;
  readonly enum?: readonly unknown[];
  readonly description?: string;
  readonly 'x-secret'?: boolean;
}

/** One settable leaf of a config (scalar, array, or object without declared properties). */
export interface ConfigLeaf {
  /** Property names from the root (`['spool', 'maxSizeGb']`). */
  readonly path: readonly string[];
  /** The leaf's schema node. */
  readonly schema: SchemaNode;
  /** `CALLSCOPE_<APP>_<PATH>` variable that overrides it. */
  readonly envName: string;
}

/** Views a typed ajv schema as the structural {@link SchemaNode} the walkers understand. */
export function asSchemaNode(schema: object): SchemaNode {
  return schema;
}

/** A node with declared properties is a branch: env overrides address its leaves, not itself. */
export function isBranch(node: SchemaNode): boolean {
  return node.properties !== undefined;
}

/**
 * Lists every leaf of an app schema with its environment variable name.
 *
 * @throws TypeError when two leaves map to the same variable (`a.bC` vs `aB.c`), when a leaf would
 *   collide with the `CALLSCOPE_<APP>_CONFIG` file variable, or when a branch is nullable (env
 *   overrides could not express "null branch"): these are schema bugs, not operator errors.
 */
export function listConfigLeaves(app: string, schema: object): ConfigLeaf[] {
  const leaves: ConfigLeaf[] = [];
  const walk = (node: SchemaNode, path: string[]): void => {
    if (node.properties === undefined) {
      leaves.push({ path, schema: node, envName: configEnvName(app, path) });
      return;
    }
    if (node.nullable === true) {
      throw new TypeError(`config schema of ${app}: branch "${path.join('.')}" must not be nullable`);
    }
    for (const [name, child] of Object.entries(node.properties)) walk(child, [...path, name]);
  };
  walk(asSchemaNode(schema), []);
  const seen = new Map<string, string>([[configEnvName(app, ['config']), '(config file variable)']]);
  for (const leaf of leaves) {
    const dotted = leaf.path.join('.');
    const previous = seen.get(leaf.envName);
    if (previous !== undefined) {
      throw new TypeError(`config schema of ${app}: "${dotted}" and "${previous}" both map to ${leaf.envName}`);
    }
    seen.set(leaf.envName, dotted);
  }
  return leaves;
}

/**
 * Builds the document of schema defaults: branches become objects of their children's defaults,
 * leaves with a `default` get a copy of it, leaves without one are left out (so `required`
 * reports them).
 */
export function schemaDefaults(schema: object): Record<string, unknown> {
  const build = (node: SchemaNode): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      if (isBranch(child)) out[name] = build(child);
      else if ('default' in child) out[name] = structuredClone(child.default);
    }
    return out;
  };
  return build(asSchemaNode(schema));
}

/**
 * Checks the "closed schema" invariants: every object schema, at any depth (array items
 * included), declares `additionalProperties: false`, so a misspelt key is an error rather than
 * a silently ignored setting, and lists all its properties in `required` (each has a default or
 * must be given), so the validated object really has the shape of its TypeScript interface.
 *
 * @throws TypeError naming the first open object schema.
 */
export function assertClosedSchema(app: string, schema: object): void {
  const walk = (node: SchemaNode, where: string): void => {
    const isObject = node.type === 'object' || node.properties !== undefined;
    if (isObject && node.additionalProperties !== false) {
      throw new TypeError(`config schema of ${app}: object at "${where || '(root)'}" lacks additionalProperties: false`);
    }
    // Config interfaces have no optional properties: a missing value is a default or an error.
    const missing = Object.keys(node.properties ?? {}).filter((name) => !(node.required ?? []).includes(name));
    if (missing.length > 0) {
      throw new TypeError(`config schema of ${app}: object at "${where || '(root)'}" does not list ${missing.join(', ')} in required`);
    }
    for (const [name, child] of Object.entries(node.properties ?? {})) walk(child, where === '' ? name : `${where}.${name}`);
    if (node.items !== undefined) walk(node.items, `${where}[]`);
  };
  walk(asSchemaNode(schema), '');
}
