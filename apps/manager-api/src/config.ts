import { isLoopbackHost, loadConfig, listenConfigSchema, logConfigSchema } from '@callscope/runtime';
import type { ConfigCheckFailure, ConfigSchema, LoadedConfig, LogLevel } from '@callscope/runtime';
import { parseTokenHash } from './token-hash.js';

/** App name: it names the env variables (`CALLSCOPE_MANAGER_API_*`) and the log lines. */
export const MANAGER_API_APP = 'manager-api';

/** The manager-api's configuration, validated once at start (see {@link managerApiConfigSchema}). */
export interface ManagerApiConfig {
  listen: { host: string; port: number };
  /** Named API tokens, stored as `manager-api hash-token` prints them. */
  tokens: { name: string; hash: string }[];
  tls: { cert: string | null; key: string | null };
  spool: { dir: string };
  /** The sensor daemon's control socket (sniffer `daemon.control`). */
  control: string;
  rateLimit: { max: number; windowS: number };
  log: { level: LogLevel; pretty: boolean | null };
}

const nullablePath = (description: string): ConfigSchema<string | null> => ({ type: 'string', nullable: true, minLength: 1, default: null, description });

/** The manager-api's one config schema; every object closed. */
export const managerApiConfigSchema: ConfigSchema<ManagerApiConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['listen', 'tokens', 'tls', 'spool', 'control', 'rateLimit', 'log'],
  properties: {
    listen: listenConfigSchema('127.0.0.1', 5029, 'Address to listen on; a non-loopback address requires tokens.'),
    tokens: {
      type: 'array',
      default: [],
      maxItems: 64,
      description: 'Bearer tokens accepted on every route but health and /metrics: [{"name","hash"}], hash from `manager-api hash-token`; empty = no auth, loopback only.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'hash'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$', description: 'Who holds the token (logged with each request).' },
          hash: { type: 'string', minLength: 1, maxLength: 512, 'x-secret': true, description: 'scrypt$N$r$p$salt$hash' },
        },
      },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key'],
      properties: {
        cert: nullablePath('PEM certificate file; set with tls.key to serve HTTPS (re-read on SIGHUP).'),
        key: nullablePath('PEM private key file; set with tls.cert to serve HTTPS (re-read on SIGHUP).'),
      },
    },
    spool: {
      type: 'object',
      additionalProperties: false,
      required: ['dir'],
      properties: { dir: { type: 'string', minLength: 1, default: 'var/spool', description: "The local sniffer's pcap spool (read-only here)." } },
    },
    control: { type: 'string', minLength: 1, default: 'var/run/sniffer.sock', description: "The sensor daemon's control socket (sniffer daemon.control)." },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      required: ['max', 'windowS'],
      properties: {
        max: { type: 'integer', minimum: 1, default: 600, description: 'Requests per window per token (per client address before a token is verified).' },
        windowS: { type: 'integer', minimum: 1, default: 60, description: 'Rate-limit window, seconds.' },
      },
    },
    log: logConfigSchema,
  },
};

/** Cross-field rules: no unauthenticated API on a routable address; TLS needs both files; hashes parse. */
export function checkManagerApiConfig(config: ManagerApiConfig): ConfigCheckFailure[] {
  const failures: ConfigCheckFailure[] = [];
  if (config.tokens.length === 0 && !isLoopbackHost(config.listen.host)) {
    failures.push({
      path: ['listen', 'host'],
      message: `${config.listen.host} is not a loopback address, so tokens must be set (the API serves call pcaps)`,
    });
  }
  const names = new Set<string>();
  config.tokens.forEach((t, i) => {
    if (names.has(t.name)) failures.push({ path: ['tokens', i, 'name'], message: `token name ${t.name} is used twice` });
    names.add(t.name);
    if (parseTokenHash(t.hash) === null) {
      failures.push({ path: ['tokens', i, 'hash'], message: 'not a stored token hash (scrypt$N$r$p$salt$hash from `manager-api hash-token`)' });
    }
  });
  if ((config.tls.cert === null) !== (config.tls.key === null)) {
    failures.push({ path: ['tls', config.tls.cert === null ? 'cert' : 'key'], message: 'tls.cert and tls.key must be set together' });
  }
  return failures;
}

/**
 * Loads the manager-api config: schema defaults < JSON file (`--config <file>` or
 * `CALLSCOPE_MANAGER_API_CONFIG`) < `CALLSCOPE_MANAGER_API_*` variables.
 *
 * @throws ConfigError naming each bad value's source, path and expectation.
 */
export function loadManagerApiConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): LoadedConfig<ManagerApiConfig> {
  return loadConfig({ app: MANAGER_API_APP, schema: managerApiConfigSchema, argv, env, check: checkManagerApiConfig });
}
