import { parseIsoMicros } from '@callscope/cdr-model';
import { SpoolGroup } from '@callscope/pcap-store';

/** Longest Call-ID accepted (the CDR column holds 1024 characters). */
export const MAX_CALL_ID_LENGTH = 1024;
/** Longest request URL accepted: a fully percent-encoded Call-ID plus route and query. */
export const MAX_URL_LENGTH = MAX_CALL_ID_LENGTH * 3 + 1024;
/** Largest start second the spool can name (its names hold 32-bit seconds, 2106-02-07). */
const MAX_START_SEC = 0xffff_ffff;

// C0 controls, DEL and NUL: no SIP Call-ID has them (RFC 3261 §25.1 `word`), and NUL cuts C paths.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Whether a Call-ID taken from a URL may be looked up. Any other text is fine, `/` and `..`
 * included: the spool names files by a sanitised prefix plus a hash of the Call-ID, never the
 * Call-ID itself, so no Call-ID can name a path outside the spool (see spool-path.ts).
 */
export function isAcceptableCallId(callId: string): boolean {
  return callId.length > 0 && callId.length <= MAX_CALL_ID_LENGTH && !CONTROL_CHARS.test(callId);
}

/** A call start from a URL as the spool wants it, or null when it is not a time the spool can hold. */
export function parseCallStart(text: string): { sec: number; usec: number } | null {
  if (text.length > 40) return null;
  const when = parseIsoMicros(text);
  if (when === null || !Number.isInteger(when.sec) || when.sec < 0 || when.sec > MAX_START_SEC) return null;
  // Date.parse rolls impossible dates over (02-30 -> 03-02): a CDR never holds one, so refuse it.
  if (new Date(when.sec * 1000).toISOString().slice(0, 19) !== text.slice(0, 19)) return null;
  return when;
}

/** The `parts` query (`sip`, `rtp`, `sip,rtp`) as spool groups, or null when it names anything else. */
export function parseParts(text: string | undefined): SpoolGroup[] | null {
  if (text === undefined) return [SpoolGroup.SIP, SpoolGroup.RTP];
  const groups: SpoolGroup[] = [];
  for (const part of text.split(',')) {
    const group = part === 'sip' ? SpoolGroup.SIP : part === 'rtp' ? SpoolGroup.RTP : null;
    if (group === null || groups.includes(group)) return null;
    groups.push(group);
  }
  return groups;
}

/**
 * Download file name for a call: `<Call-ID sanitised to [A-Za-z0-9._-], 64 max>_<start as
 * YYYYMMDDTHHMMSS.uuuuuuZ>.<ext>`. Only safe characters, so it needs no quoting rules beyond the
 * surrounding quotes (RFC 6266) and cannot name a directory on the client.
 */
export function pcapFileName(callId: string, start: { sec: number; usec: number }, ext: string): string {
  let safe = callId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64).replace(/^\.+/, '_');
  if (safe === '') safe = 'call';
  const iso = new Date(start.sec * 1000).toISOString().slice(0, 19).replace(/[-:]/g, '');
  return `${safe}_${iso}.${String(start.usec).padStart(6, '0')}Z.${ext}`;
}
