/**
 * The call list's filter and its place in the URL. The URL is the filter's one home (GUI.md:
 * every search is a link), so the list page reads it from `location.search` and writes it back on
 * submit; back/forward then replay earlier searches for free.
 *
 * The URL carries {@link CallSearchQuery} keys as the API takes them, plus one key of the front
 * end's own, `range`: the time preset the user picked. A preset is resolved into absolute
 * `from`/`to` when the filter is submitted, so a shared link shows its recipient the same calls;
 * `range` only tells the form which preset to select, and re-submitting re-resolves it against
 * the clock of that moment ("last 15 min" stays the last 15 minutes). `range` is never sent to
 * the server.
 *
 * All times are UTC, as every screen shows them (format.ts): "today" is the UTC day.
 */
import type { EndReason } from '@callscope/cdr-model';
import type { CallSearchQuery } from '../../../../src/api-types.ts';
import { isoToMicros } from '../../lib/format.ts';

/** The time presets of the filter bar. */
export const TIME_PRESETS = [
  { id: '15m', label: 'Last 15 min' },
  { id: '1h', label: 'Last hour' },
  { id: '6h', label: 'Last 6 h' },
  { id: 'today', label: 'Today (UTC)' },
  { id: 'yesterday', label: 'Yesterday (UTC)' },
  { id: '7d', label: 'Last 7 days' },
] as const;

/** A time preset id, or `custom` for the from/to typed by the user. */
export type TimeRange = (typeof TIME_PRESETS)[number]['id'] | 'custom';

/** How a number filter matches. */
export type NumberMatch = 'prefix' | 'suffix' | 'contains';

/**
 * Every end reason with the words the select and the list show for it; a Record, so the compiler
 * refuses this table when cdr-model gains a reason it does not name.
 */
export const END_REASON_LABELS: Readonly<Record<EndReason, string>> = Object.freeze({
  bye_confirmed: 'BYE confirmed',
  bye_unconfirmed: 'BYE unconfirmed',
  cancelled: 'Cancelled',
  rejected: 'Rejected',
  no_answer_timeout: 'No answer (timeout)',
  rtp_timeout: 'RTP timeout',
  absolute_timeout: 'Max duration',
  capture_end: 'Capture ended',
  evicted: 'Evicted (table full)',
  sensor_shutdown: 'Sensor shutdown',
  bye_failed: 'BYE failed',
});

/**
 * The filter as the form edits it: every value a string as typed (trimmed on the way to the URL),
 * times as ISO-8601 UTC strings. The empty string means "no condition".
 */
export interface CallFilter {
  readonly range: TimeRange;
  readonly from: string;
  readonly to: string;
  readonly caller: string;
  readonly callerMatch: NumberMatch;
  readonly called: string;
  readonly calledMatch: NumberMatch;
  readonly ip: string;
  readonly callId: string;
  readonly sensor: string;
  readonly code: string;
  readonly durationMin: string;
  readonly durationMax: string;
  readonly mosBelow: string;
  readonly lossAbove: string;
  readonly jitterAbove: string;
  readonly codec: string;
  /** An identifier of a leg: Call-ID, X-CID, icid, Session-ID or a correlation header's value (exact). */
  readonly leg: string;
  readonly endReason: EndReason | '';
  /** Sort column with `-` for descending; '' is the server's default (`-start`). */
  readonly sort: string;
}

/** The filter of a bare `/calls`: the last hour, newest first. */
export const EMPTY_FILTER: CallFilter = Object.freeze({
  range: '1h',
  from: '',
  to: '',
  caller: '',
  callerMatch: 'prefix',
  called: '',
  calledMatch: 'prefix',
  ip: '',
  callId: '',
  sensor: '',
  code: '',
  durationMin: '',
  durationMax: '',
  mosBelow: '',
  lossAbove: '',
  jitterAbove: '',
  codec: '',
  leg: '',
  endReason: '',
  sort: '',
});

/** Filter fields that map one-to-one onto a string key of the query, in URL order. */
const PLAIN_KEYS = [
  ['ip', 'ip'],
  ['callId', 'call_id'],
  ['sensor', 'sensor'],
  ['code', 'code'],
  ['durationMin', 'duration_min'],
  ['durationMax', 'duration_max'],
  ['mosBelow', 'mos_below'],
  ['lossAbove', 'loss_above'],
  ['jitterAbove', 'jitter_above'],
  ['codec', 'codec'],
  ['leg', 'leg'],
] as const satisfies readonly (readonly [keyof CallFilter, keyof CallSearchQuery])[];

const MATCHES: readonly string[] = ['prefix', 'suffix', 'contains'] satisfies NumberMatch[];
const RANGES: readonly string[] = [...TIME_PRESETS.map((p) => p.id), 'custom'];

const isMatch = (v: string | null): v is NumberMatch => v !== null && MATCHES.includes(v);
const isEndReason = (v: string | null): v is EndReason => v !== null && Object.hasOwn(END_REASON_LABELS, v);

/**
 * The filter of a `/calls` query string. Unknown keys and values outside an enumeration are
 * ignored (a hand-edited link still opens); a link with `from`/`to` but no `range` is a custom
 * range, a link with neither is the last hour (resolved by {@link submitFilter}).
 */
export function filterFromParams(params: URLSearchParams): CallFilter {
  const get = (key: string): string => params.get(key)?.trim() ?? '';
  const rangeParam = params.get('range');
  const from = get('from');
  const to = get('to');
  const range: TimeRange =
    rangeParam !== null && RANGES.includes(rangeParam) ? (rangeParam as TimeRange) : from !== '' || to !== '' ? 'custom' : EMPTY_FILTER.range;
  const callerMatch = params.get('caller_match');
  const calledMatch = params.get('called_match');
  const endReason = params.get('end_reason');
  const plain: Record<string, string> = {};
  for (const [field, key] of PLAIN_KEYS) plain[field] = get(key);
  return {
    ...EMPTY_FILTER,
    ...plain,
    range,
    from,
    to,
    caller: get('caller'),
    callerMatch: isMatch(callerMatch) ? callerMatch : 'prefix',
    called: get('called'),
    calledMatch: isMatch(calledMatch) ? calledMatch : 'prefix',
    endReason: isEndReason(endReason) ? endReason : '',
    sort: get('sort'),
  };
}

/**
 * The API query of a filter: trimmed, empty values left out, the default match mode (`prefix`)
 * and a match mode without its number left out, so equal searches give equal queries.
 */
export function searchQuery(filter: CallFilter): CallSearchQuery {
  return queryRecord(filter);
}

/** {@link searchQuery} as the plain string record it is built as. */
function queryRecord(filter: CallFilter): Record<string, string> {
  const q: Record<string, string> = {};
  const put = (key: keyof CallSearchQuery, value: string): void => {
    const v = value.trim();
    if (v !== '') q[key] = v;
  };
  put('from', filter.from);
  put('to', filter.to);
  put('caller', filter.caller);
  if (filter.caller.trim() !== '' && filter.callerMatch !== 'prefix') q['caller_match'] = filter.callerMatch;
  put('called', filter.called);
  if (filter.called.trim() !== '' && filter.calledMatch !== 'prefix') q['called_match'] = filter.calledMatch;
  for (const [field, key] of PLAIN_KEYS) put(key, filter[field]);
  put('end_reason', filter.endReason);
  put('sort', filter.sort);
  return q;
}

/** The `/calls` query string of a filter: the API query plus the preset in `range`. */
export function filterToParams(filter: CallFilter): URLSearchParams {
  const params = new URLSearchParams();
  if (filter.range !== 'custom') params.set('range', filter.range);
  for (const [key, value] of Object.entries(queryRecord(filter))) params.set(key, value);
  return params;
}

const DAY_MS = 86_400_000;
const SPAN_MS: Readonly<Record<string, number>> = { '15m': 15 * 60_000, '1h': 3_600_000, '6h': 6 * 3_600_000, '7d': 7 * DAY_MS };

/** ISO-8601 UTC of an epoch-ms time that is a whole second (no `.000`: short, readable URLs). */
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * The absolute range of a preset at `now`. Rolling presets end at the next whole second after
 * `now` (the query's `to` is exclusive, so a call that started in the current second is in);
 * `today` is UTC midnight to that same end; `yesterday` is the whole previous UTC day.
 */
export function resolveTimeRange(range: Exclude<TimeRange, 'custom'>, now: Date): { from: string; to: string } {
  const end = Math.ceil(now.getTime() / 1000) * 1000;
  const midnight = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  switch (range) {
    case 'today':
      return { from: isoSeconds(midnight), to: isoSeconds(end) };
    case 'yesterday':
      return { from: isoSeconds(midnight - DAY_MS), to: isoSeconds(midnight) };
    default:
      return { from: isoSeconds(end - (SPAN_MS[range] ?? 0)), to: isoSeconds(end) };
  }
}

/**
 * The filter as it goes into the URL when the user submits it at `now`: a preset becomes its
 * absolute from/to of this moment; a custom range is kept as typed.
 */
export function submitFilter(filter: CallFilter, now: Date): CallFilter {
  if (filter.range === 'custom') return filter;
  return { ...filter, ...resolveTimeRange(filter.range, now) };
}

/**
 * ISO-8601 UTC from what a user types in a time field: `2026-11-29 17:00`,
 * `2026-11-29T17:00:05.123456`, `2026-11-29` (midnight), with or without a trailing `Z`.
 * The fraction is kept as typed (µs matter: calls are stored with them). Null when it is not a
 * valid UTC time of that shape.
 */
export function parseTimeInput(text: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?Z?$/i.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac] = m;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}`;
  const ms = Date.parse(`${iso}Z`);
  // Date.parse accepts 2026-02-30 (rolls over); compare back to refuse it.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== iso) return null;
  return frac === undefined ? `${iso}Z` : `${iso}.${frac}Z`;
}

/** What a time field shows for an ISO time: `2026-11-29 17:00:05` plus the fraction if any. */
export function formatTimeInput(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}${m[3] ?? ''}` : iso;
}

/** A problem with one field of the filter, named by its {@link CallFilter} key. */
export interface FilterProblem {
  readonly field: keyof CallFilter;
  readonly message: string;
}

const DECIMAL = /^\d+(?:\.\d+)?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** True for an IPv4 or IPv6 address, optionally with a CIDR prefix length that fits it. */
export function isIpOrCidr(text: string): boolean {
  const [addr = '', bits, extra] = text.split('/');
  if (extra !== undefined) return false;
  const v4 = IPV4.test(addr);
  // IPv6: hex groups with at most one '::', or an embedded IPv4 tail; the server parses it for real.
  const v6 = !v4 && addr.includes(':') && /^[0-9a-f:.]+$/i.test(addr) && addr.split('::').length <= 2 && addr.split(':').every((g) => g.length <= 4 || IPV4.test(g));
  if (!v4 && !v6) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (v4 ? 32 : 128);
}

/**
 * The fields the server would refuse, checked before the request so the user sees which field
 * is wrong next to it. Time fields are checked by {@link parseTimeInput} where they are typed.
 */
export function checkFilter(filter: CallFilter): FilterProblem[] {
  const problems: FilterProblem[] = [];
  const numeric = (field: 'durationMin' | 'durationMax' | 'mosBelow' | 'lossAbove' | 'jitterAbove', label: string, max?: number): void => {
    const v = filter[field].trim();
    if (v === '') return;
    if (!DECIMAL.test(v) || (max !== undefined && Number(v) > max)) problems.push({ field, message: `${label}: a number${max !== undefined ? ` up to ${max}` : ''}` });
  };
  if (filter.ip.trim() !== '' && !isIpOrCidr(filter.ip.trim())) problems.push({ field: 'ip', message: 'IP: an IPv4/IPv6 address or CIDR' });
  if (filter.code.trim() !== '' && !/^[1-6](?:\d\d|xx)$/i.test(filter.code.trim())) problems.push({ field: 'code', message: 'Code: a SIP code (486) or class (4xx)' });
  if (filter.sensor.trim() !== '' && !/^\d+$/.test(filter.sensor.trim())) problems.push({ field: 'sensor', message: 'Sensor: a sensor id' });
  numeric('durationMin', 'Duration min');
  numeric('durationMax', 'Duration max');
  numeric('mosBelow', 'MOS below', 5);
  numeric('lossAbove', 'Loss above', 100);
  numeric('jitterAbove', 'Jitter above');
  const min = Number(filter.durationMin);
  const max = Number(filter.durationMax);
  if (filter.durationMin.trim() !== '' && filter.durationMax.trim() !== '' && min > max) problems.push({ field: 'durationMax', message: 'Duration: max is below min' });
  if (filter.range === 'custom') {
    if (filter.from !== '' && parseTimeInput(filter.from) === null) problems.push({ field: 'from', message: 'From: YYYY-MM-DD HH:MM[:SS] UTC' });
    if (filter.to !== '' && parseTimeInput(filter.to) === null) problems.push({ field: 'to', message: 'To: YYYY-MM-DD HH:MM[:SS] UTC' });
    const from = parseTimeInput(filter.from);
    const to = parseTimeInput(filter.to);
    // Compared as µs: ISO strings with and without a fraction do not sort as text.
    if (from !== null && to !== null && isoToMicros(from) >= isoToMicros(to)) problems.push({ field: 'to', message: 'To must be after From' });
  }
  return problems;
}
