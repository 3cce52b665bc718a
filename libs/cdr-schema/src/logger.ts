/**
 * The lib never picks a logger: callers pass a callback or a pino-compatible object, and this
 * module folds both into one function.
 *
 * @packageDocumentation
 */

/** Severity of a log event. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Callback form of a logger: `(level, msg, fields) => void`. */
export type LogCallback = (level: LogLevel, msg: string, fields: Record<string, unknown>) => void;

/** The subset of a pino logger the lib uses (`logger.warn({ fields }, 'message')`). */
export interface PinoLikeLogger {
  /** Informational event. */
  info(fields: Record<string, unknown>, msg: string): void;
  /** Something degraded but handled (database down, torn queue record). */
  warn(fields: Record<string, unknown>, msg: string): void;
  /** Data could not be stored (queue overflow, rejected record). */
  error(fields: Record<string, unknown>, msg: string): void;
}

/** What an option named `logger` accepts. */
export type LoggerOption = LogCallback | PinoLikeLogger | undefined;

/** Normalises a {@link LoggerOption} to a {@link LogCallback}; `undefined` becomes a no-op. */
export function toLogCallback(logger: LoggerOption): LogCallback {
  if (logger === undefined) return () => undefined;
  if (typeof logger === 'function') return logger;
  return (level, msg, fields) => {
    // pino has `debug` too, but the documented minimal shape does not: map it to `info`.
    if (level === 'error') logger.error(fields, msg);
    else if (level === 'warn') logger.warn(fields, msg);
    else logger.info(fields, msg);
  };
}
