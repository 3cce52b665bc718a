/**
 * Epoch seconds as written in a truth file (a JSON float) to the CDR's ISO text
 * (`2026-11-29T18:13:35.973372Z`), rounded to the microsecond. Works on the decimal digits (not
 * `t * 1e6`) so float noise cannot move a value by a microsecond.
 */
export function isoFromEpoch(t: number): string {
  const [whole = '0', frac = ''] = String(t).split('.');
  const ns = Number(frac.padEnd(9, '0').slice(0, 9));
  let sec = Number(whole);
  let us = Math.round(ns / 1000);
  if (us === 1_000_000) {
    sec++;
    us = 0;
  }
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(us).padStart(6, '0')}Z`;
}

/** A CDR ISO time with six decimals (`2026-11-29T18:13:35.973372Z`) to integer microseconds since the epoch. */
export function isoToMicros(iso: string): number {
  return Date.parse(`${iso.slice(0, 19)}Z`) * 1000 + Number(iso.slice(20, 26));
}

const CAPINFOS_TIME = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,9})$/;

/**
 * capinfos' UTC `YYYY-MM-DD HH:MM:SS.fraction` (`truth.capture.first_packet_time`) to exact
 * integers, the way a capture record carries its time.
 * @throws Error on any other text
 */
export function parseCapinfosTime(text: string): { sec: number; nsec: number } {
  const m = CAPINFOS_TIME.exec(text);
  if (m === null) throw new Error(`not a capinfos time: ${text}`);
  const [, y, mo, d, h, mi, s, frac] = m;
  const sec = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000;
  return { sec, nsec: Number(frac!.padEnd(9, '0')) };
}
