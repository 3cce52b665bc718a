import { Writable } from 'node:stream';

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** pino's own bookkeeping fields, already shown in the line prefix. */
const PREFIX_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'app', 'component']);

/**
 * Formats one pino JSON line for a human at a terminal:
 * `12:00:00.123 INFO  [http] listening port=5029`. Lines that are not JSON pass through unchanged
 * so nothing written to the stream is ever lost.
 */
export function formatPrettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null) return line;
    entry = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry['time'] === 'number' ? new Date(entry['time']).toISOString().slice(11, 23) : '--:--:--.---';
  const level = (typeof entry['level'] === 'number' ? LEVEL_NAMES[entry['level']] : undefined) ?? String(entry['level']);
  const component = typeof entry['component'] === 'string' ? ` [${entry['component']}]` : '';
  const msg = typeof entry['msg'] === 'string' ? ` ${entry['msg']}` : '';
  const rest = Object.entries(entry)
    .filter(([key]) => !PREFIX_FIELDS.has(key))
    .map(([key, value]) => ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('');
  return `${time} ${level.padEnd(5)}${component}${msg}${rest}`;
}

/**
 * A stream that turns pino's JSON lines into {@link formatPrettyLine} text on `out`; used by
 * `createLogger({ pretty: true })` when a person watches a terminal (no pino-pretty dependency).
 */
export function createPrettyStream(out: NodeJS.WritableStream): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback): void {
      pending += chunk.toString();
      let nl = pending.indexOf('\n');
      while (nl !== -1) {
        out.write(`${formatPrettyLine(pending.slice(0, nl))}\n`);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
      callback();
    },
    final(callback): void {
      if (pending !== '') out.write(`${formatPrettyLine(pending)}\n`);
      callback();
    },
  });
}
