/**
 * Typed read queries for the GUI: search calls by date range plus filters, and one call with all
 * its child rows (rebuilt as the {@link CallRecord} that was written). Every search is bounded by a
 * start range first, so MariaDB prunes to the days' partitions before using any index.
 *
 * @packageDocumentation
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { CallDropped, CallRecord, EndReason, IsoMicros, RegisterRecord, StreamRecord } from '@callscope/cdr-model';
import { CALL_DROPPED_KEYS, ssrcToText } from '@callscope/cdr-model';
import { formatIpBytes } from '@callscope/packet';
import { callIdHash, isoToSql, reverseText, sqlToIso } from './cdr-row.js';
import { droppedColumn } from './schema-sql.js';

/** Filters of {@link searchCalls}; text filters match case-insensitively. */
export interface CdrSearchFilter {
  /** Calls starting at or after this instant. */
  from: IsoMicros;
  /** Calls starting before this instant. */
  to: IsoMicros;
  /** Caller number/user begins with this. */
  caller_prefix?: string;
  /** Caller number/user ends with this (served by `caller_reverse`). */
  caller_suffix?: string;
  /** Called number/user begins with this. */
  called_prefix?: string;
  /** Called number/user ends with this. */
  called_suffix?: string;
  /** Exact Call-ID, whole (found through `call_id_hash`, whatever its length). */
  call_id?: string;
  /** Sensor name. */
  sensor?: string;
  /** Lowest MOS of the main streams below this (`cdr.mos_worst`). */
  mos_below?: number;
  /** End reason. */
  end_reason?: EndReason;
  /** Last SIP code. */
  last_sip_code?: number;
  /**
   * `true`: only calls whose data is incomplete (the sniffer dropped some of their packets, see
   * `CallRecord.dropped`); `false`: only complete ones. Tested on `idx_start_quality` entries.
   */
  incomplete?: boolean;
  /** Rows returned, newest first (default 100, at most 10 000). */
  limit?: number;
}

/** One row of a call search: the columns a result list shows. */
export interface CdrSummary {
  /** `cdr.id`; with `start`, the key of {@link getCall}. */
  id: number;
  /** Call start (UTC, microseconds). */
  start: IsoMicros;
  /** Call end. */
  end: IsoMicros;
  /** Seconds. */
  duration: number;
  /** Sensor name. */
  sensor: string;
  /** SIP Call-ID. */
  call_id: string;
  /** Caller user. */
  caller: string;
  /** Called user. */
  called: string;
  /** Caller signalling address. */
  caller_ip: string;
  /** Callee signalling address. */
  callee_ip: string;
  /** Last SIP code. */
  last_sip_code: number | null;
  /** End reason. */
  end_reason: EndReason;
  /** Lowest MOS of the main streams. */
  mos_worst: number | null;
  /** The sniffer dropped some of this call's packets (`CallRecord.dropped` has a count above 0). */
  incomplete: boolean;
}

const likeEscape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
const ISO = (col: string): string => `DATE_FORMAT(${col}, '%Y-%m-%d %H:%i:%s.%f')`;

/** A parameterised SELECT: its text and the values of its `?` placeholders. */
export interface SqlQuery {
  /** Statement text with `?` placeholders. */
  sql: string;
  /** Placeholder values, in order. */
  args: (string | number | Buffer)[];
}

/**
 * The SELECT that {@link searchCalls} runs for `filter`, e.g. to `EXPLAIN` it.
 *
 * Two steps ("deferred join"): the derived table finds the keys `(id, start)` of the newest
 * `limit` matches, then only those rows are read. Every secondary index ends in the primary key,
 * so for the start range, caller/called and MOS filters the first step reads index entries only.
 * That matters for "MOS below x": `idx_start_quality (start, mos_worst, incomplete)` is walked
 * backwards testing `mos_worst` (and `incomplete`) on the entry itself; reading each row to test it (what a one-step query does, since
 * MariaDB applies no index condition pushdown to a backward scan) took 45 s on a day of 1M CDRs
 * with few matches, against 0.3 s for the whole day's index entries.
 *
 * `STRAIGHT_JOIN` keeps the found keys the driving table: with the one-row `sensors` table first,
 * MariaDB would sort every matching call before applying `LIMIT` (measured on 200k-300k CDRs:
 * "last hour" 69 ms -> 0.8 ms). Which index serves which filter is listed in the README.
 *
 * @throws RangeError if `limit` is not 1..10000.
 */
export function buildCallSearch(filter: CdrSearchFilter): SqlQuery {
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new RangeError(`limit must be 1..10000, got ${limit}`);
  const where = ['c.start >= ?', 'c.start < ?'];
  const args: (string | number | Buffer)[] = [isoToSql(filter.from), isoToSql(filter.to)];
  const add = (sql: string, value: string | number | Buffer | undefined): void => {
    if (value === undefined) return;
    where.push(sql);
    args.push(value);
  };
  add('c.caller LIKE ?', filter.caller_prefix === undefined ? undefined : `${likeEscape(filter.caller_prefix)}%`);
  add('c.caller_reverse LIKE ?', filter.caller_suffix === undefined ? undefined : `${likeEscape(reverseText(filter.caller_suffix))}%`);
  add('c.called LIKE ?', filter.called_prefix === undefined ? undefined : `${likeEscape(filter.called_prefix)}%`);
  add('c.called_reverse LIKE ?', filter.called_suffix === undefined ? undefined : `${likeEscape(reverseText(filter.called_suffix))}%`);
  add('c.call_id_hash = ?', filter.call_id === undefined ? undefined : callIdHash(filter.call_id));
  add('c.sensor_id = (SELECT id FROM sensors WHERE name = ?)', filter.sensor);
  add('c.mos_worst < ?', filter.mos_below);
  add('c.end_reason = ?', filter.end_reason);
  add('c.last_sip_code = ?', filter.last_sip_code);
  add('c.incomplete = ?', filter.incomplete === undefined ? undefined : Number(filter.incomplete));
  return {
    sql: `SELECT r.id, ${ISO('r.start')} AS start, ${ISO('r.`end`')} AS end_, r.duration, s.name AS sensor, r.call_id,
       r.caller, r.called, r.caller_ip, r.callee_ip, r.last_sip_code, r.end_reason, r.mos_worst, r.incomplete
     FROM (SELECT c.id, c.start FROM cdr c WHERE ${where.join(' AND ')} ORDER BY c.start DESC LIMIT ${limit}) k
     STRAIGHT_JOIN cdr r ON r.id = k.id AND r.start = k.start
     STRAIGHT_JOIN sensors s ON s.id = r.sensor_id
     ORDER BY r.start DESC`,
    args,
  };
}

/**
 * Searches calls with `start` in `[from, to)`, newest first (see {@link buildCallSearch}).
 *
 * @throws RangeError if `limit` is not 1..10000.
 */
export async function searchCalls(pool: Pool, filter: CdrSearchFilter): Promise<CdrSummary[]> {
  const { sql, args } = buildCallSearch(filter);
  const [rows] = await pool.query<RowDataPacket[]>(sql, args);
  return rows.map((r) => ({
    id: Number(r.id),
    start: sqlToIso(r.start as string),
    end: sqlToIso(r.end_ as string),
    duration: r.duration as number,
    sensor: r.sensor as string,
    call_id: r.call_id as string,
    caller: r.caller as string,
    called: r.called as string,
    caller_ip: formatIpBytes(r.caller_ip as Buffer),
    callee_ip: formatIpBytes(r.callee_ip as Buffer),
    last_sip_code: r.last_sip_code as number | null,
    end_reason: r.end_reason as EndReason,
    mos_worst: r.mos_worst as number | null,
    incomplete: r.incomplete === 1,
  }));
}

const isoOrNull = (v: unknown): IsoMicros | null => (v === null ? null : sqlToIso(v as string));

/**
 * One call with its streams, SIP responses and DTMF, as the {@link CallRecord} that was written
 * (strings longer than their column come back cut). `start` (if known) lets MariaDB read one
 * partition instead of probing each.
 */
export async function getCall(pool: Pool, id: number, start?: IsoMicros): Promise<(CallRecord & { id: number }) | null> {
  const startSql = start === undefined ? null : isoToSql(start);
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT c.*, s.name AS sensor, ${ISO('c.start')} AS start_s, ${ISO('c.answer')} AS answer_s, ${ISO('c.`end`')} AS end_s
     FROM cdr c JOIN sensors s ON s.id = c.sensor_id WHERE c.id = ?${startSql === null ? '' : ' AND c.start = ?'}`,
    startSql === null ? [id] : [id, startSql],
  );
  const c = rows[0];
  if (c === undefined) return null;
  const key = [id, c.start_s as string];
  const [streams] = await pool.query<RowDataPacket[]>(
    `SELECT *, ${ISO('`first`')} AS first_s, ${ISO('`last`')} AS last_s FROM cdr_rtp WHERE cdr_id = ? AND start = ? ORDER BY idx`,
    key,
  );
  const [responses] = await pool.query<RowDataPacket[]>(
    `SELECT *, ${ISO('`time`')} AS time_s FROM cdr_sip_response WHERE cdr_id = ? AND start = ? ORDER BY idx`,
    key,
  );
  const [dtmf] = await pool.query<RowDataPacket[]>(`SELECT *, ${ISO('ts')} AS ts_s FROM cdr_dtmf WHERE cdr_id = ? AND start = ? ORDER BY idx`, key);
  return {
    id,
    type: 'call',
    sensor: c.sensor as string,
    call_id: c.call_id as string,
    caller: c.caller as string,
    called: c.called as string,
    caller_domain: c.caller_domain as string,
    called_domain: c.called_domain as string,
    caller_name: c.caller_name as string | null,
    caller_ip: formatIpBytes(c.caller_ip as Buffer),
    caller_port: c.caller_port as number,
    callee_ip: formatIpBytes(c.callee_ip as Buffer),
    callee_port: c.callee_port as number,
    transport: c.transport as CallRecord['transport'],
    start: sqlToIso(c.start_s as string),
    answer: isoOrNull(c.answer_s),
    end: sqlToIso(c.end_s as string),
    duration: c.duration as number,
    connect_duration: c.connect_duration as number | null,
    pdd_ms: c.pdd_ms as number | null,
    last_sip_code: c.last_sip_code as number | null,
    last_sip_reason: c.last_sip_reason as string | null,
    bye_by: c.bye_by as CallRecord['bye_by'],
    end_reason: c.end_reason as EndReason,
    sip_packets: c.sip_packets as number,
    vlan: c.vlan as number | null,
    caller_user_agent: c.caller_user_agent as string | null,
    callee_user_agent: c.callee_user_agent as string | null,
    dtmf: dtmf.map((d) => ({
      digit: d.digit as string,
      ts: sqlToIso(d.ts_s as string),
      method: d.method as CallRecord['dtmf'][number]['method'],
      duration_ms: d.duration_ms as number | null,
    })),
    sip_responses: responses.map((x) => ({
      code: x.code as number,
      reason: x.reason as string,
      time: sqlToIso(x.time_s as string),
      cseq_method: x.cseq_method as string,
      from_side: x.from_side as 'caller' | 'callee',
    })),
    streams: streams.map((s) => streamOf(s)),
    x_cid: c.x_cid as string | null,
    session_id: c.session_uuid === null ? null : { local_uuid: c.session_uuid as string, remote_uuid: c.session_remote_uuid as string | null },
    icid: c.icid as string | null,
    // Rows written before version 10 have NULL lists: read back as empty, as the writer stores empty ones.
    correlation: c.correlation === null ? {} : (JSON.parse(c.correlation as string) as CallRecord['correlation']),
    linked_legs: c.linked_legs === null ? [] : (JSON.parse(c.linked_legs as string) as CallRecord['linked_legs']),
    branches: c.branches === null ? [] : (JSON.parse(c.branches as string) as CallRecord['branches']),
    dropped: droppedOfRow(c),
  };
}

/** `dropped_*` columns -> `CallRecord.dropped`; all `NULL` (as the writer stores `null`) -> `null`. */
function droppedOfRow(c: RowDataPacket): CallDropped | null {
  if (c[droppedColumn(CALL_DROPPED_KEYS[0])] === null) return null;
  const out = {} as CallDropped;
  for (const key of CALL_DROPPED_KEYS) out[key] = Number(c[droppedColumn(key)] ?? 0);
  return out;
}

function streamOf(s: RowDataPacket): StreamRecord {
  return {
    ssrc: ssrcToText(s.ssrc as number),
    side: s.side as StreamRecord['side'],
    src_ip: formatIpBytes(s.src_ip as Buffer),
    src_port: s.src_port as number,
    dst_ip: formatIpBytes(s.dst_ip as Buffer),
    dst_port: s.dst_port as number,
    payload_type: s.payload_type as number,
    codec: s.codec as string | null,
    codecs: s.codecs === null ? [] : (JSON.parse(s.codecs as string) as StreamRecord['codecs']),
    packets: s.packets as number,
    lost: s.lost as number,
    lost_pct: s.lost_pct as number,
    seq_errors: s.seq_errors as number,
    duplicated: s.duplicated as number,
    reordered: s.reordered as number,
    first: sqlToIso(s.first_s as string),
    last: sqlToIso(s.last_s as string),
    jitter_max_ms: s.jitter_max_ms as number,
    jitter_mean_ms: s.jitter_mean_ms as number,
    delta_max_ms: s.delta_max_ms as number,
    loss_bursts: (s.loss_bursts as string).split(',').map(Number),
    mos_f1: s.mos_f1 as number | null,
    mos_f2: s.mos_f2 as number | null,
    mos_adapt: s.mos_adapt as number | null,
    mos_min: s.mos_min as number | null,
    rtcp:
      s.rtcp_packets === null
        ? null
        : {
            packets: s.rtcp_packets as number,
            lost: s.rtcp_lost as number,
            fraction_lost_max_pct: s.rtcp_fraction_lost_max_pct as number,
            jitter_max_ms: s.rtcp_jitter_max_ms as number,
            rtt_max_ms: s.rtcp_rtt_max_ms as number | null,
          },
  };
}

/** Filters of {@link searchRegistrations}. */
export interface RegisterSearchFilter {
  /** First REGISTER at or after this instant. */
  from: IsoMicros;
  /** First REGISTER before this instant. */
  to: IsoMicros;
  /** Search `register_failed` instead of `register`. */
  failed?: boolean;
  /** Exact user (address-of-record user part). */
  user?: string;
  /** Rows returned, newest first (default 100, at most 10 000). */
  limit?: number;
}

/**
 * Searches registrations (`register`, or `register_failed` with `failed: true`) by first-seen time.
 *
 * @throws RangeError if `limit` is not 1..10000.
 */
export async function searchRegistrations(pool: Pool, filter: RegisterSearchFilter): Promise<RegisterRecord[]> {
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new RangeError(`limit must be 1..10000, got ${limit}`);
  const table = filter.failed === true ? 'register_failed' : 'register';
  const args: string[] = [isoToSql(filter.from), isoToSql(filter.to)];
  if (filter.user !== undefined) args.push(filter.user);
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT r.*, s.name AS sensor, ${ISO('r.`first`')} AS first_s, ${ISO('r.`last`')} AS last_s
     FROM \`${table}\` r STRAIGHT_JOIN sensors s ON s.id = r.sensor_id
     WHERE r.\`first\` >= ? AND r.\`first\` < ?${filter.user === undefined ? '' : ' AND r.`user` = ?'}
     ORDER BY r.\`first\` DESC LIMIT ${limit}`,
    args,
  );
  return rows.map((r) => ({
    type: 'register',
    sensor: r.sensor as string,
    call_id: r.call_id as string,
    user: r.user as string,
    domain: r.domain as string,
    contact: r.contact as string | null,
    expires: r.expires as number | null,
    result: r.result as RegisterRecord['result'],
    last_sip_code: r.last_sip_code as number | null,
    first: sqlToIso(r.first_s as string),
    last: sqlToIso(r.last_s as string),
    client_ip: formatIpBytes(r.client_ip as Buffer),
    client_port: r.client_port as number,
    registrar_ip: formatIpBytes(r.registrar_ip as Buffer),
    registrar_port: r.registrar_port as number,
    user_agent: r.user_agent as string | null,
    challenged: r.challenged === 1,
    transactions: r.transactions as number,
  }));
}
