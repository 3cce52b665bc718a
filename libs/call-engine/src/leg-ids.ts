import { isCorrelationHeaderName } from '@callscope/cdr-model';
import { ByteRange, type SipMessage } from '@callscope/sip-parser';

/**
 * The identifiers that tie the legs of one conversation together across B2BUAs and SBCs, read
 * from header values: RFC 7989 Session-ID and the P-Charging-Vector icid (RFC 7315). X-CID needs
 * no parsing (its value is the first leg's Call-ID). Only messages that carry these headers pay.
 */

/** Longest identifier value a call keeps (the `cdr` columns hold 255 characters). */
export const MAX_LEG_ID_CHARS = 255;

const HEX32 = /^[0-9a-fA-F]{32}$/;
const NULL_UUID = '00000000000000000000000000000000';

/** A sess-uuid as kept: 32 lowercase hex digits (dashes of a UUID in 8-4-4-4-12 form dropped), else null. */
function sessUuid(text: string): string | null {
  const t = text.trim();
  const hex = t.length === 36 && t[8] === '-' && t[13] === '-' && t[18] === '-' && t[23] === '-' ? t.replaceAll('-', '') : t;
  return HEX32.test(hex) ? hex.toLowerCase() : null;
}

/** One Session-ID header: the sender's UUID and the `remote` parameter's (null when absent or the null UUID). */
export interface SessionIdValue {
  readonly local: string;
  readonly remote: string | null;
}

/**
 * `Session-ID: sess-uuid *(SEMI sess-id-param)` (RFC 7989 §6, with `remote=sess-uuid`); the
 * older RFC 7329 form is the UUID alone. Null when the UUID is not 32 hex digits or is the null
 * UUID (an endpoint that does not know its own, RFC 7989 §7, identifies nothing).
 */
export function parseSessionId(value: string): SessionIdValue | null {
  const parts = value.split(';');
  const local = sessUuid(parts[0]!);
  if (local === null || local === NULL_UUID) return null;
  let remote: string | null = null;
  for (let i = 1; i < parts.length; i++) {
    const eq = parts[i]!.indexOf('=');
    if (eq < 0 || parts[i]!.slice(0, eq).trim().toLowerCase() !== 'remote') continue;
    const r = sessUuid(parts[i]!.slice(eq + 1));
    if (r !== null && r !== NULL_UUID) remote = r;
    break;
  }
  return { local, remote };
}

/**
 * The `icid-value` parameter of a P-Charging-Vector (RFC 7315 §4.6: `icid-value = "icid-value"
 * EQUAL gen-value`, a token or a quoted string), unquoted; null when absent or empty. Other
 * parameters such as `related-icid` are not it.
 */
export function parseIcid(value: string): string | null {
  for (const part of splitParams(value)) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim().toLowerCase() !== 'icid-value') continue;
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    return v === '' ? null : v.slice(0, MAX_LEG_ID_CHARS);
  }
  return null;
}

/** `;`-separated parameters, a `;` inside a quoted string not splitting. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) {
      out.push(value.slice(from, i));
      from = i + 1;
    }
  }
  out.push(value.slice(from));
  return out;
}

/** Most correlation headers a sensor can be configured with. */
export const MAX_CORRELATION_HEADERS = 8;


/**
 * A carrier's own correlation headers (`calls.correlationHeaders`): their values are read from
 * every SIP message that has them by walking the parsed header table, comparing names
 * case-insensitively (RFC 3261 §7.3.1). With no header configured nothing is walked.
 */
export class CorrelationHeaders {
  /** The names as configured (the record's keys). */
  readonly names: readonly string[];
  private readonly lower: readonly Uint8Array[];
  private readonly range = new ByteRange();

  /** @throws RangeError for more than {@link MAX_CORRELATION_HEADERS} names, a duplicate, or a name that is not a header name. */
  constructor(names: readonly string[]) {
    if (names.length > MAX_CORRELATION_HEADERS) throw new RangeError(`at most ${MAX_CORRELATION_HEADERS} correlation headers, got ${names.length}`);
    const seen = new Set<string>();
    for (const n of names) {
      if (!isCorrelationHeaderName(n)) throw new RangeError(`correlation header ${JSON.stringify(n)} is not a SIP header name (RFC 3261 token, at most 64 characters)`);
      if (seen.has(n.toLowerCase())) throw new RangeError(`correlation header ${n} is listed twice`);
      seen.add(n.toLowerCase());
    }
    this.names = [...names];
    this.lower = names.map((n) => new TextEncoder().encode(n.toLowerCase()));
  }

  /**
   * The first value of each configured header in `msg` (index as in {@link names}), or null when
   * the message has none of them (the common case allocates nothing).
   */
  read(msg: SipMessage): (string | null)[] | null {
    if (this.lower.length === 0) return null;
    let out: (string | null)[] | null = null;
    const buf = msg.buf;
    for (let h = 0; h < msg.headerCount; h++) {
      const name = msg.headerName(h, this.range);
      for (let k = 0; k < this.lower.length; k++) {
        const want = this.lower[k]!;
        if (name.length !== want.length || out?.[k] != null) continue;
        let same = true;
        for (let i = 0; i < want.length && same; i++) {
          const b = buf[name.offset + i]!;
          same = (b >= 0x41 && b <= 0x5a ? b | 0x20 : b) === want[i];
        }
        if (!same) continue;
        const value = msg.text(msg.headerValue(h, this.range)).slice(0, MAX_LEG_ID_CHARS);
        if (value === '') continue;
        out ??= new Array<string | null>(this.lower.length).fill(null);
        out[k] = value;
      }
    }
    return out;
  }
}
