import { DEFAULT_DB_URL, loadConfig, listenConfigSchema, logConfigSchema } from '@callscope/runtime';
import type { ConfigCheckFailure, ConfigSchema, LoadedConfig, LogLevel } from '@callscope/runtime';

/** App name: it names the env variables (`CALLSCOPE_WEB_GUI_*`) and the log lines. */
export const WEB_GUI_APP = 'web-gui';

/** A sensor whose manager-api the GUI asks for live state and pcaps. */
export interface SensorEntry {
  id: number;
  name: string;
  managerUrl: string;
  token: string | null;
}

/** The web GUI's configuration, validated once at start (see {@link webGuiConfigSchema}). */
export interface WebGuiConfig {
  listen: { host: string; port: number };
  db: { url: string };
  sessionSecret: string | null;
  sensors: SensorEntry[];
  publicDir: string | null;
  log: { level: LogLevel; pretty: boolean | null };
}

/** The web GUI's one config schema; every object closed. */
export const webGuiConfigSchema: ConfigSchema<WebGuiConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['listen', 'db', 'sessionSecret', 'sensors', 'publicDir', 'log'],
  properties: {
    listen: listenConfigSchema('127.0.0.1', 8080, 'Address to listen on (0.0.0.0 to serve the network).'),
    db: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: { url: { type: 'string', pattern: '^(mysql|mariadb)://', default: DEFAULT_DB_URL, description: 'CDR database (MySQL/MariaDB).' } },
    },
    sessionSecret: {
      type: 'string',
      nullable: true,
      minLength: 32,
      default: null,
      'x-secret': true,
      description: 'Key signing login session cookies (at least 32 characters); used once user logins exist.',
    },
    sensors: {
      type: 'array',
      default: [],
      description: 'Sensors (JSON list in the environment) whose manager-api serves live state and pcaps.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'managerUrl', 'token'],
        properties: {
          id: { type: 'integer', minimum: 0, maximum: 65535 },
          name: { type: 'string', minLength: 1, maxLength: 64 },
          managerUrl: { type: 'string', pattern: '^https?://[^/\\s]+' },
          token: { type: 'string', nullable: true, minLength: 16, default: null, 'x-secret': true },
        },
      },
    },
    publicDir: {
      type: 'string',
      nullable: true,
      minLength: 1,
      default: null,
      description: 'Folder of the browser files; null = the one shipped with the app.',
    },
    log: logConfigSchema,
  },
};

/** Cross-field rules: sensor ids are unique (CDRs name their sensor by id). */
export function checkWebGuiConfig(config: WebGuiConfig): ConfigCheckFailure[] {
  const failures: ConfigCheckFailure[] = [];
  const seen = new Map<number, number>();
  config.sensors.forEach((sensor, index) => {
    const first = seen.get(sensor.id);
    if (first !== undefined) failures.push({ path: ['sensors', index, 'id'], message: `duplicates the id of sensors[${first}]` });
    else seen.set(sensor.id, index);
  });
  return failures;
}

/**
 * Loads the web GUI config: schema defaults < JSON file (`--config <file>` or
 * `CALLSCOPE_WEB_GUI_CONFIG`) < `CALLSCOPE_WEB_GUI_*` variables (and `CALLSCOPE_DB_URL`).
 *
 * @throws ConfigError naming each bad value's source, path and expectation.
 */
export function loadWebGuiConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): LoadedConfig<WebGuiConfig> {
  return loadConfig({ app: WEB_GUI_APP, schema: webGuiConfigSchema, argv, env, check: checkWebGuiConfig });
}
