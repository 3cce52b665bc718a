import { isLoopbackHost, loadConfig, listenConfigSchema, logConfigSchema } from '@callscope/runtime';
import type { ConfigCheckFailure, ConfigSchema, LoadedConfig, LogLevel } from '@callscope/runtime';

/** App name: it names the env variables (`CALLSCOPE_MANAGER_API_*`) and the log lines. */
export const MANAGER_API_APP = 'manager-api';

/** The manager-api's configuration, validated once at start (see {@link managerApiConfigSchema}). */
export interface ManagerApiConfig {
  listen: { host: string; port: number };
  token: string | null;
  tls: { cert: string | null; key: string | null };
  spool: { dir: string };
  sniffer: { stateSocket: string | null };
  log: { level: LogLevel; pretty: boolean | null };
}

const nullablePath = (description: string): ConfigSchema<string | null> => ({ type: 'string', nullable: true, minLength: 1, default: null, description });

/** The manager-api's one config schema; every object closed. */
export const managerApiConfigSchema: ConfigSchema<ManagerApiConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['listen', 'token', 'tls', 'spool', 'sniffer', 'log'],
  properties: {
    listen: listenConfigSchema('127.0.0.1', 5029, 'Address to listen on; a non-loopback address requires a token.'),
    token: {
      type: 'string',
      nullable: true,
      minLength: 16,
      default: null,
      'x-secret': true,
      description: 'Bearer token required on /api/* (at least 16 characters); null = no auth, loopback only.',
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key'],
      properties: {
        cert: nullablePath('PEM certificate file; set with tls.key to serve HTTPS.'),
        key: nullablePath('PEM private key file; set with tls.cert to serve HTTPS.'),
      },
    },
    spool: {
      type: 'object',
      additionalProperties: false,
      required: ['dir'],
      properties: { dir: { type: 'string', minLength: 1, default: 'var/spool', description: "The local sniffer's pcap spool (read-only here)." } },
    },
    sniffer: {
      type: 'object',
      additionalProperties: false,
      required: ['stateSocket'],
      properties: {
        stateSocket: { ...nullablePath('Unix socket of the local sniffer’s live state (sniffer manager.stateSocket).'), default: 'var/run/sniffer.sock' },
      },
    },
    log: logConfigSchema,
  },
};

/** Cross-field rules: no unauthenticated API on a routable address; TLS needs both files. */
export function checkManagerApiConfig(config: ManagerApiConfig): ConfigCheckFailure[] {
  const failures: ConfigCheckFailure[] = [];
  if (config.token === null && !isLoopbackHost(config.listen.host)) {
    failures.push({
      path: ['listen', 'host'],
      message: `${config.listen.host} is not a loopback address, so a token must be set (the API serves call pcaps)`,
    });
  }
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
