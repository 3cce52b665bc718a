import { parseServiceArgs } from './cli-args.js';
import { ConfigError } from './config-error.js';
import type { ConfigSchema } from './config-schema.js';
import { createLogger } from './create-logger.js';
import type { LogLevel, Logger } from './create-logger.js';
import type { DeepReadonly } from './deep-freeze.js';
import { describeConfig } from './describe-config.js';
import type { LoadedConfig } from './load-config.js';
import { EXIT_CODES, onShutdown } from './on-shutdown.js';
import type { ShutdownProcess } from './on-shutdown.js';
import { redactConfig } from './redact-config.js';

/** A running service's stop function: close listeners, flush, release resources. */
export type StopService = (reason: string) => Promise<void>;

/** Inputs of {@link runService}. */
export interface RunServiceOptions<T> {
  /** App name (`manager-api`). */
  readonly app: string;
  /** One line saying what the service does, printed by `--help`. */
  readonly summary: string;
  /** The app's schema (for `--help` and redaction). */
  readonly schema: ConfigSchema<T>;
  /** The app's `loadXConfig(argv, env)`. */
  readonly load: (argv: readonly string[], env: Readonly<Record<string, string | undefined>>) => LoadedConfig<T>;
  /** Picks the log settings out of the validated config. */
  readonly logSettings: (config: DeepReadonly<T>) => { readonly level: LogLevel; readonly pretty: boolean | null };
  /** Starts the service; resolves with its stop function once it is serving. */
  readonly start: (config: DeepReadonly<T>, logger: Logger) => Promise<StopService>;
  /** Arguments after the script name; default `process.argv.slice(2)`. */
  readonly argv?: readonly string[];
  /** Environment; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where `--help` and `--check-config` print; default STDOUT. */
  readonly stdout?: NodeJS.WritableStream;
  /** Where start-up errors are printed before a logger exists; default STDERR. */
  readonly stderr?: NodeJS.WritableStream;
  /** Log destination (tests); default STDERR. */
  readonly logDestination?: NodeJS.WritableStream;
  /** Process hooked for signals (tests); default the real one. */
  readonly process?: ShutdownProcess;
  /** Grace period of the stop function; default 10 s. */
  readonly shutdownTimeoutMs?: number;
}

/**
 * The start-up sequence every long-running callscope service shares: parse the command line
 * (`--config`, `--help`, `--check-config`), load and validate the config, create the root
 * logger, log the effective config with secrets redacted, start, and stop cleanly on
 * SIGINT/SIGTERM (see {@link onShutdown}).
 *
 * @returns the exit code when the service ended at once (help printed: 0, config checked: 0,
 *   bad config or command line: 2, start failed: 1), or null once it is running; the shutdown
 *   hook exits the process later.
 */
export async function runService<T>(options: RunServiceOptions<T>): Promise<number | null> {
  const argv = options.argv ?? process.argv.slice(2);
  const env = options.env ?? process.env;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  let loaded: LoadedConfig<T>;
  try {
    const args = parseServiceArgs(options.app, argv);
    if (args.help) {
      stdout.write(`callscope ${options.app}: ${options.summary}\n\n`);
      stdout.write(`Usage: ${options.app} [--config <file.json>] [--check-config] [--help]\n\n`);
      stdout.write(`${describeConfig(options.app, options.schema)}\n`);
      return EXIT_CODES.ok;
    }
    loaded = options.load(argv, env);
    if (args.checkConfig) {
      stdout.write(`${JSON.stringify(redactConfig(loaded.config, options.schema), null, 2)}\n`);
      return EXIT_CODES.ok;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      stderr.write(`callscope ${options.app}: ${err.message}\n`);
      return EXIT_CODES.config;
    }
    throw err;
  }
  const settings = options.logSettings(loaded.config);
  const logger = createLogger({ app: options.app, level: settings.level, ...(settings.pretty !== null ? { pretty: settings.pretty } : {}), destination: options.logDestination });
  logger.info(
    { config: redactConfig(loaded.config, options.schema), file: loaded.file, envOverrides: loaded.envOverrides },
    'effective configuration',
  );
  let stop: StopService;
  try {
    stop = await options.start(loaded.config, logger);
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    return EXIT_CODES.failure;
  }
  onShutdown(logger, stop, { process: options.process, timeoutMs: options.shutdownTimeoutMs });
  return null;
}
