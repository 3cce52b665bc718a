import { pino } from 'pino';
import type { Logger, LevelWithSilent } from 'pino';
import { createPrettyStream } from './pretty-stream.js';
import { REDACTED, redactUrlPassword } from './redact-config.js';

/** Log levels a service accepts in its config (`log.level`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Field names whose values are always secret, wherever they appear (top level or nested). */
const SECRET_FIELDS = ['password', 'passwd', 'token', 'secret', 'sessionSecret', 'apiKey', 'authorization', 'proxyAuthorization', 'cookie'];
/** SIP (RFC 3261 §20.7, §20.28) and HTTP header names as they appear in header maps. */
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'Authorization', 'Proxy-Authorization', 'cookie', 'set-cookie'];
/** Fields holding URLs: only their password is hidden, the rest stays useful for debugging. */
const URL_FIELDS = new Set(['url', 'dbUrl', 'managerUrl']);

/**
 * pino `redact` paths applied by every callscope logger: secret fields up to three levels deep,
 * SIP/HTTP credential headers inside any `headers` object, and the password of URL fields.
 */
export const LOG_REDACT_PATHS: readonly string[] = [
  ...[...SECRET_FIELDS, ...URL_FIELDS].flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
  ...SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`, `*.*.headers["${h}"]`]),
];

function censor(value: unknown, path: string[]): unknown {
  // "no secret configured" (null) is worth seeing and reveals nothing.
  if (value === null || value === undefined) return value;
  const field = path[path.length - 1] ?? '';
  if (URL_FIELDS.has(field)) return typeof value === 'string' ? redactUrlPassword(value) : value;
  return REDACTED;
}

/** Inputs of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** App name, written as `app` on every line. */
  readonly app: string;
  /** Minimum level (usually `config.log.level`). */
  readonly level: LogLevel | LevelWithSilent;
  /**
   * Human-readable lines (`true`) or one JSON object per line (`false`). Left out: human-readable
   * when the destination is a terminal (a person reads it), JSON otherwise (a file, a pipe, a log
   * collector reads it).
   */
  readonly pretty?: boolean;
  /**
   * Where lines go; default STDERR, because STDOUT belongs to program output (the sniffer's
   * jsonl). Tests pass a stream to read the lines back.
   */
  readonly destination?: NodeJS.WritableStream;
}

/** Whether a stream writes to a terminal (`tty.WriteStream`, as `process.stderr` is on a console). */
function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: unknown }).isTTY === true;
}

/**
 * Creates the one root pino logger of an app. Components take `logger.child({ component })`.
 * Secrets are redacted by {@link LOG_REDACT_PATHS}; STDERR is written synchronously so the last
 * lines before a crash are not lost in a buffer.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const out = options.destination ?? process.stderr;
  const pretty = options.pretty ?? isTerminal(out);
  const stream = pretty ? createPrettyStream(out) : (options.destination ?? pino.destination({ dest: 2, sync: true }));
  return pino(
    {
      level: options.level,
      base: { app: options.app, pid: process.pid },
      redact: { paths: [...LOG_REDACT_PATHS], censor },
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    stream,
  );
}

export type { Logger };
