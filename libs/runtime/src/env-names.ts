/** Prefix of every callscope environment variable. */
export const ENV_PREFIX = 'CALLSCOPE_';

/**
 * Shared, well-known variable for any `db.url` property: every service on a host usually talks to
 * the same CDR database, so one variable configures them all. An app-specific
 * `CALLSCOPE_<APP>_DB_URL` still wins over it.
 */
export const SHARED_DB_URL_ENV = 'CALLSCOPE_DB_URL';

/** Default CDR database URL (local MariaDB, passwordless root as in a fresh package install). */
export const DEFAULT_DB_URL = 'mysql://root@127.0.0.1:3306/callscope';

/**
 * Converts a camelCase or kebab-case identifier to SCREAMING_SNAKE
 * (`maxSizeGb` -> `MAX_SIZE_GB`, `manager-api` -> `MANAGER_API`).
 */
export function toEnvSegment(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/**
 * Environment variable overriding one leaf of an app's config:
 * `configEnvName('sniffer', ['spool', 'maxSizeGb'])` -> `CALLSCOPE_SNIFFER_SPOOL_MAX_SIZE_GB`.
 */
export function configEnvName(app: string, path: readonly string[]): string {
  return `${appEnvPrefix(app)}${path.map(toEnvSegment).join('_')}`;
}

/** Environment variable naming an app's JSON config file (`CALLSCOPE_SNIFFER_CONFIG`). */
export function configFileEnvName(app: string): string {
  return `${appEnvPrefix(app)}CONFIG`;
}

/** `CALLSCOPE_<APP>_`: every variable with this prefix must be known to the app's schema. */
export function appEnvPrefix(app: string): string {
  return `${ENV_PREFIX}${toEnvSegment(app)}_`;
}
