/**
 * What the call detail shows of a call's other legs and of its forks (issue 19), as plain data:
 * the identifiers that link legs (X-CID, RFC 7989 Session-ID, P-Charging-Vector icid, the
 * carrier's correlation headers), the related legs the database found merged with the legs the
 * sensor itself linked, and the fork branches with their times since the call's start. Pure,
 * tested; the components only draw it.
 */
import type { BranchRecord, CallRecord, LinkedLegRecord } from '@callscope/cdr-model';
import type { CallRelation, RelatedCallRow } from '../../../../src/api-types.ts';
import { isoToMicros } from '../../lib/format.ts';
import { endpointKey } from './ladder-layout.ts';

/** Seconds either side of a call's start that an identifier's search link covers (the server's related-leg window). */
export const LEG_SEARCH_WINDOW_S = 3600;

/** A UUID of 32 hex digits in its usual 8-4-4-4-12 form; any other text unchanged. */
export function formatUuid(hex: string): string {
  return /^[0-9a-f]{32}$/i.test(hex) ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` : hex;
}

/** ISO-8601 UTC of an epoch-ms time, whole seconds (short, readable URLs). */
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * The call list's URL for every leg carrying `value` within {@link LEG_SEARCH_WINDOW_S} of
 * `start`: the `leg` filter over a custom range (whole seconds around the start).
 */
export function legSearchHref(value: string, start: string): string {
  const ms = Math.floor(isoToMicros(start) / 1000);
  const params = new URLSearchParams({
    from: isoSeconds(Math.floor(ms / 1000) * 1000 - LEG_SEARCH_WINDOW_S * 1000),
    to: isoSeconds(Math.floor(ms / 1000) * 1000 + (LEG_SEARCH_WINDOW_S + 1) * 1000),
    leg: value,
  });
  return `/calls?${params.toString()}`;
}

/** One identifier of the call, as the header lists it. */
export interface CallIdentifier {
  /** `X-CID`, `Session-ID`, `icid`, or the correlation header's name. */
  readonly label: string;
  /** The text shown (a Session-ID as `local ↔ remote` UUIDs with dashes). */
  readonly text: string;
  /** What the leg search looks for (the stored value). */
  readonly search: string;
  readonly title: string;
}

/** The call's leg identifiers, only those it carried, in the order X-CID, Session-ID, icid, correlation headers. */
export function callIdentifiers(c: Pick<CallRecord, 'x_cid' | 'session_id' | 'icid' | 'correlation'>): CallIdentifier[] {
  const out: CallIdentifier[] = [];
  if (c.x_cid !== null) out.push({ label: 'X-CID', text: c.x_cid, search: c.x_cid, title: 'X-CID header: the Call-ID of the leg this one was created for' });
  if (c.session_id !== null) {
    const local = formatUuid(c.session_id.local_uuid);
    const remote = c.session_id.remote_uuid === null ? null : formatUuid(c.session_id.remote_uuid);
    out.push({
      label: 'Session-ID',
      text: remote === null ? local : `${local} ↔ ${remote}`,
      search: c.session_id.local_uuid,
      title: `RFC 7989 Session-ID: caller side ${local}, callee side ${remote ?? 'not seen (or the null UUID)'}`,
    });
  }
  if (c.icid !== null) out.push({ label: 'icid', text: c.icid, search: c.icid, title: 'P-Charging-Vector icid-value (IMS charging id)' });
  for (const [name, value] of Object.entries(c.correlation)) out.push({ label: name, text: value, search: value, title: `correlation header ${name}` });
  return out;
}

/**
 * Words for each relation (a Record: the compiler refuses this table when the API gains a
 * relation it does not name). `x_cid` covers both directions (my X-CID is its Call-ID, or its
 * X-CID is mine) and a shared X-CID.
 */
export const RELATION_TEXT: Readonly<Record<CallRelation, string>> = Object.freeze({
  x_cid: 'X-CID link',
  session_id: 'same Session-ID',
  icid: 'same icid',
  header: 'same correlation header',
  same_numbers: 'same numbers',
});

/** The words of a relation: `X-CID link`, `same Session-ID`, `same X-Carrier-Ref` (the header's name), ... */
export function relationText(relation: CallRelation, header: string | null): string {
  return relation === 'header' && header !== null ? `same ${header}` : RELATION_TEXT[relation];
}

/** Words for a sensor link's `by` (the sensor's own view of the legs it saw together). */
const LINK_TEXT: Readonly<Record<LinkedLegRecord['by'], string>> = { x_cid: 'X-CID', session_id: 'Session-ID', icid: 'icid', header: 'header' };

/** The sensor's reason for a link: `X-CID`, `Session-ID`, `icid`, or the header's name. */
export const linkText = (l: LinkedLegRecord): string => (l.by === 'header' ? (l.header ?? 'header') : LINK_TEXT[l.by]);

/** One line of the related-legs list. */
export type RelatedEntry =
  /** A leg the database found; `linked` when the sensor linked it too. */
  | { readonly kind: 'row'; readonly row: RelatedCallRow; readonly relation: string; readonly linked: LinkedLegRecord | null }
  /** A leg the sensor linked that the database did not return (not stored yet, or outside the search's hour). */
  | { readonly kind: 'linked'; readonly leg: LinkedLegRecord };

/**
 * The related legs from the server merged with the record's `linked_legs`: a linked leg is matched
 * to a row by Call-ID and start (the key the sensor names it by), so it appears once; linked legs
 * with no row are listed too, with a search link. Oldest first, as the server orders its rows.
 */
export function relatedEntries(rows: readonly RelatedCallRow[], linked: readonly LinkedLegRecord[]): RelatedEntry[] {
  const key = (callId: string, start: string): string => `${callId}\u0000${isoToMicros(start)}`;
  const byKey = new Map(linked.map((l) => [key(l.call_id, l.start), l]));
  const out: RelatedEntry[] = rows.map((row) => {
    const l = byKey.get(key(row.call_id, row.start)) ?? null;
    if (l !== null) byKey.delete(key(row.call_id, row.start));
    return { kind: 'row', row, relation: relationText(row.relation, row.relation_header), linked: l };
  });
  for (const leg of byKey.values()) out.push({ kind: 'linked', leg });
  const startOf = (e: RelatedEntry): number => isoToMicros(e.kind === 'row' ? e.row.start : e.leg.start);
  // Stable: rows keep the server's order among equal starts.
  return out.map((e, i) => ({ e, i })).sort((a, b) => startOf(a.e) - startOf(b.e) || a.i - b.i).map((x) => x.e);
}

/** Seconds since the call's start as `+1.234 s` (`-0.010 s` before it); '–' for null. */
export function offsetText(start: string, at: string | null): string {
  if (at === null) return '–';
  const s = (isoToMicros(at) - isoToMicros(start)) / 1e6;
  return `${s < 0 ? '-' : '+'}${Math.abs(s).toFixed(3)} s`;
}

/** One fork branch as the table shows it. */
export interface BranchRow {
  readonly toTag: string;
  readonly address: string;
  readonly invite: string;
  /** `180 +0.777 s`, one per provisional response. */
  readonly provisional: readonly string[];
  /** `200 +2.377 s`, or '–'. */
  readonly final: string;
  /** The final code's class for its colour: ok (2xx), fail (>= 300), none. */
  readonly finalClass: 'ok' | 'fail' | 'none';
  readonly cancel: string;
  readonly chosen: boolean;
}

/** The table rows of a call's fork branches, times relative to the call's start. */
export function branchRows(start: string, branches: readonly BranchRecord[]): BranchRow[] {
  return branches.map((b) => ({
    toTag: b.to_tag ?? '–',
    address: endpointKey({ ip: b.ip, port: b.port }),
    invite: offsetText(start, b.invite),
    provisional: b.provisional.map((p) => `${p.code} ${offsetText(start, p.time)}`),
    final: b.final_code === null ? '–' : `${b.final_code} ${offsetText(start, b.final)}`,
    finalClass: b.final_code === null ? 'none' : b.final_code < 300 ? 'ok' : 'fail',
    cancel: offsetText(start, b.cancel),
    chosen: b.chosen,
  }));
}
