import type { ListenConfig, LogConfig } from './config-fragments.js';
import type { Logger } from './create-logger.js';
import type { DeepReadonly } from './deep-freeze.js';
import { runService } from './run-service.js';
import type { RunServiceOptions } from './run-service.js';

/** What {@link runHttpService} needs of a server (a fastify instance has it). */
export interface HttpServer {
  listen(options: { host: string; port: number }): Promise<string>;
  close(): Promise<unknown>;
}

/** A built, not yet listening, server and what the "listening" log line adds about it. */
export interface BuiltHttpServer {
  readonly server: HttpServer;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Inputs of {@link runHttpService}: those of `runService` but the start, which it writes. */
export interface RunHttpServiceOptions<T extends { readonly log: LogConfig; readonly listen: ListenConfig }>
  extends Omit<RunServiceOptions<T>, 'logSettings' | 'start'> {
  /** Builds the app's server from the validated config and the root logger. */
  readonly build: (config: DeepReadonly<T>, logger: Logger) => BuiltHttpServer;
}

/**
 * The `main` of an HTTP service: {@link runService} with the log settings of `config.log`, a start
 * that builds the server, listens on `config.listen` and logs `<app> listening` with the address
 * and the app's fields, and a stop that closes the server. When the service ends at once (help,
 * config check, bad config, failed start) the code becomes `process.exitCode`.
 *
 * @returns the code of an immediate end, or null once the service is running.
 */
export async function runHttpService<T extends { readonly log: LogConfig; readonly listen: ListenConfig }>(
  options: RunHttpServiceOptions<T>,
): Promise<number | null> {
  const { build, ...rest } = options;
  const code = await runService<T>({
    ...rest,
    logSettings: (config) => config.log,
    start: async (config, logger) => {
      const { server, fields } = build(config, logger);
      const address = await server.listen({ host: config.listen.host, port: config.listen.port });
      logger.info({ address, ...fields }, `${options.app} listening`);
      return async () => {
        await server.close();
      };
    },
  });
  if (code !== null) process.exitCode = code;
  return code;
}
