/**
 * Mapping of {@link CallRecord}/{@link RegisterRecord} to row value arrays for multi-row INSERTs,
 * in the column order of the `*_COLUMNS` lists. Strings longer than their column are cut (by code
 * points) and counted instead of failing the whole batch under strict SQL mode.
 *
 * @packageDocumentation
 */
import { hash } from 'node:crypto';
import type { CallDropped, CallRecord, IsoMicros, RegisterRecord, StreamRecord } from '@callscope/cdr-model';
import { CALL_DROPPED_KEYS, ssrcToNumber } from '@callscope/cdr-model';
import { ipToBytes } from './ip-address.js';
import { CALL_ID_MAX_CHARS, droppedColumn } from './schema-sql.js';

/** Text address -> 4/16 bytes or null: {@link ipToBytes} or a memo of it (`IpBytesCache.bytes`). */
export type IpToBytes = (text: string) => Buffer | null;

/** One SQL value as passed to mysql2's escaping. */
export type SqlValue = string | number | Buffer | null;

/** Columns of `cdr` written by the writer, in row order (`id` comes from AUTO_INCREMENT). */
export const CDR_COLUMNS = [
  'start', 'answer', 'end', 'duration', 'connect_duration', 'pdd_ms', 'sensor_id', 'call_id', 'call_id_hash',
  'caller', 'caller_reverse', 'called', 'called_reverse', 'caller_name', 'caller_domain', 'called_domain',
  'caller_ip', 'caller_port', 'callee_ip', 'callee_port', 'transport', 'last_sip_code', 'last_sip_reason',
  'bye_by', 'end_reason', 'sip_packets', 'vlan', 'caller_user_agent', 'callee_user_agent', 'mos_worst',
  ...(['a', 'b'] as const).flatMap((p) =>
    ['ssrc', 'payload_type', 'codec', 'packets', 'lost', 'lost_pct', 'jitter_max_ms', 'jitter_mean_ms',
      'mos_f1', 'mos_f2', 'mos_adapt', 'mos_min'].map((c) => `${p}_${c}`)),
  ...CALL_DROPPED_KEYS.map(droppedColumn),
  'x_cid', 'session_uuid', 'session_remote_uuid', 'icid', 'correlation', 'linked_legs', 'branches', 'a_codecs', 'b_codecs',
] as const;

/** Columns of `cdr_rtp`. */
export const RTP_COLUMNS = [
  'cdr_id', 'start', 'idx', 'ssrc', 'side', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'payload_type',
  'codec', 'packets', 'lost', 'lost_pct', 'seq_errors', 'duplicated', 'reordered', 'first', 'last',
  'jitter_max_ms', 'jitter_mean_ms', 'delta_max_ms', 'loss_bursts', 'mos_f1', 'mos_f2', 'mos_adapt',
  'mos_min', 'rtcp_packets', 'rtcp_lost', 'rtcp_fraction_lost_max_pct', 'rtcp_jitter_max_ms', 'rtcp_rtt_max_ms',
  'codecs',
] as const;

/** Columns of `cdr_sip_response`. */
export const SIP_RESPONSE_COLUMNS = ['cdr_id', 'start', 'idx', 'code', 'reason', 'time', 'cseq_method', 'from_side'] as const;

/** Columns of `cdr_correlation`. */
export const CORRELATION_COLUMNS = ['cdr_id', 'start', 'idx', 'name', 'value'] as const;

/** Columns of `cdr_dtmf`. */
export const DTMF_COLUMNS = ['cdr_id', 'start', 'idx', 'digit', 'ts', 'method', 'duration_ms'] as const;

/** Columns of `register` and `register_failed`. */
export const REGISTER_COLUMNS = [
  'first', 'last', 'sensor_id', 'call_id', 'call_id_hash', 'user', 'domain', 'contact', 'expires', 'result', 'last_sip_code',
  'client_ip', 'client_port', 'registrar_ip', 'registrar_port', 'user_agent', 'challenged', 'transactions',
] as const;

/** `IsoMicros` -> `DATETIME(6)` literal text (`2026-11-29 17:00:00.123456`); no time zone math. */
export function isoToSql(iso: IsoMicros): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 26)}`;
}

/** `DATETIME(6)` text -> `IsoMicros`. */
export function sqlToIso(sql: string): IsoMicros {
  return `${sql.slice(0, 10)}T${sql.slice(11, 26)}Z`;
}

/** Reverses a string by code points, for suffix search through a prefix index. */
export function reverseText(text: string): string {
  return Array.from(text).reverse().join('');
}

/** Cuts strings to column widths (in characters, as `VARCHAR(n)` counts) and counts the cuts. */
export class Truncator {
  /** Strings cut so far. */
  truncated = 0;
  /** Of those, Call-IDs longer than {@link CALL_ID_MAX_CHARS} (their key still holds the whole Call-ID). */
  callIdsCut = 0;

  /** A Call-ID as stored in `call_id`: cut to {@link CALL_ID_MAX_CHARS}, counted in both counters. */
  callId(text: string): string {
    const before = this.truncated;
    const out = this.cut(text, CALL_ID_MAX_CHARS);
    if (this.truncated !== before) this.callIdsCut++;
    return out;
  }

  /** `text` cut to `max` code points. */
  cut(text: string, max: number): string {
    // UTF-16 length >= code points, so the cheap test settles almost every value.
    if (text.length <= max) return text;
    const points = Array.from(text);
    if (points.length <= max) return text;
    this.truncated++;
    return points.slice(0, max).join('');
  }

  /** Nullable variant of {@link Truncator.cut}. */
  cutOrNull(text: string | null, max: number): string | null {
    return text === null ? null : this.cut(text, max);
  }
}

/** The text `call_id` as stored (cut to {@link CALL_ID_MAX_CHARS}). */
export function storedCallId(callId: string): string {
  return new Truncator().cut(callId, CALL_ID_MAX_CHARS);
}

/**
 * `call_id_hash`, the Call-ID part of the natural keys: the first 16 bytes of the SHA-256 of the
 * whole Call-ID's UTF-8 text, so Call-IDs of any length that differ anywhere are two keys (see
 * `SCHEMA_V3`). Equal to the server's `UNHEX(LEFT(SHA2(call_id, 256), 32))` for a Call-ID that
 * fits its column, which is how rows stored before version 3 got theirs.
 */
export function callIdHash(callId: string): Buffer {
  // One-shot `hash` (Node 20.12+): about 3x cheaper than a `createHash` object per record.
  return hash('sha256', callId, 'buffer').subarray(0, 16);
}

/**
 * The record's `dropped`, `null` when absent: records queued on disk by a version before the
 * field existed have no such key.
 */
export function droppedOf(r: CallRecord): CallDropped | null {
  const dropped: CallDropped | null | undefined = r.dropped;
  return dropped ?? null;
}

/**
 * The main stream of a side: the one with the most packets (first wins a tie). This is what the
 * `a_*` (caller) and `b_*` (callee) columns summarise.
 */
export function mainStream(streams: readonly StreamRecord[], side: 'caller' | 'callee'): StreamRecord | null {
  let best: StreamRecord | null = null;
  for (const s of streams) if (s.side === side && (best === null || s.packets > best.packets)) best = s;
  return best;
}

/** Appends the 12 `a_*`/`b_*` values of a side's main stream (all null without one). */
function pushSide(out: SqlValue[], s: StreamRecord | null): void {
  if (s === null) {
    for (let i = 0; i < 12; i++) out.push(null);
    return;
  }
  out.push(ssrcToNumber(s.ssrc), s.payload_type, s.codec === null ? null : s.codec.slice(0, 32), s.packets, s.lost, s.lost_pct,
    s.jitter_max_ms, s.jitter_mean_ms, s.mos_f1, s.mos_f2, s.mos_adapt, s.mos_min);
}

/** Lowest MOS of the two main streams (adaptive buffer, else fixed 200 ms, else 50 ms): `cdr.mos_worst`. */
export function worstMos(a: StreamRecord | null, b: StreamRecord | null): number | null {
  let worst: number | null = null;
  for (const s of [a, b]) {
    const mos = s === null ? null : (s.mos_adapt ?? s.mos_f2 ?? s.mos_f1);
    if (mos !== null && (worst === null || mos < worst)) worst = mos;
  }
  return worst;
}

/** Row values of `cdr` for a validated record. */
export function cdrRow(r: CallRecord, sensorId: number, t: Truncator, ip: IpToBytes = ipToBytes): SqlValue[] {
  const out: SqlValue[] = [];
  pushCdrRow(out, r, sensorId, t, ip, callIdHash(r.call_id));
  return out;
}

/**
 * Appends the `cdr` row of a validated record to `out`, the flat values of a multi-row INSERT:
 * the writer fills one array per table and batch instead of one array per row that would then be
 * copied into the statement's values (two allocations and a copy per row on the writer's hot path).
 */
export function pushCdrRow(out: SqlValue[], r: CallRecord, sensorId: number, t: Truncator, ip: IpToBytes, hash: Buffer): void {
  const caller = t.cut(r.caller, 128);
  const called = t.cut(r.called, 128);
  const a = mainStream(r.streams, 'caller');
  const b = mainStream(r.streams, 'callee');
  out.push(
    isoToSql(r.start), r.answer === null ? null : isoToSql(r.answer), isoToSql(r.end), r.duration, r.connect_duration,
    r.pdd_ms, sensorId, t.callId(r.call_id), hash, caller, reverseText(caller), called, reverseText(called),
    t.cutOrNull(r.caller_name, 128), t.cut(r.caller_domain, 128), t.cut(r.called_domain, 128),
    ip(r.caller_ip), r.caller_port, ip(r.callee_ip), r.callee_port, r.transport, r.last_sip_code,
    t.cutOrNull(r.last_sip_reason, 128), r.bye_by, r.end_reason, r.sip_packets, r.vlan,
    t.cutOrNull(r.caller_user_agent, 255), t.cutOrNull(r.callee_user_agent, 255), worstMos(a, b),
  );
  pushSide(out, a);
  pushSide(out, b);
  const dropped = droppedOf(r);
  for (const key of CALL_DROPPED_KEYS) out.push(dropped === null ? null : dropped[key]);
  // Records queued before these fields existed have none of them: NULL, read back as empty.
  const legs = r as Partial<Pick<CallRecord, 'x_cid' | 'session_id' | 'icid' | 'correlation' | 'linked_legs' | 'branches'>>;
  const session = legs.session_id ?? null;
  out.push(
    t.cutOrNull(legs.x_cid ?? null, 255), session?.local_uuid ?? null, session?.remote_uuid ?? null, t.cutOrNull(legs.icid ?? null, 255),
    legs.correlation === undefined || Object.keys(legs.correlation).length === 0 ? null : JSON.stringify(legs.correlation),
    legs.linked_legs === undefined || legs.linked_legs.length === 0 ? null : JSON.stringify(legs.linked_legs),
    legs.branches === undefined || legs.branches.length === 0 ? null : JSON.stringify(legs.branches),
    codecList(a), codecList(b),
  );
}

/**
 * `a_codecs`/`b_codecs`: the codecs of a main stream in order, comma-separated, `null` without a
 * stream or without named codecs; cut at a whole name within the column's 128 characters.
 */
export function codecList(s: StreamRecord | null): string | null {
  if (s === null) return null;
  const codecs = (s.codecs as StreamRecord['codecs'] | undefined) ?? [];
  let out = '';
  for (const c of codecs) {
    const name = c.codec ?? `PT${c.payload_type}`;
    if (out.length + name.length + 1 > 128) break;
    out = out === '' ? name : `${out},${name}`;
  }
  return out === '' ? (s.codec === null ? null : s.codec.slice(0, 32)) : out;
}

/** The `cdr_correlation` rows of a call: one per configured correlation header it carried. */
export function pushCorrelationRows(out: SqlValue[], cdrId: number, start: string, r: CallRecord, t: Truncator): void {
  const correlation = (r.correlation as CallRecord['correlation'] | undefined) ?? {};
  let idx = 0;
  for (const [name, value] of Object.entries(correlation)) {
    if (idx >= 255) break;
    out.push(cdrId, start, idx++, name.slice(0, 64), t.cut(value, 255));
  }
}

/** Row values of `cdr_rtp` for stream `idx` of a call. */
export function rtpRow(cdrId: number, start: string, idx: number, s: StreamRecord, t: Truncator, ip: IpToBytes = ipToBytes): SqlValue[] {
  const out: SqlValue[] = [];
  pushRtpRow(out, cdrId, start, idx, s, t, ip);
  return out;
}

/** Appends the `cdr_rtp` row of stream `idx` of a call to `out` (see {@link pushCdrRow}). */
export function pushRtpRow(out: SqlValue[], cdrId: number, start: string, idx: number, s: StreamRecord, t: Truncator, ip: IpToBytes = ipToBytes): void {
  const rtcp = s.rtcp;
  out.push(
    cdrId, start, idx, ssrcToNumber(s.ssrc), s.side, ip(s.src_ip), s.src_port, ip(s.dst_ip), s.dst_port,
    s.payload_type, t.cutOrNull(s.codec, 32), s.packets, s.lost, s.lost_pct, s.seq_errors, s.duplicated, s.reordered,
    isoToSql(s.first), isoToSql(s.last), s.jitter_max_ms, s.jitter_mean_ms, s.delta_max_ms, s.loss_bursts.join(','),
    s.mos_f1, s.mos_f2, s.mos_adapt, s.mos_min,
    rtcp?.packets ?? null, rtcp?.lost ?? null, rtcp?.fraction_lost_max_pct ?? null, rtcp?.jitter_max_ms ?? null,
    rtcp === null ? null : rtcp.rtt_max_ms,
    // A record queued before `codecs` existed has none: NULL, read back as [].
    (s.codecs as StreamRecord['codecs'] | undefined) === undefined ? null : JSON.stringify(s.codecs),
  );
}

/** Row values of `register` / `register_failed`. */
export function registerRow(r: RegisterRecord, sensorId: number, t: Truncator, ip: IpToBytes = ipToBytes): SqlValue[] {
  return [
    isoToSql(r.first), isoToSql(r.last), sensorId, t.callId(r.call_id), callIdHash(r.call_id), t.cut(r.user, 128), t.cut(r.domain, 128),
    t.cutOrNull(r.contact, 255), r.expires, r.result, r.last_sip_code, ip(r.client_ip), r.client_port,
    ip(r.registrar_ip), r.registrar_port, t.cutOrNull(r.user_agent, 255), r.challenged ? 1 : 0, r.transactions,
  ];
}
