import { formatIsoMicros, type IsoMicros } from '@callscope/cdr-schema';

/**
 * Capture time (integer seconds + nanoseconds) as integer microseconds since the epoch, rounded
 * to the nearest microsecond (nanosecond captures: the CDR keeps microseconds, DATETIME(6)).
 */
export function toMicros(tsSec: number, tsNsec: number): number {
  return tsSec * 1_000_000 + Math.round(tsNsec / 1000);
}

/** Integer microseconds since the epoch as the CDR's ISO text with six fractional digits. */
export function isoFromMicros(us: number): IsoMicros {
  const sec = Math.floor(us / 1_000_000);
  return formatIsoMicros(sec, us - sec * 1_000_000);
}

/** A microsecond difference as seconds with six decimals, free of float noise. */
export function secondsBetween(fromUs: number, toUs: number): number {
  return Math.round(toUs - fromUs) / 1_000_000;
}
