/**
 * The one logger contract of the libraries (STYLE.md: "libs take an optional logger or
 * callback"). A lib never picks a logger: it takes a {@link LogCallback}, or a
 * {@link LoggerOption} (a callback or a pino-compatible object) that {@link toLogCallback} folds
 * into one. Apps pass `logger.child({ component })` of their root pino logger.
 *
 * @packageDocumentation
 */

/** Severity of an event a library reports (pino's `trace`/`fatal` are the app's business). */
export type LogCallbackLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Callback form of a logger: `(level, msg, fields) => void`. Libraries call it on state changes
 * and errors, never per packet.
 */
export type LogCallback = (level: LogCallbackLevel, msg: string, fields: Record<string, unknown>) => void;

/** The subset of a pino logger a library uses (`logger.warn({ fields }, 'message')`). */
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
