/**
 * The web GUI's call list: every filter of its search form, sorting by a few columns, and keyset
 * pagination (never `OFFSET`, whose cost grows with the page number and which repeats or skips
 * rows when calls are inserted between two pages).
 *
 * Order and keyset. Rows are ordered by `(sort value, start, id)`, all three in the direction the
 * user asked for; `(start, id)` is unique, so the order is total and a page ends at one exact
 * position. The next page is "rows strictly after that position", which only depends on the
 * values of the last row: a call inserted meanwhile lands before or after the position but
 * cannot move any row that existed across it, so no existing row is repeated or skipped.
 *
 * Sorting by `start` (the default, and the only order an index serves over a long range): the
 * start index is `idx_start_quality (start, mos_worst, incomplete)` plus the primary key, so
 * `ORDER BY start DESC, id DESC` is not its order and MariaDB would sort every match of the range
 * before `LIMIT` (2.3 M index entries for a week on 10 M CDRs). Instead the key query orders by
 * `start` alone, which walks the index backwards and stops after `limit + 1` matches; the rows
 * tied with the last one on `start` (usually none: starts have microseconds) are then read with a
 * point range `start = s` and the page is cut in `(start, id)` order. Exact, and both steps read
 * index entries only for the range, caller/called and MOS filters.
 *
 * `caller` and `called` lead their own indexes and are served the same way (ties: the rows equal
 * under the column's case-insensitive collation, grouped by `WEIGHT_STRING`), and so is `duration`
 * through `idx_duration (duration, start)` (schema version 6; ties: the same duration and start).
 * The other sort keys (`mos_worst`, `last_sip_code`) are in no index of their own: the range's
 * matches are read and sorted (`LIMIT` kept in a priority queue), fine for an hour or a filtered
 * day, proportional to the matches for longer ranges (see the README's figures; `mos_worst` sorts
 * index entries of `idx_start_quality`, no row). Nullable sort columns sort as -1 when NULL (no
 * MOS, no final code), i.e. first ascending, last descending.
 *
 * The address filter (either party) is split into one branch per party, merged by a `UNION`, so
 * each branch can walk its party's `(ip, start)` index (schema version 6): see {@link buildGuiKeyQuery}.
 * The leg filter (one identifier against Call-ID, X-CID, icid, Session-ID and the correlation
 * headers, schema version 10) is split the same way, one branch per identifier's index.
 *
 * @packageDocumentation
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { CallRecord, EndReason, IsoMicros } from '@callscope/cdr-model';
import { isoFromMicros, parseIsoMicros } from '@callscope/cdr-model';
import { formatIpBytes } from '@callscope/packet';
import { callIdHash, isoToSql, reverseText, sqlToIso } from './cdr-row.js';
import type { IpByteRange } from './gui-ip-range.js';
import type { SqlQuery } from './cdr-queries.js';
import { getCall } from './cdr-queries.js';

/** How a number filter matches the stored caller or called user. */
export type GuiTextMatch = 'prefix' | 'suffix' | 'contains';

/** A caller/called filter: the text and how it matches (case-insensitively, as the column's collation compares). */
export interface GuiNumberFilter {
  /** Text to find; `%`, `_` and `\` are literal. */
  readonly text: string;
  /** `prefix` and `suffix` are served by an index, `contains` is tested on every row of the range. */
  readonly match: GuiTextMatch;
}

/** Filters of {@link searchCallPage}; every one is optional but the start range. */
export interface GuiCallFilter {
  /** Calls starting at or after this instant. */
  readonly from: IsoMicros;
  /** Calls starting before this instant. */
  readonly to: IsoMicros;
  /** Caller number/user. */
  readonly caller?: GuiNumberFilter;
  /** Called number/user. */
  readonly called?: GuiNumberFilter;
  /** Either party's signalling address within this range (see `parseIpRange`). */
  readonly ip?: IpByteRange;
  /** Exact Call-ID, whole. */
  readonly call_id?: string;
  /** `cdr.sensor_id`. */
  readonly sensor_id?: number;
  /** Last SIP code within these bounds, included (`486..486` exact, `400..499` the class). */
  readonly code?: { readonly min: number; readonly max: number };
  /** Duration in seconds at or above. */
  readonly duration_min?: number;
  /** Duration in seconds at or below. */
  readonly duration_max?: number;
  /** `mos_worst` below this. */
  readonly mos_below?: number;
  /** Loss percentage of either main stream at or above this. */
  readonly loss_above?: number;
  /** Max jitter (ms) of either main stream at or above this. */
  readonly jitter_above?: number;
  /**
   * Codec of either main stream at any time of the call (case-insensitive): its codec, or one of
   * the codecs it changed to (`a_codecs`/`b_codecs`, schema version 10).
   */
  readonly codec?: string;
  /**
   * One identifier of a leg, matched exactly against the Call-ID, the X-CID, the P-Charging-Vector
   * icid, the RFC 7989 Session-ID (caller UUID; 32 hex digits, dashes and case ignored) and the
   * values of the configured correlation headers (see {@link legBranches}).
   */
  readonly leg?: string;
  /** End reason. */
  readonly end_reason?: EndReason;
}

/** Sortable columns of the call list. */
export const GUI_SORT_KEYS = ['start', 'duration', 'mos_worst', 'caller', 'called', 'last_sip_code'] as const;

/** One of {@link GUI_SORT_KEYS}. */
export type GuiSortKey = (typeof GUI_SORT_KEYS)[number];

/** Sort column and direction. */
export interface GuiSort {
  readonly key: GuiSortKey;
  readonly desc: boolean;
}

/**
 * A position in a sorted call list: the last row of a page. `value` is the row's sort value
 * (`null` when sorting by `start`, which `start` already holds; -1 for a NULL MOS or code).
 */
export interface GuiKeyset {
  readonly value: number | string | null;
  readonly start: IsoMicros;
  readonly id: number;
}

/** One row of the call list (the GUI's `CallListRow`). */
export interface GuiCallRow {
  id: number;
  start: IsoMicros;
  answer: IsoMicros | null;
  end: IsoMicros;
  duration: number;
  connect_duration: number | null;
  pdd_ms: number | null;
  sensor_id: number;
  sensor: string;
  call_id: string;
  caller: string;
  called: string;
  caller_ip: string;
  callee_ip: string;
  last_sip_code: number | null;
  last_sip_reason: string | null;
  end_reason: EndReason;
  bye_by: 'caller' | 'callee' | null;
  mos_worst: number | null;
  a_mos: number | null;
  b_mos: number | null;
  a_loss_pct: number | null;
  b_loss_pct: number | null;
  a_jitter_max_ms: number | null;
  b_jitter_max_ms: number | null;
  a_codec: string | null;
  b_codec: string | null;
  /** Every codec of the main stream in order, comma-separated (`PCMA,PCMU`); `null` without one or for rows written before schema version 10. */
  a_codecs: string | null;
  b_codecs: string | null;
  incomplete: boolean;
}

/** A page of {@link searchCallPage}. */
export interface GuiCallPage {
  /** At most `limit` rows, in the requested order. */
  readonly rows: GuiCallRow[];
  /** Position of the last row when more rows follow; `null` on the last page. */
  readonly next: GuiKeyset | null;
}

/** Query of {@link searchCallPage}. */
export interface GuiCallSearch {
  readonly filter: GuiCallFilter;
  /** Default `start` descending. */
  readonly sort?: GuiSort;
  /** Rows strictly after this position (from the previous page's `next`). */
  readonly after?: GuiKeyset | null;
  /** Rows per page, 1..10 000. */
  readonly limit: number;
}

/** Largest page {@link searchCallPage} reads. */
export const GUI_PAGE_MAX = 10_000;

const likeEscape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
const ISO = (col: string): string => `DATE_FORMAT(${col}, '%Y-%m-%d %H:%i:%s.%f')`;

/** SQL of each sort key's value; nullable columns as -1 so the keyset compares plain numbers. */
const SORT_SQL: Readonly<Record<GuiSortKey, string>> = {
  start: 'c.start',
  duration: 'c.duration',
  mos_worst: 'IFNULL(c.mos_worst, -1e0)',
  caller: 'c.caller',
  called: 'c.called',
  last_sip_code: 'CAST(IFNULL(c.last_sip_code, -1) AS SIGNED)',
};

type Arg = string | number | Buffer;

/** One party's address condition of an `ip` filter, on table alias `c`. */
function ipPartySql(col: 'caller_ip' | 'callee_ip', range: IpByteRange): { sql: string; args: Arg[] } {
  const { lo, hi } = range;
  if (lo.length !== hi.length) throw new RangeError(`ip range bounds differ in length: ${lo.length} and ${hi.length}`);
  // The length test keeps a 16-byte IPv6 address whose first bytes fall between two IPv4 bounds
  // out of an IPv4 range (VARBINARY compares bytewise, shorter first); the BETWEEN is the index range.
  return { sql: `(LENGTH(c.${col}) = ? AND c.${col} BETWEEN ? AND ?)`, args: [lo.length, lo, hi] };
}

/**
 * RFC 7989 `sess-uuid` as stored (`session_uuid`: 32 lowercase hex digits) from what a user
 * pastes: the hex form in either case, or the 8-4-4-4-12 form with dashes; `null` for anything else.
 */
export function sessionUuidOf(text: string): string | null {
  const t = text.trim();
  const hex = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t) ? t.replaceAll('-', '') : t;
  return /^[0-9a-f]{32}$/i.test(hex) ? hex.toLowerCase() : null;
}

/**
 * One branch of a key query: its `FROM` (the `cdr` table as `c`, possibly joined) and the
 * conditions that select it, appended to the filter's own.
 */
interface KeyBranch {
  readonly from: string;
  readonly where: string;
  readonly args: Arg[];
}

const CDR_ONLY = 'cdr c';

/**
 * The branches of a `leg` filter, one per identifier, each an equality on its own index within
 * the start range: `uk_call_hash` (Call-ID), `idx_x_cid`, `idx_icid`, `idx_session_uuid` (only
 * when the text is a UUID) and `cdr_correlation.idx_value` joined to its call. An `OR` of the
 * five could use none of them and would test every row of the range.
 */
function legBranches(filter: GuiCallFilter, leg: string): KeyBranch[] {
  const out: KeyBranch[] = [
    { from: CDR_ONLY, where: 'c.call_id_hash = ?', args: [callIdHash(leg)] },
    { from: CDR_ONLY, where: 'c.x_cid = ?', args: [leg] },
    { from: CDR_ONLY, where: 'c.icid = ?', args: [leg] },
  ];
  const uuid = sessionUuidOf(leg);
  if (uuid !== null) out.push({ from: CDR_ONLY, where: 'c.session_uuid = ?', args: [uuid] });
  out.push({
    // The child row's own (value, start) range finds the keys; the call is then one eq_ref probe.
    from: 'cdr_correlation k STRAIGHT_JOIN cdr c ON c.id = k.cdr_id AND c.start = k.start',
    where: 'k.value = ? AND k.start >= ? AND k.start < ?',
    args: [leg, isoToSql(filter.from), isoToSql(filter.to)],
  });
  return out;
}

/** The `leg` filter as one condition on alias `c` (for the tie query, whose point range is already narrow). */
function legConditionSql(leg: string): { sql: string; args: Arg[] } {
  const uuid = sessionUuidOf(leg);
  return {
    sql: `(c.call_id_hash = ? OR c.x_cid = ? OR c.icid = ?${uuid === null ? '' : ' OR c.session_uuid = ?'}
      OR EXISTS (SELECT 1 FROM cdr_correlation k WHERE k.cdr_id = c.id AND k.start = c.start AND k.value = ?))`,
    args: uuid === null ? [callIdHash(leg), leg, leg, leg] : [callIdHash(leg), leg, leg, uuid, leg],
  };
}

/** The `ip` filter as one condition on alias `c`: either party in the range. */
function ipConditionSql(range: IpByteRange): { sql: string; args: Arg[] } {
  const a = ipPartySql('caller_ip', range);
  const b = ipPartySql('callee_ip', range);
  return { sql: `(${a.sql} OR ${b.sql})`, args: [...a.args, ...b.args] };
}

/** {@link guiFilterSql} without the `ip` and `leg` conditions, which the key query splits into branches. */
function filterSqlWithoutIp(filter: GuiCallFilter): { where: string[]; args: Arg[] } {
  const where = ['c.start >= ?', 'c.start < ?'];
  const args: Arg[] = [isoToSql(filter.from), isoToSql(filter.to)];
  const add = (sql: string, ...values: Arg[]): void => {
    where.push(sql);
    args.push(...values);
  };
  const text = (col: 'caller' | 'called', f: GuiNumberFilter | undefined): void => {
    if (f === undefined) return;
    if (f.match === 'prefix') add(`c.${col} LIKE ?`, `${likeEscape(f.text)}%`);
    else if (f.match === 'suffix') add(`c.${col}_reverse LIKE ?`, `${likeEscape(reverseText(f.text))}%`);
    else add(`c.${col} LIKE ?`, `%${likeEscape(f.text)}%`);
  };
  text('caller', filter.caller);
  text('called', filter.called);
  if (filter.call_id !== undefined) add('c.call_id_hash = ?', callIdHash(filter.call_id));
  if (filter.sensor_id !== undefined) add('c.sensor_id = ?', filter.sensor_id);
  if (filter.code !== undefined) {
    if (filter.code.min === filter.code.max) add('c.last_sip_code = ?', filter.code.min);
    else add('c.last_sip_code BETWEEN ? AND ?', filter.code.min, filter.code.max);
  }
  if (filter.duration_min !== undefined) add('c.duration >= ?', filter.duration_min);
  if (filter.duration_max !== undefined) add('c.duration <= ?', filter.duration_max);
  if (filter.mos_below !== undefined) add('c.mos_worst < ?', filter.mos_below);
  if (filter.loss_above !== undefined) add('(c.a_lost_pct >= ? OR c.b_lost_pct >= ?)', filter.loss_above, filter.loss_above);
  if (filter.jitter_above !== undefined) add('(c.a_jitter_max_ms >= ? OR c.b_jitter_max_ms >= ?)', filter.jitter_above, filter.jitter_above);
  if (filter.codec !== undefined) {
    // `a_codecs` holds `a_codec` too, but rows written before version 10 have only `a_codec`.
    // Tested on the rows walked, as before: a comma list cannot be indexed, and the list is short.
    add(
      '(c.a_codec = ? OR c.b_codec = ? OR FIND_IN_SET(?, c.a_codecs) > 0 OR FIND_IN_SET(?, c.b_codecs) > 0)',
      filter.codec, filter.codec, filter.codec, filter.codec,
    );
  }
  if (filter.end_reason !== undefined) add('c.end_reason = ?', filter.end_reason);
  return { where, args };
}

/**
 * WHERE conditions (joined with AND) and their arguments for `filter`, on table alias `c`.
 * Which index serves which condition is in the README; the conditions without an index are tested
 * on each row the start range (or the index used) yields. The `ip` and `leg` filters are one
 * condition each here ("either party in the range", "any identifier equal");
 * {@link buildGuiKeyQuery} splits them into one index range per party or identifier.
 */
export function guiFilterSql(filter: GuiCallFilter): { where: string[]; args: Arg[] } {
  const { where, args } = filterSqlWithoutIp(filter);
  for (const c of [filter.ip === undefined ? null : ipConditionSql(filter.ip), filter.leg === undefined ? null : legConditionSql(filter.leg)]) {
    if (c === null) continue;
    where.push(c.sql);
    args.push(...c.args);
  }
  return { where, args };
}

/** `(expr, start, id)` strictly after `after` in direction `desc`, as SQL on alias `c`. */
function keysetSql(sort: GuiSort, after: GuiKeyset): { sql: string; args: Arg[] } {
  const op = sort.desc ? '<' : '>';
  const start = isoToSql(after.start);
  const tail = `(c.start ${op} ? OR (c.start = ? AND c.id ${op} ?))`;
  if (sort.key === 'start') {
    // The bound `c.start <=|>= s` is stated apart so the range optimizer narrows the index walk.
    return { sql: `c.start ${op}= ? AND ${tail}`, args: [start, start, start, after.id] };
  }
  if (after.value === null) throw new TypeError(`a ${sort.key} keyset needs a value`);
  const expr = SORT_SQL[sort.key];
  return {
    sql: `${expr} ${op}= ? AND (${expr} ${op} ? OR (${expr} = ? AND ${tail}))`,
    args: [after.value, after.value, after.value, start, start, after.id],
  };
}

/**
 * Sort keys whose column leads an index (`idx_start_quality`, `idx_caller`, `idx_called`,
 * `idx_duration`): the key query orders by the index's leading columns only (see
 * {@link indexOrderSql}), which MariaDB serves by walking that index and stopping after `take`
 * rows, and the rows tied on the last value are completed by a point range (see
 * {@link buildTieKeys}). Ordering by `(column, start, id)` instead makes it sort every match:
 * "sort by caller over a day" read 533 000 index entries and sorted them (0.9-2 s on 10 M CDRs)
 * against about 8 ms for the ordered walk. (MariaDB does not use the primary key appended to a
 * secondary entry for the order of a partitioned table: `ORDER BY duration, start, id` was a
 * filesort of the day's 526 000 `idx_duration` entries, 0.7 s, `ORDER BY duration, start` a
 * backward walk of 201 entries.)
 */
const INDEX_ORDERED: ReadonlySet<GuiSortKey> = new Set(['start', 'caller', 'called', 'duration']);

/**
 * `ORDER BY` of the key query for an index-ordered key: the column alone, and for `duration` the
 * column then `start`, both of `idx_duration (duration, start)`: a tie group is then the calls
 * sharing a duration and a start microsecond, practically never more than one even where many
 * calls share a duration (a generator, a fixed-length announcement).
 */
const indexOrderSql = (key: GuiSortKey, dir: string): string =>
  key === 'duration' ? `c.duration ${dir}, c.start ${dir}` : `${SORT_SQL[key]} ${dir}`;

/**
 * What the page is finally cut by, as text that compares bytewise in sort order: the start for
 * `start`, the collation's sort key (`WEIGHT_STRING`, hex) for `caller`/`called`, so rows equal
 * under the column's case-insensitive collation are grouped exactly as MariaDB groups them.
 */
const WEIGHT_SQL: Readonly<Partial<Record<GuiSortKey, string>>> = {
  caller: 'HEX(WEIGHT_STRING(c.caller))',
  called: 'HEX(WEIGHT_STRING(c.called))',
};

/**
 * The statement that finds the keys of a page (for `EXPLAIN`, and run by {@link searchCallPage}):
 * `id`, `start_s` (text), the sort value `v` and weight `w` of up to `take` matches after `after`,
 * in order. Sorting by `start`, `caller` or `called`, it orders by that column alone (see
 * `INDEX_ORDERED`) and the caller completes the ties on the last value with {@link buildTieKeys}.
 *
 * With an `ip` filter ("caller or callee address in the range") it is a `UNION` of two branches,
 * one per party, each with every other condition and its own `ORDER BY ... LIMIT take`, merged
 * and cut again to `take`. An `OR` of the two columns cannot be one index range: MariaDB then
 * walked the start index and tested the addresses on every row of the range (1.4-1.8 s for an
 * address over a day on 10 M CDRs). Each branch can use its party's `(ip, start)` index, or the
 * start index when the range is wide (a /16 over an hour: 200 matches come quickly), as the
 * optimizer estimates. Exact: a match that is not in its branch's first `take` has `take` rows
 * before it in that branch alone, so it cannot be in the page; the `UNION` (distinct) keeps a
 * call whose two parties both match once.
 *
 * With a `leg` filter it is a `UNION` of one branch per identifier ({@link legBranches}), the
 * same way; an `ip` filter beside it is then a plain condition in each branch.
 *
 * @throws RangeError if `take` is not 1..10001.
 */
export function buildGuiKeyQuery(filter: GuiCallFilter, sort: GuiSort, after: GuiKeyset | null, take: number): SqlQuery {
  if (!Number.isInteger(take) || take < 1 || take > GUI_PAGE_MAX + 1) throw new RangeError(`take must be 1..${GUI_PAGE_MAX + 1}, got ${take}`);
  const { where, args } = filterSqlWithoutIp(filter);
  if (after !== null) {
    const k = keysetSql(sort, after);
    where.push(k.sql);
    args.push(...k.args);
  }
  const dir = sort.desc ? 'DESC' : 'ASC';
  const order = INDEX_ORDERED.has(sort.key) ? indexOrderSql(sort.key, dir) : `${SORT_SQL[sort.key]} ${dir}, c.start ${dir}, c.id ${dir}`;
  const select = (b: KeyBranch | null): string =>
    `SELECT ${keyColumns(sort.key)} FROM ${b?.from ?? CDR_ONLY} WHERE ${[...where, ...(b === null ? [] : [b.where])].join(' AND ')} ORDER BY ${order} LIMIT ${take}`;
  let branches: KeyBranch[];
  if (filter.leg !== undefined) {
    // The identifiers are the selective part (a handful of calls per value): their branches lead,
    // and an address filter beside them is tested on those few rows.
    if (filter.ip !== undefined) {
      const ip = ipConditionSql(filter.ip);
      where.push(ip.sql);
      args.push(...ip.args);
    }
    branches = legBranches(filter, filter.leg);
  } else if (filter.ip !== undefined) {
    branches = [filter.ip, filter.ip].map((range, i) => {
      const p = ipPartySql(i === 0 ? 'caller_ip' : 'callee_ip', range);
      return { from: CDR_ONLY, where: p.sql, args: p.args };
    });
  } else {
    return { sql: select(null), args };
  }
  // The merged order over the branches' output columns: `w` is the start text (start) or the
  // collation weight (caller/called), `v` the value of the other keys; then (start, id) as the
  // page's order, which refines the branches' column-only order for the index-ordered keys.
  const first = sort.key === 'start' ? '' : WEIGHT_SQL[sort.key] !== undefined ? `u.w ${dir}, ` : `u.v ${dir}, `;
  return {
    sql: `SELECT u.id, u.start_s, u.v, u.w FROM (${branches.map((b) => `(${select(b)})`).join(' UNION ')}) u ORDER BY ${first}u.start_s ${dir}, u.id ${dir} LIMIT ${take}`,
    args: branches.flatMap((b) => [...args, ...b.args]),
  };
}

/** The columns of a key query: `id`, `start_s`, `v` (sort value, NULL for start) and `w` (weight, NULL but for text keys). */
const keyColumns = (key: GuiSortKey): string =>
  `c.id, ${ISO('c.start')} AS start_s, ${key === 'start' ? 'NULL' : SORT_SQL[key]} AS v, ${WEIGHT_SQL[key] ?? 'NULL'} AS w`;

/**
 * Keys of every match whose sort column equals `value` (and after `after`): the rows a `LIMIT` on
 * `ORDER BY column` may have split. A point range on the column's index. `sort.key` must be one
 * of `start` (`value` as `DATETIME(6)` text), `caller`, `called`, or `duration` (`value` the
 * duration, and `start` the start as `DATETIME(6)` text: its tie group is `(duration, start)`).
 *
 * @throws TypeError for another key, or `duration` without `start`.
 */
export function buildTieKeys(filter: GuiCallFilter, sort: GuiSort, value: string | number, after: GuiKeyset | null, start?: string): SqlQuery {
  if (!INDEX_ORDERED.has(sort.key)) throw new TypeError(`no ties to complete when sorting by ${sort.key}`);
  const { where, args } = guiFilterSql(filter);
  where.push(`${SORT_SQL[sort.key]} = ?`);
  args.push(value);
  if (sort.key === 'duration') {
    if (start === undefined) throw new TypeError('a duration tie needs the start too');
    where.push('c.start = ?');
    args.push(start);
  }
  if (after !== null) {
    const k = keysetSql(sort, after);
    where.push(k.sql);
    args.push(...k.args);
  }
  return { sql: `SELECT ${keyColumns(sort.key)} FROM cdr c WHERE ${where.join(' AND ')}`, args };
}

interface KeyRow {
  id: number;
  start_s: string;
  v: number | string | null;
  /** Sort weight of index-ordered keys: the start, or the collation key of caller/called. */
  w: string;
}

const toKey = (r: RowDataPacket): KeyRow => ({
  id: Number(r.id),
  start_s: r.start_s as string,
  w: r.w === null ? (r.start_s as string) : (r.w as string),
  // Numbers as numbers whatever type the driver chose for the expression (DECIMAL comes as text).
  v: r.v === null || typeof r.v === 'number' ? (r.v as number | null) : typeof r.v === 'bigint' ? Number(r.v) : (r.v as string),
});

/** The list columns of `cdr` (alias `r`) and its sensor's name (alias `s`). */
const ROW_COLUMNS = `r.id, ${ISO('r.start')} AS start_s, ${ISO('r.answer')} AS answer_s, ${ISO('r.`end`')} AS end_s,
  r.duration, r.connect_duration, r.pdd_ms, r.sensor_id, s.name AS sensor, r.call_id, r.caller, r.called, r.caller_ip, r.callee_ip,
  r.last_sip_code, r.last_sip_reason, r.end_reason, r.bye_by, r.mos_worst,
  COALESCE(r.a_mos_adapt, r.a_mos_f2, r.a_mos_f1) AS a_mos, COALESCE(r.b_mos_adapt, r.b_mos_f2, r.b_mos_f1) AS b_mos,
  r.a_lost_pct, r.b_lost_pct, r.a_jitter_max_ms, r.b_jitter_max_ms, r.a_codec, r.b_codec, r.a_codecs, r.b_codecs, r.incomplete`;

/** A `cdr` row of {@link ROW_COLUMNS} as a {@link GuiCallRow}. */
export function guiRowOf(r: RowDataPacket): GuiCallRow {
  return {
    id: Number(r.id),
    start: sqlToIso(r.start_s as string),
    answer: r.answer_s === null ? null : sqlToIso(r.answer_s as string),
    end: sqlToIso(r.end_s as string),
    duration: r.duration as number,
    connect_duration: r.connect_duration as number | null,
    pdd_ms: r.pdd_ms as number | null,
    sensor_id: r.sensor_id as number,
    sensor: r.sensor as string,
    call_id: r.call_id as string,
    caller: r.caller as string,
    called: r.called as string,
    caller_ip: formatIpBytes(r.caller_ip as Buffer),
    callee_ip: formatIpBytes(r.callee_ip as Buffer),
    last_sip_code: r.last_sip_code as number | null,
    last_sip_reason: r.last_sip_reason as string | null,
    end_reason: r.end_reason as EndReason,
    bye_by: r.bye_by as 'caller' | 'callee' | null,
    mos_worst: r.mos_worst as number | null,
    a_mos: r.a_mos as number | null,
    b_mos: r.b_mos as number | null,
    a_loss_pct: r.a_lost_pct as number | null,
    b_loss_pct: r.b_lost_pct as number | null,
    a_jitter_max_ms: r.a_jitter_max_ms as number | null,
    b_jitter_max_ms: r.b_jitter_max_ms as number | null,
    a_codec: r.a_codec as string | null,
    b_codec: r.b_codec as string | null,
    a_codecs: r.a_codecs as string | null,
    b_codecs: r.b_codecs as string | null,
    incomplete: Number(r.incomplete) === 1,
  };
}

/** Reads the list rows of `keys` (each `(id, start)`), in the order of `keys`. */
async function readRows(pool: Pool, keys: readonly KeyRow[]): Promise<GuiCallRow[]> {
  if (keys.length === 0) return [];
  // The keys as a table value constructor joined on the whole primary key: one eq_ref probe per
  // key in its own day's partition. (`id IN (...) AND start IN (...)` made the range optimizer
  // build every id x start pair, 40 000 ranges for a page of 200, and `id IN (...)` alone probes
  // every partition: both measured 2-4x slower on 200 000 CDRs.)
  const [rows] = await pool.query<RowDataPacket[]>(
    `WITH k (id, start) AS (VALUES ${keys.map(() => '(?, ?)').join(', ')})
     SELECT ${ROW_COLUMNS} FROM k STRAIGHT_JOIN cdr r ON r.id = k.id AND r.start = k.start STRAIGHT_JOIN sensors s ON s.id = r.sensor_id`,
    keys.flatMap((k) => [k.id, k.start_s]),
  );
  const byKey = new Map(rows.map((r) => [`${String(r.id)} ${r.start_s as string}`, r]));
  const out: GuiCallRow[] = [];
  for (const k of keys) {
    const r = byKey.get(`${k.id} ${k.start_s}`);
    // A row deleted between the two statements (retention dropping its day) is simply not shown.
    if (r !== undefined) out.push(guiRowOf(r));
  }
  return out;
}

/**
 * Compares two key rows in `(weight, start, id)` order, descending when `desc`; for `duration`
 * the weight is the numeric value (`w` is the start there).
 */
const byWeightStartId = (key: GuiSortKey, desc: boolean) => (a: KeyRow, b: KeyRow): number => {
  const [x, y] = key === 'duration' ? [a.v as number, b.v as number] : [a.w, b.w];
  const c = x < y ? -1 : x > y ? 1 : a.start_s < b.start_s ? -1 : a.start_s > b.start_s ? 1 : a.id - b.id;
  return desc ? -c : c;
};

/** Whether two key rows are in one tie group of an index-ordered key (see {@link indexOrderSql}). */
const sameTieGroup = (key: GuiSortKey, a: KeyRow, b: KeyRow): boolean =>
  key === 'duration' ? a.v === b.v && a.start_s === b.start_s : a.w === b.w;

/**
 * One page of the call list: the calls of `search.filter` after `search.after` in `search.sort`
 * order (default newest first), at most `search.limit`, with the position to continue from.
 *
 * @throws RangeError if `limit` is not 1..{@link GUI_PAGE_MAX}.
 */
export async function searchCallPage(pool: Pool, search: GuiCallSearch): Promise<GuiCallPage> {
  const { filter, limit } = search;
  if (!Number.isInteger(limit) || limit < 1 || limit > GUI_PAGE_MAX) throw new RangeError(`limit must be 1..${GUI_PAGE_MAX}, got ${limit}`);
  const sort = search.sort ?? { key: 'start', desc: true };
  const after = search.after ?? null;
  const q = buildGuiKeyQuery(filter, sort, after, limit + 1);
  const [found] = await pool.query<RowDataPacket[]>(q.sql, q.args);
  let keys = found.map(toKey);
  if (INDEX_ORDERED.has(sort.key)) {
    if (keys.length === limit + 1) {
      // The limit may have cut through rows sharing the last value: take all of them.
      const last = keys[keys.length - 1]!;
      const t =
        sort.key === 'duration'
          ? buildTieKeys(filter, sort, last.v as number, after, last.start_s)
          : buildTieKeys(filter, sort, sort.key === 'start' ? last.start_s : String(last.v), after);
      const [ties] = await pool.query<RowDataPacket[]>(t.sql, t.args);
      keys = [...keys.filter((k) => !sameTieGroup(sort.key, k, last)), ...ties.map(toKey)];
    }
    // SQL ordered by the index's columns only: tied rows come in any order, (value, start, id) is the page's.
    keys.sort(byWeightStartId(sort.key, sort.desc));
  }
  const more = keys.length > limit;
  const page = keys.slice(0, limit);
  const rows = await readRows(pool, page);
  const lastKey = page[page.length - 1];
  return {
    rows,
    next: more && lastKey !== undefined ? { value: lastKey.v, start: sqlToIso(lastKey.start_s), id: lastKey.id } : null,
  };
}

/**
 * How a related call relates to the one asked about, strongest first (a call related in several
 * ways is listed once, with the first of these that applies):
 * - `x_cid`: one's X-CID is the other's Call-ID, or both carry the same X-CID (a B2BUA's legs);
 * - `session_id`: the same RFC 7989 Session-ID (caller UUID);
 * - `icid`: the same P-Charging-Vector icid-value;
 * - `header`: the same value of the same configured correlation header;
 * - `same_numbers`: the same two numbers (either direction) within ±{@link RELATED_WINDOW_S} s.
 */
export const GUI_RELATIONS = ['x_cid', 'session_id', 'icid', 'header', 'same_numbers'] as const;

/** One of {@link GUI_RELATIONS}. */
export type GuiRelation = (typeof GUI_RELATIONS)[number];

/** A row of {@link findRelatedCalls}. */
export interface GuiRelatedCall extends GuiCallRow {
  /** The strongest relation to the call asked about. */
  relation: GuiRelation;
  /** The correlation header's name for `relation: 'header'`, else `null`. */
  relation_header: string | null;
}

/** Seconds either side of a call's start searched for calls with the same numbers. */
export const RELATED_WINDOW_S = 10;

/**
 * Seconds either side of a call's start searched for legs sharing an identifier (X-CID,
 * Session-ID, icid, correlation header): a B2BUA may set up the next leg long after the first
 * (a transfer, a queue), and each identifier is an index equality, so the wider range is cheap.
 */
export const RELATED_LEG_WINDOW_S = 3600;

/** Most related calls returned (strongest relations first when more match). */
export const RELATED_MAX = 100;

/** `iso` moved by `seconds`, as `DATETIME(6)` text. */
const shiftSql = (iso: IsoMicros, seconds: number): string => {
  const t = parseIsoMicros(iso)!;
  return isoToSql(isoFromMicros((t.sec + seconds) * 1_000_000 + t.usec));
};

/** What {@link buildRelatedQuery} needs of the call whose legs are searched. */
export interface GuiRelatedSubject {
  readonly id: number;
  readonly start: IsoMicros;
  readonly call_id: string;
  readonly caller: string;
  readonly called: string;
  readonly x_cid: string | null;
  /** `session_uuid` (the RFC 7989 caller UUID as stored). */
  readonly session_uuid: string | null;
  readonly icid: string | null;
  /** Its `cdr_correlation` rows, in the record's order. */
  readonly headers: readonly { readonly name: string; readonly value: string }[];
}

/**
 * The statement of {@link findRelatedCalls} (for `EXPLAIN`): `id`, `start_s`, `rk` (the rank in
 * {@link GUI_RELATIONS}) and `hdr` (the header of a `header` relation) of every call each branch
 * finds. Each relation is one branch of a `UNION ALL`, an equality on its own index within the
 * start range: `uk_call_hash` (the other's Call-ID is my X-CID), `idx_x_cid` (the other's X-CID is
 * my Call-ID, or my X-CID), `idx_session_uuid`, `idx_icid`, `cdr_correlation.idx_value` (one
 * branch per header the call carried), all within ±{@link RELATED_LEG_WINDOW_S} s, and the
 * numbers within ±{@link RELATED_WINDOW_S} s; every branch is cut at {@link RELATED_MAX}.
 */
export function buildRelatedQuery(me: GuiRelatedSubject): SqlQuery {
  const at = isoToSql(me.start);
  const lo = shiftSql(me.start, -RELATED_LEG_WINDOW_S);
  const hi = shiftSql(me.start, RELATED_LEG_WINDOW_S);
  const branches: { sql: string; args: Arg[] }[] = [];
  /** One branch: `cond` on alias `c` (joined `from`), with its rank in {@link GUI_RELATIONS} and header name (SQL). */
  const branch = (rank: number, cond: string, args: Arg[], window: readonly [string, string] = [lo, hi], from = CDR_ONLY, header = 'NULL'): void => {
    branches.push({
      sql: `SELECT c.id, ${ISO('c.start')} AS start_s, ${rank} AS rk, ${header} AS hdr FROM ${from}
        WHERE ${cond} AND c.start BETWEEN ? AND ? AND NOT (c.id = ? AND c.start = ?) ORDER BY c.start LIMIT ${RELATED_MAX}`,
      args: [...args, window[0], window[1], me.id, at],
    });
  };
  if (me.x_cid !== null) {
    branch(0, 'c.call_id_hash = ?', [callIdHash(me.x_cid)]);
    branch(0, 'c.x_cid = ?', [me.x_cid]);
  }
  branch(0, 'c.x_cid = ?', [me.call_id]);
  if (me.session_uuid !== null) branch(1, 'c.session_uuid = ?', [me.session_uuid]);
  if (me.icid !== null) branch(2, 'c.icid = ?', [me.icid]);
  for (const h of me.headers) {
    branch(3, 'k.value = ? AND k.name = ? AND k.start BETWEEN ? AND ?', [h.value, h.name, lo, hi], [lo, hi],
      'cdr_correlation k STRAIGHT_JOIN cdr c ON c.id = k.cdr_id AND c.start = k.start', 'k.name');
  }
  branch(4, '((c.caller = ? AND c.called = ?) OR (c.caller = ? AND c.called = ?))', [me.caller, me.called, me.called, me.caller],
    [shiftSql(me.start, -RELATED_WINDOW_S), shiftSql(me.start, RELATED_WINDOW_S)]);
  return { sql: branches.map((b) => `(${b.sql})`).join(' UNION ALL '), args: branches.flatMap((b) => b.args) };
}

/**
 * Other legs of call `(id, start)`, itself excluded, oldest first; `null` when the call does not
 * exist. The relations of {@link GUI_RELATIONS}, each through its own index
 * ({@link buildRelatedQuery}); a call found by several keeps its strongest relation, and the
 * {@link RELATED_MAX} strongest are returned.
 */
export async function findRelatedCalls(pool: Pool, id: number, start: IsoMicros): Promise<GuiRelatedCall[] | null> {
  const at = isoToSql(start);
  const [self] = await pool.query<RowDataPacket[]>('SELECT caller, called, call_id, x_cid, session_uuid, icid FROM cdr WHERE id = ? AND start = ?', [id, at]);
  const me = self[0];
  if (me === undefined) return null;
  const [headers] = await pool.query<RowDataPacket[]>('SELECT name, value FROM cdr_correlation WHERE cdr_id = ? AND start = ? ORDER BY idx', [id, at]);
  const q = buildRelatedQuery({
    id,
    start,
    call_id: me.call_id as string,
    caller: me.caller as string,
    called: me.called as string,
    x_cid: me.x_cid as string | null,
    session_uuid: me.session_uuid as string | null,
    icid: me.icid as string | null,
    headers: headers.map((h) => ({ name: h.name as string, value: h.value as string })),
  });
  const [found] = await pool.query<RowDataPacket[]>(q.sql, q.args);
  // Strongest relation per call; among headers, the first the call carries (branches are in that order).
  const best = new Map<string, { key: KeyRow; rank: number; header: string | null }>();
  for (const r of found) {
    const key: KeyRow = { id: Number(r.id), start_s: r.start_s as string, v: null, w: r.start_s as string };
    const k = `${key.id} ${key.start_s}`;
    const rank = Number(r.rk);
    const cur = best.get(k);
    if (cur === undefined || rank < cur.rank) best.set(k, { key, rank, header: (r.hdr as string | null) ?? null });
  }
  const chosen = [...best.values()]
    .sort((a, b) => a.rank - b.rank || (a.key.start_s < b.key.start_s ? -1 : a.key.start_s > b.key.start_s ? 1 : a.key.id - b.key.id))
    .slice(0, RELATED_MAX)
    .sort((a, b) => (a.key.start_s < b.key.start_s ? -1 : a.key.start_s > b.key.start_s ? 1 : a.key.id - b.key.id));
  const rows = await readRows(pool, chosen.map((c) => c.key));
  const relationOf = new Map(chosen.map((c) => [c.key.id, c]));
  return rows.map((row) => {
    const c = relationOf.get(row.id)!;
    return { ...row, relation: GUI_RELATIONS[c.rank]!, relation_header: c.rank === 3 ? c.header : null };
  });
}

/** A call as the GUI's detail shows it: the record as written, and its keys. */
export interface GuiCallDetail {
  /** `cdr.id`. */
  readonly id: number;
  /** `cdr.sensor_id`: the sensor that holds the call's packets. */
  readonly sensor_id: number;
  /** The record, without the database's keys. */
  readonly call: CallRecord;
}

/**
 * Call `(id, start)` with its children (`getCall`) and its sensor id; `null` when no call has
 * that id and start. The start is required so a guessed id alone finds nothing, and so MariaDB
 * reads one partition.
 */
export async function getGuiCall(pool: Pool, id: number, start: IsoMicros): Promise<GuiCallDetail | null> {
  const [keys] = await pool.query<RowDataPacket[]>('SELECT sensor_id FROM cdr WHERE id = ? AND start = ?', [id, isoToSql(start)]);
  const sensorId = keys[0]?.sensor_id as number | undefined;
  if (sensorId === undefined) return null;
  const found = await getCall(pool, id, start);
  if (found === null) return null;
  const { id: _id, ...call } = found;
  return { id, sensor_id: sensorId, call };
}
