/**
 * Text for times, durations and numbers as the screens show them. Times arrive as ISO-8601 UTC
 * strings with microseconds (`2026-11-29T17:00:00.123456Z`); a JS Date keeps only milliseconds,
 * so the fraction is read from the string, never from a Date.
 */

/** `2026-11-29 17:00:00.123` (UTC, ms) from an ISO string with µs; '' for null. */
export function formatTime(iso: string | null | undefined, digits: 0 | 3 | 6 = 3): string {
  if (!iso) return '';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z?$/.exec(iso);
  if (!m) return iso;
  const frac = (m[3] ?? '').padEnd(6, '0').slice(0, digits);
  return `${m[1]} ${m[2]}${digits ? `.${frac}` : ''}`;
}

/** Microseconds since the epoch of an ISO string with up to µs (exact: no Date rounding). */
export function isoToMicros(iso: string): number {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(iso);
  const whole = Date.parse(`${m?.[1] ?? iso}Z`);
  const frac = Number((m?.[2] ?? '').padEnd(6, '0').slice(0, 6));
  return whole * 1000 + frac;
}

/** `1:02:03` / `2:03` / `0:07` from seconds; '' for null. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A number with `digits` decimals, '' for null (tables show an empty cell, not "null"). */
export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '';
  return value.toFixed(digits);
}

/** `+1.234 s` offset between two ISO times (ladder labels: time since the first message). */
export function formatOffset(fromIso: string, toIso: string): string {
  const us = isoToMicros(toIso) - isoToMicros(fromIso);
  return `+${(us / 1e6).toFixed(3)} s`;
}
