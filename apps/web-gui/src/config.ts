import { DEFAULT_DB_URL, loadConfig, listenConfigSchema, logConfigSchema } from '@callscope/runtime';
import type { ConfigCheckFailure, ConfigSchema, LoadedConfig, LogLevel } from '@callscope/runtime';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './auth/password.js';

/** App name: it names the env variables (`CALLSCOPE_WEB_GUI_*`) and the log lines. */
export const WEB_GUI_APP = 'web-gui';

/**
 * A sensor whose manager-api serves the pcaps, SIP, audio and stream series of the calls it
 * recorded. Matched to CDRs by `name`: the sniffer's `sensor.name`, which names the sensor's row
 * in the `sensors` table whose auto-increment id every CDR carries as `sensor_id`.
 */
export interface SensorEntry {
  /** Optional, informative only: CDRs name their sensor through the database's id for `name` (a mismatch is logged). */
  id: number | null;
  name: string;
  managerUrl: string;
  /** The manager-api bearer token (null: a manager-api without tokens, on loopback). */
  token: string | null;
}

/** The web GUI's configuration, validated once at start (see {@link webGuiConfigSchema}). */
export interface WebGuiConfig {
  listen: { host: string; port: number };
  db: { url: string };
  tls: { cert: string | null; key: string | null };
  /** Password of the first account (`admin`), used only when the database has no account yet. */
  adminPassword: string | null;
  session: { idleMinutes: number; absoluteHours: number; secureCookie: boolean | null };
  login: { maxPerIp: number; maxPerUser: number; windowS: number };
  sensors: SensorEntry[];
  artifacts: { timeoutS: number };
  publicDir: string | null;
  log: { level: LogLevel; pretty: boolean | null };
}

const nullablePath = (description: string): ConfigSchema<string | null> => ({ type: 'string', nullable: true, minLength: 1, default: null, description });

/** The web GUI's one config schema; every object closed. */
export const webGuiConfigSchema: ConfigSchema<WebGuiConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['listen', 'db', 'tls', 'adminPassword', 'session', 'login', 'sensors', 'artifacts', 'publicDir', 'log'],
  properties: {
    listen: listenConfigSchema('127.0.0.1', 8080, 'Address to listen on (0.0.0.0 to serve the network).'),
    db: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: { url: { type: 'string', pattern: '^(mysql|mariadb)://', default: DEFAULT_DB_URL, description: 'CDR database (MySQL/MariaDB); the GUI migrates it at start.' } },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key'],
      properties: {
        cert: nullablePath('PEM certificate file; set with tls.key to serve HTTPS (then cookies are Secure and HSTS is sent).'),
        key: nullablePath('PEM private key file; set with tls.cert to serve HTTPS.'),
      },
    },
    adminPassword: {
      type: 'string',
      nullable: true,
      minLength: MIN_PASSWORD_LENGTH,
      maxLength: MAX_PASSWORD_LENGTH,
      default: null,
      'x-secret': true,
      description: 'Password of the first account "admin", created when the database has no account; null = a random one, printed once.',
    },
    session: {
      type: 'object',
      additionalProperties: false,
      required: ['idleMinutes', 'absoluteHours', 'secureCookie'],
      properties: {
        idleMinutes: { type: 'integer', minimum: 1, maximum: 10_080, default: 480, description: 'A login unused this long is over.' },
        absoluteHours: { type: 'integer', minimum: 1, maximum: 720, default: 24, description: 'A login this old is over, however busy.' },
        secureCookie: {
          type: 'boolean',
          nullable: true,
          default: null,
          description: 'Mark the session cookie Secure; null = when the GUI serves TLS itself (set true behind a TLS-terminating proxy).',
        },
      },
    },
    login: {
      type: 'object',
      additionalProperties: false,
      required: ['maxPerIp', 'maxPerUser', 'windowS'],
      properties: {
        maxPerIp: { type: 'integer', minimum: 1, default: 20, description: 'Login attempts per client address per window.' },
        maxPerUser: { type: 'integer', minimum: 1, default: 10, description: 'Login attempts per user name per window (from any address).' },
        windowS: { type: 'integer', minimum: 1, default: 300, description: 'Login rate-limit window, seconds.' },
      },
    },
    sensors: {
      type: 'array',
      default: [],
      maxItems: 1000,
      description: 'Sensors (JSON list in the environment) whose manager-api serves call pcaps, SIP, audio and series; matched to CDRs by name.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'managerUrl', 'token'],
        properties: {
          id: { type: 'integer', nullable: true, minimum: 0, maximum: 65535, default: null, description: 'Informative; CDRs find their sensor by name.' },
          name: { type: 'string', minLength: 1, maxLength: 64, description: "The sniffer's sensor.name." },
          managerUrl: { type: 'string', pattern: '^https?://[^/\\s]+', description: 'manager-api base URL (http://host:5029).' },
          token: { type: 'string', nullable: true, minLength: 16, default: null, 'x-secret': true, description: 'manager-api bearer token.' },
        },
      },
    },
    artifacts: {
      type: 'object',
      additionalProperties: false,
      required: ['timeoutS'],
      properties: {
        timeoutS: { type: 'integer', minimum: 1, maximum: 600, default: 30, description: 'A manager-api silent this long (before its answer or within it) is given up.' },
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

/** Cross-field rules: sensor names are unique (CDRs find their sensor by name); TLS needs both files. */
export function checkWebGuiConfig(config: WebGuiConfig): ConfigCheckFailure[] {
  const failures: ConfigCheckFailure[] = [];
  const seen = new Map<string, number>();
  config.sensors.forEach((sensor, index) => {
    const first = seen.get(sensor.name);
    if (first !== undefined) failures.push({ path: ['sensors', index, 'name'], message: `duplicates the name of sensors[${first}]` });
    else seen.set(sensor.name, index);
  });
  if ((config.tls.cert === null) !== (config.tls.key === null)) {
    failures.push({ path: ['tls', config.tls.cert === null ? 'cert' : 'key'], message: 'tls.cert and tls.key must be set together' });
  }
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
