/**
 * `GET /api/v1/calls` query string -> a search of libs/cdr-schema (`GuiCallFilter`, sort, page
 * size). The JSON schema ({@link CALL_QUERY_SCHEMA}) checks the shape of every value (lengths,
 * digits, enums), so no absurd value reaches this code; {@link parseCallQuery} then checks what a
 * pattern cannot: real instants, `from < to`, a range of at most {@link MAX_RANGE_DAYS} days,
 * a valid CIDR, bounds in order.
 *
 * @packageDocumentation
 */
import { END_REASONS, isoFromMicros, parseIsoMicros } from '@callscope/cdr-model';
import type { IsoMicros } from '@callscope/cdr-model';
import { GUI_SORT_KEYS, parseIpRange } from '@callscope/cdr-schema';
import type { GuiCallFilter, GuiNumberFilter, GuiSort, GuiSortKey, GuiTextMatch } from '@callscope/cdr-schema';
import type { CallSearchQuery } from '../api-types.js';

/** Longest searchable time range: the partitions the schema keeps (ensurePartitions' 400 days back). */
export const MAX_RANGE_DAYS = 400;
/** Rows per page when `limit` is absent, and the largest page. */
export const DEFAULT_LIMIT = 200;
export const MAX_LIMIT = 1000;
/** Default time range when `from` is absent: the hour before `to`. */
const DEFAULT_RANGE_US = 3600 * 1_000_000;
const DAY_US = 86_400 * 1_000_000;

/** UTC instant as the GUI sends it: `Z` required, 0 to 6 fractional digits (`parseIsoMicros`). */
const ISO_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?Z$';
/** Non-negative decimal, at most 9 integer and 6 fractional digits. */
const DECIMAL_PATTERN = '^\\d{1,9}(\\.\\d{1,6})?$';
const decimal = { type: 'string', pattern: DECIMAL_PATTERN } as const;
const matchMode = { type: 'string', enum: ['prefix', 'suffix', 'contains'] } as const;
/** `start`, `-start`, ... for every sort key. */
const SORT_VALUES = GUI_SORT_KEYS.flatMap((k) => [k, `-${k}`]);

/** The filter keys shared by the list and the export (and what a cursor's fingerprint covers). */
const FILTER_PROPERTIES = {
  from: { type: 'string', pattern: ISO_PATTERN },
  to: { type: 'string', pattern: ISO_PATTERN },
  // 128: the `caller`/`called` column width; nothing longer can match.
  caller: { type: 'string', minLength: 1, maxLength: 128 },
  caller_match: matchMode,
  called: { type: 'string', minLength: 1, maxLength: 128 },
  called_match: matchMode,
  ip: { type: 'string', minLength: 2, maxLength: 64 },
  // The key is the hash of the whole Call-ID, so a Call-ID longer than the stored 1024 characters
  // still matches; 4096 bounds the work on absurd input.
  call_id: { type: 'string', minLength: 1, maxLength: 4096 },
  sensor: { type: 'string', pattern: '^\\d{1,5}$' },
  code: { type: 'string', pattern: '^[1-6](\\d\\d|[xX][xX])$' },
  duration_min: decimal,
  duration_max: decimal,
  mos_below: decimal,
  loss_above: decimal,
  jitter_above: decimal,
  codec: { type: 'string', pattern: '^[!-~]{1,32}$' },
  // Like call_id: the Call-ID branch compares the hash of the whole text; the other identifiers
  // are stored cut at 255 characters, so a longer text finds only a Call-ID.
  leg: { type: 'string', minLength: 1, maxLength: 4096 },
  end_reason: { type: 'string', enum: [...END_REASONS] },
  sort: { type: 'string', enum: SORT_VALUES },
} as const;

/** Fastify querystring schema of `GET /calls`: every {@link CallSearchQuery} key, nothing else. */
export const CALL_QUERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...FILTER_PROPERTIES,
    limit: { type: 'string', pattern: '^([1-9]\\d{0,2}|1000)$' },
    cursor: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[A-Za-z0-9_-]+$' },
  },
} as const;

/** Fastify querystring schema of `GET /calls/export`: the filters and sort, plus `format`. */
export const EXPORT_QUERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['format'],
  properties: { ...FILTER_PROPERTIES, format: { type: 'string', enum: ['csv', 'jsonl'] } },
} as const;

/** The keys {@link CallSearchQuery} filters on (what a cursor's fingerprint covers). */
export const FILTER_KEYS = Object.keys(FILTER_PROPERTIES) as readonly (keyof typeof FILTER_PROPERTIES)[];

/** A search ready for libs/cdr-schema. */
export interface ParsedCallQuery {
  readonly filter: GuiCallFilter;
  readonly sort: GuiSort;
  readonly limit: number;
}

/** A query value the schema let through but that means nothing (bad CIDR, `from >= to`, ...). */
export class CallQueryError extends Error {
  override readonly name = 'CallQueryError';
}

/**
 * A user's UTC time as {@link IsoMicros}. `Date.parse` rolls impossible dates over
 * (`2026-02-31` becomes March 3rd), so the date must read back the same; and no CDR is older
 * than 1970 (the `DATETIME` column would take year 0001, the epoch arithmetic would not).
 */
export function userTimeToIso(text: string, key: string): IsoMicros {
  const t = parseIsoMicros(text);
  const iso = t === null ? null : isoFromMicros(t.sec * 1_000_000 + t.usec);
  if (t === null || t.sec < 0 || iso === null || iso.slice(0, 19) !== text.slice(0, 19)) {
    throw new CallQueryError(`${key} is not a UTC time from 1970 on (YYYY-MM-DDTHH:MM:SS[.ffffff]Z): ${JSON.stringify(text.slice(0, 40))}`);
  }
  return iso;
}
const microsOf = (iso: IsoMicros): number => {
  const t = parseIsoMicros(iso)!;
  return t.sec * 1_000_000 + t.usec;
};

/**
 * Parses a validated query. `nowUs` (microseconds since the epoch) is the default `to`; a
 * continued search passes the range its cursor carries as `range` instead.
 *
 * @throws CallQueryError when a value is well-formed but meaningless.
 */
export function parseCallQuery(q: CallSearchQuery, nowUs: number, range?: { from: IsoMicros; to: IsoMicros }): ParsedCallQuery {
  let fromUs: number;
  let toUs: number;
  if (range !== undefined) {
    fromUs = microsOf(range.from);
    toUs = microsOf(range.to);
  } else {
    toUs = q.to === undefined ? nowUs : microsOf(userTimeToIso(q.to, 'to'));
    fromUs = q.from === undefined ? toUs - DEFAULT_RANGE_US : microsOf(userTimeToIso(q.from, 'from'));
  }
  if (fromUs >= toUs) throw new CallQueryError(`from must be before to (got from ${isoFromMicros(fromUs)}, to ${isoFromMicros(toUs)})`);
  if (toUs - fromUs > MAX_RANGE_DAYS * DAY_US) throw new CallQueryError(`the time range is longer than ${MAX_RANGE_DAYS} days`);
  const number = (key: 'duration_min' | 'duration_max' | 'mos_below' | 'loss_above' | 'jitter_above', max: number): number | undefined => {
    const v = q[key];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (n > max) throw new CallQueryError(`${key} must be at most ${max}, got ${v}`);
    return n;
  };
  const text = (value: string | undefined, match: GuiTextMatch | undefined): GuiNumberFilter | undefined =>
    value === undefined ? undefined : { text: value, match: match ?? 'prefix' };
  const filter: {
    -readonly [K in keyof GuiCallFilter]: GuiCallFilter[K];
  } = { from: isoFromMicros(fromUs), to: isoFromMicros(toUs) };
  const caller = text(q.caller, q.caller_match);
  if (caller !== undefined) filter.caller = caller;
  const called = text(q.called, q.called_match);
  if (called !== undefined) filter.called = called;
  if (q.ip !== undefined) {
    const ip = parseIpRange(q.ip);
    if (ip === null) throw new CallQueryError(`ip must be an IPv4/IPv6 address or CIDR (10.0.0.0/8, 2001:db8::/32), got ${JSON.stringify(q.ip)}`);
    filter.ip = ip;
  }
  if (q.call_id !== undefined) filter.call_id = q.call_id;
  if (q.sensor !== undefined) {
    const id = Number(q.sensor);
    if (id > 65_535) throw new CallQueryError(`sensor must be a sensor id (0..65535), got ${q.sensor}`);
    filter.sensor_id = id;
  }
  if (q.code !== undefined) {
    const cls = q.code.slice(1).toLowerCase() === 'xx';
    const n = cls ? Number(q.code[0]) * 100 : Number(q.code);
    filter.code = { min: n, max: cls ? n + 99 : n };
  }
  const durationMin = number('duration_min', 1e9);
  const durationMax = number('duration_max', 1e9);
  if (durationMin !== undefined && durationMax !== undefined && durationMin > durationMax) {
    throw new CallQueryError(`duration_min (${durationMin}) is above duration_max (${durationMax})`);
  }
  if (durationMin !== undefined) filter.duration_min = durationMin;
  if (durationMax !== undefined) filter.duration_max = durationMax;
  const mos = number('mos_below', 5);
  if (mos !== undefined) filter.mos_below = mos;
  const loss = number('loss_above', 100);
  if (loss !== undefined) filter.loss_above = loss;
  const jitter = number('jitter_above', 1e6);
  if (jitter !== undefined) filter.jitter_above = jitter;
  if (q.codec !== undefined) filter.codec = q.codec;
  if (q.leg !== undefined) filter.leg = q.leg;
  if (q.end_reason !== undefined) filter.end_reason = q.end_reason;
  const sortText = q.sort ?? '-start';
  const desc = sortText.startsWith('-');
  const sort: GuiSort = { key: (desc ? sortText.slice(1) : sortText) as GuiSortKey, desc };
  return { filter, sort, limit: q.limit === undefined ? DEFAULT_LIMIT : Number(q.limit) };
}
