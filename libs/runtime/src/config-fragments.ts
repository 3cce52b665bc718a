import type { ConfigSchema } from './config-schema.js';
import { LOG_LEVELS, type LogLevel } from './create-logger.js';

/** The `log` section every app has. */
export interface LogConfig {
  level: LogLevel;
  /** `null` (the default): human-readable on a terminal, JSON otherwise (see `createLogger`). */
  pretty: boolean | null;
}

/** Schema of the `log` section, the same in every app's config. */
export const logConfigSchema: ConfigSchema<LogConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['level', 'pretty'],
  properties: {
    level: { type: 'string', enum: [...LOG_LEVELS], default: 'info', description: 'Minimum log level.' },
    pretty: {
      type: 'boolean',
      nullable: true,
      default: null,
      description: 'Human-readable log lines (true) or JSON (false); null: human-readable on a terminal, JSON otherwise.',
    },
  },
};

/** A `listen` section: where an HTTP service accepts connections. */
export interface ListenConfig {
  host: string;
  port: number;
}

/** Schema of a `listen` section with the service's own defaults. */
export function listenConfigSchema(defaultHost: string, defaultPort: number, hostDescription: string): ConfigSchema<ListenConfig> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'port'],
    properties: {
      host: { type: 'string', minLength: 1, default: defaultHost, description: hostDescription },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: defaultPort, description: 'TCP port.' },
    },
  };
}

/** A `sensor` section: which sensor the records or packets are attributed to. */
export interface SensorConfig {
  id: number;
  name: string;
}

/** Schema of a `sensor` section; the descriptions say what each app does with it. */
export function sensorConfigSchema(idDescription: string, nameDescription: string): ConfigSchema<SensorConfig> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'name'],
    properties: {
      id: { type: 'integer', minimum: 0, maximum: 65535, default: 1, description: idDescription },
      name: { type: 'string', minLength: 1, maxLength: 64, default: 'sensor1', description: nameDescription },
    },
  };
}
