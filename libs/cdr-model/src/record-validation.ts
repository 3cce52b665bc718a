/**
 * Checks that a record keeps the contract before anyone stores it. Records may arrive from JSON
 * (an on-disk queue, another process), so the checks run on values, not on types. A problem is a
 * programmer error of the producer: the answer is text naming the field, never an exception.
 */
import { parseIpText } from '@callscope/packet';
import { CALL_DROPPED_KEYS, type CallRecord, type RegisterRecord, type StreamRecord } from './cdr-record.js';
import { isIsoMicros } from './iso-micros.js';
import { ssrcToNumber } from './ssrc-text.js';

/**
 * Address text -> its 4 or 16 bytes, or null when it is not an address: `parseIpText` of
 * @callscope/packet by default, or a memo of it (a writer converts the same few addresses again
 * and again, and needs the bytes anyway).
 */
export type IpTextParser = (text: string) => Uint8Array | null;

/** RFC 7989 sess-uuid as the record keeps it. */
const UUID = /^[0-9a-f]{32}$/;

/**
 * A correlation header's name (`CallRecord.correlation` keys, `cdr_correlation.name`): an RFC 3261
 * §25.1 token of at most 64 characters. As text, so a config schema can use it as its `pattern`.
 */
export const CORRELATION_HEADER_PATTERN = "^[A-Za-z0-9.!%*_+`'~-]{1,64}$";
const HEADER_NAME = new RegExp(CORRELATION_HEADER_PATTERN);

/** Whether `name` may be a correlation header's name (see {@link CORRELATION_HEADER_PATTERN}). */
export function isCorrelationHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/**
 * What makes a call record unwritable, or null when there is nothing: the tag, every timestamp
 * (`IsoMicros`), every address, the sensor name, stream SSRC text and loss-burst histogram.
 */
export function validateCallRecord(r: CallRecord, ip: IpTextParser = parseIpText): string | null {
  // Records may come from JSON (the on-disk queue, another process): check the tag at run time.
  if ((r.type as string) !== 'call') return 'type must be "call"';
  for (const key of ['start', 'end'] as const) if (!isIsoMicros(r[key])) return `${key} is not an IsoMicros timestamp`;
  if (r.answer !== null && !isIsoMicros(r.answer)) return 'answer is not an IsoMicros timestamp';
  if (ip(r.caller_ip) === null) return `caller_ip ${r.caller_ip} is not an IP address`;
  if (ip(r.callee_ip) === null) return `callee_ip ${r.callee_ip} is not an IP address`;
  if (r.sensor.length === 0) return 'sensor is empty';
  for (const s of r.streams) {
    if (Number.isNaN(ssrcToNumber(s.ssrc))) return `stream ssrc ${s.ssrc} is not 0x + hex`;
    if (ip(s.src_ip) === null || ip(s.dst_ip) === null) return 'stream address is not an IP address';
    if (!isIsoMicros(s.first) || !isIsoMicros(s.last)) return 'stream first/last is not an IsoMicros timestamp';
    if (s.loss_bursts.length !== 10) return 'stream loss_bursts must have 10 counts';
    // Records queued before `codecs` existed have none: allowed (stored as NULL, read back as []).
    const codecs = s.codecs as StreamRecord['codecs'] | undefined;
    if (codecs !== undefined) {
      if (!Array.isArray(codecs) || codecs.length > 32) return 'stream codecs must be a list of at most 32';
      for (const c of codecs) if (!isIsoMicros(c.from) || !Number.isInteger(c.payload_type)) return 'stream codec entry needs a payload_type and an IsoMicros from';
    }
  }
  for (const d of r.dtmf) if (!isIsoMicros(d.ts)) return 'dtmf ts is not an IsoMicros timestamp';
  for (const x of r.sip_responses) if (!isIsoMicros(x.time)) return 'sip response time is not an IsoMicros timestamp';
  // Records queued on disk before the leg and branch fields existed have none: allowed, stored as NULL.
  const legs = r.linked_legs as CallRecord['linked_legs'] | undefined;
  if (legs !== undefined) {
    if (!Array.isArray(legs) || legs.length > 16) return 'linked_legs must be a list of at most 16';
    for (const l of legs) if (typeof l.call_id !== 'string' || !isIsoMicros(l.start)) return 'linked leg needs a call_id and an IsoMicros start';
  }
  const branches = r.branches as CallRecord['branches'] | undefined;
  if (branches !== undefined) {
    if (!Array.isArray(branches) || branches.length > 16) return 'branches must be a list of at most 16';
    for (const b of branches) {
      if (ip(b.ip) === null) return `branch address ${b.ip} is not an IP address`;
      for (const t of [b.invite, b.final, b.cancel]) if (t !== null && !isIsoMicros(t)) return 'branch time is not an IsoMicros timestamp';
      if (b.provisional.length > 8 || b.provisional.some((p) => !isIsoMicros(p.time))) return 'branch provisional responses must be at most 8 with IsoMicros times';
    }
  }
  // From JSON anything may stand here: checked as unknown.
  const correlation = r.correlation as unknown;
  if (correlation !== undefined) {
    if (typeof correlation !== 'object' || correlation === null) return 'correlation must be an object';
    for (const [name, value] of Object.entries(correlation)) {
      if (!isCorrelationHeaderName(name)) return `correlation header name ${JSON.stringify(name.slice(0, 80))} is not a SIP header name`;
      if (typeof value !== 'string') return `correlation header ${name} must have a text value`;
    }
  }
  const session = r.session_id as CallRecord['session_id'] | undefined;
  if (session !== undefined && session !== null && !UUID.test(session.local_uuid)) return 'session_id.local_uuid must be 32 lowercase hex digits';
  // Records queued on disk by a version before `dropped` existed have no such key: none dropped.
  const dropped = r.dropped as CallRecord['dropped'] | undefined;
  if (dropped !== null && dropped !== undefined) {
    for (const key of CALL_DROPPED_KEYS) {
      const n = dropped[key];
      if (!Number.isSafeInteger(n) || n < 0) return `dropped.${key} must be a count`;
    }
  }
  return null;
}

/** What makes a register record unwritable (tag, times, addresses, sensor), or null. */
export function validateRegisterRecord(r: RegisterRecord, ip: IpTextParser = parseIpText): string | null {
  if ((r.type as string) !== 'register') return 'type must be "register"';
  if (!isIsoMicros(r.first) || !isIsoMicros(r.last)) return 'first/last is not an IsoMicros timestamp';
  if (ip(r.client_ip) === null || ip(r.registrar_ip) === null) return 'address is not an IP address';
  if (r.sensor.length === 0) return 'sensor is empty';
  return null;
}
