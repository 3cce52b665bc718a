import { asSchemaNode, SECRET_KEYWORD } from './config-schema.js';
import type { SchemaNode } from './config-schema.js';

/** What replaces a secret in logs and printed configs. */
export const REDACTED = '[redacted]';

/**
 * Hides the password of a URL's userinfo (RFC 3986 §3.2.1), keeping everything else readable:
 * `mysql://cdr:s3cret@db:3306/callscope` -> `mysql://cdr:[redacted]@db:3306/callscope`.
 * Strings that are not `scheme://` URLs, or carry no password, come back unchanged.
 *
 * The userinfo ends at the LAST `@` of the authority so an unescaped `@` in a password
 * (`user:p@ss@host`) is hidden whole rather than half-leaked.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3986#section-3.2.1
 */
export function redactUrlPassword(text: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text);
  if (scheme === null) return text;
  const start = scheme[0].length;
  let end = text.length;
  for (const stop of ['/', '?', '#']) {
    const at = text.indexOf(stop, start);
    if (at !== -1 && at < end) end = at;
  }
  const authority = text.slice(start, end);
  const at = authority.lastIndexOf('@');
  if (at === -1) return text;
  const colon = authority.indexOf(':');
  if (colon === -1 || colon > at) return text;
  return `${text.slice(0, start)}${authority.slice(0, colon + 1)}${REDACTED}${authority.slice(at)}${text.slice(end)}`;
}

function redactValue(value: unknown, node: SchemaNode | undefined): unknown {
  if (node?.[SECRET_KEYWORD] === true) return value === null || value === undefined ? value : REDACTED;
  if (typeof value === 'string') return redactUrlPassword(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, node?.items));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = redactValue(child, node?.properties?.[key]);
    return out;
  }
  return value;
}

/**
 * Returns a copy of a config that is safe to log or print: values of properties marked
 * `"x-secret": true` in the schema (at any depth, array items included) become `"[redacted]"`
 * (null stays null, so "no secret configured" remains visible), and every string that is a URL
 * with a password has that password replaced (see {@link redactUrlPassword}).
 */
export function redactConfig<T>(config: T, schema: object): T {
  return redactValue(config, asSchemaNode(schema)) as T;
}
