import type { Logger } from 'pino';

/** Exit codes used by callscope services (sysexits-like, documented in the runtime README). */
export const EXIT_CODES = {
  /** Clean stop after SIGINT/SIGTERM. */
  ok: 0,
  /** Stopped because of an uncaught error, a failed shutdown handler, or a shutdown timeout. */
  failure: 1,
  /** Refused to start: invalid configuration or command line. */
  config: 2,
  /** A second signal arrived while shutting down: the operator insisted. */
  forced: 130,
} as const;

/** The part of `process` that {@link onShutdown} uses; tests pass an EventEmitter with `exit`. */
export interface ShutdownProcess {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  exit(code: number): void;
}

/** Options of {@link onShutdown}. */
export interface OnShutdownOptions {
  /** How long the handler may run before the process exits anyway; default 10 s. */
  readonly timeoutMs?: number;
  /** Signals that start a graceful stop; default SIGINT and SIGTERM. */
  readonly signals?: readonly string[];
  /** Process to hook; default the real `process`. */
  readonly process?: ShutdownProcess;
}

/** Control returned by {@link onShutdown}. */
export interface ShutdownControl {
  /** Starts the stop programmatically (same path as a signal); resolves once exit was called. */
  shutdown(reason: string, exitCode?: number): Promise<void>;
  /** Removes the listeners (tests, or a service that hands over to another lifecycle). */
  dispose(): void;
}

/**
 * Runs `handler` (close servers, flush queues) exactly once when the service is asked to stop
 * (SIGINT/SIGTERM) or crashes (uncaughtException/unhandledRejection, logged at fatal with the
 * error), then exits: 0 after a clean stop, 1 after a crash, a failing handler or a handler that
 * outlives `timeoutMs`, 130 when a second signal arrives during the stop.
 */
export function onShutdown(logger: Logger, handler: (reason: string) => Promise<void>, options: OnShutdownOptions = {}): ShutdownControl {
  const proc: ShutdownProcess = options.process ?? process;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  let stopping: Promise<void> | null = null;

  const shutdown = (reason: string, exitCode: number = EXIT_CODES.ok): Promise<void> => {
    if (stopping !== null) return stopping;
    logger.info({ reason }, 'shutting down');
    stopping = (async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => { resolve('timeout'); }, timeoutMs);
        timer.unref();
      });
      let code = exitCode;
      try {
        const outcome = await Promise.race([handler(reason).then(() => 'done' as const), timeout]);
        if (outcome === 'timeout') {
          logger.error({ timeoutMs }, 'shutdown handler did not finish in time; exiting anyway');
          code = EXIT_CODES.failure;
        }
      } catch (err) {
        logger.error({ err }, 'shutdown handler failed');
        code = EXIT_CODES.failure;
      } finally {
        clearTimeout(timer);
      }
      logger.info({ exitCode: code }, 'stopped');
      proc.exit(code);
    })();
    return stopping;
  };

  const onSignal = (signal: unknown): void => {
    const name = String(signal);
    if (stopping !== null) {
      logger.warn({ signal: name }, 'second signal during shutdown; exiting now');
      proc.exit(EXIT_CODES.forced);
      return;
    }
    void shutdown(name);
  };
  const onCrash = (err: unknown): void => {
    logger.fatal({ err }, 'uncaught error; shutting down');
    void shutdown('uncaught error', EXIT_CODES.failure);
  };

  for (const signal of signals) proc.on(signal, onSignal);
  proc.on('uncaughtException', onCrash);
  proc.on('unhandledRejection', onCrash);

  return {
    shutdown,
    dispose(): void {
      for (const signal of signals) proc.off(signal, onSignal);
      proc.off('uncaughtException', onCrash);
      proc.off('unhandledRejection', onCrash);
    },
  };
}
