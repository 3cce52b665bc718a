/**
 * Capture time as the CDR contract writes it: ISO-8601 UTC text with exactly six fractional
 * digits (`"2026-11-29T17:00:00.123456Z"`), and the integer microseconds the call engine counts
 * in. A JS `Date` keeps milliseconds only, so the microseconds travel as integers and text.
 *
 * @packageDocumentation
 */

/**
 * An ISO-8601 UTC timestamp with exactly 6 fractional digits, e.g. `"2026-11-29T17:00:00.123456Z"`.
 * See {@link isIsoMicros} for the exact grammar.
 */
export type IsoMicros = string;

const ISO_MICROS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * Whether `value` is an {@link IsoMicros} timestamp: `YYYY-MM-DDTHH:MM:SS.ffffffZ`, exactly six
 * fractional digits, UTC designator `Z`.
 */
export function isIsoMicros(value: string): boolean {
  return ISO_MICROS_RE.test(value);
}

/**
 * Formats a capture timestamp (seconds + microseconds since the Unix epoch, as in pcap record
 * headers) as {@link IsoMicros}. `Date` cannot hold microseconds, so they are appended as text.
 *
 * @throws RangeError if `micros` is not an integer in 0..999999.
 */
export function formatIsoMicros(seconds: number, micros: number): IsoMicros {
  if (!Number.isInteger(micros) || micros < 0 || micros > 999_999) {
    throw new RangeError(`micros must be an integer 0..999999, got ${micros}`);
  }
  const base = new Date(seconds * 1000).toISOString(); // "YYYY-MM-DDTHH:MM:SS.mmmZ"
  return `${base.slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

/**
 * Capture time (integer seconds + nanoseconds) as integer microseconds since the epoch, rounded
 * to the nearest microsecond (nanosecond captures: the CDR keeps microseconds, DATETIME(6)).
 */
export function toMicros(tsSec: number, tsNsec: number): number {
  return tsSec * 1_000_000 + Math.round(tsNsec / 1000);
}

/** Integer microseconds since the epoch as {@link IsoMicros}. */
export function isoFromMicros(us: number): IsoMicros {
  const sec = Math.floor(us / 1_000_000);
  return formatIsoMicros(sec, us - sec * 1_000_000);
}

/** A microsecond difference as seconds with six decimals, free of float noise. */
export function secondsBetween(fromUs: number, toUs: number): number {
  return Math.round(toUs - fromUs) / 1_000_000;
}

const ISO_LENIENT_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/;

/**
 * Parses a UTC time given by a user or a URL (`2026-11-29T17:00:00.123456Z`; 0 to 6 fractional
 * digits, `Z` required) into whole seconds and microseconds since the epoch; null when it is not
 * such a time.
 */
export function parseIsoMicros(text: string): { sec: number; usec: number } | null {
  const m = ISO_LENIENT_RE.exec(text);
  if (m === null) return null;
  const ms = Date.parse(`${m[1]!}Z`);
  if (Number.isNaN(ms)) return null;
  return { sec: ms / 1000, usec: Number((m[2] ?? '').padEnd(6, '0')) };
}
