/**
 * Geometry of the SIP ladder (sngrep's call flow, Wireshark's Flow Sequence): one vertical lane
 * per address:port in order of first appearance, one row per message, arrows labelled with the
 * method or the status, RTP drawn as bands between the lanes its packets flow on. Pure: the SVG
 * component only draws what this module computes, and the tests pin it down.
 *
 * Rows are evenly spaced (not proportional to time) so a burst of messages stays readable; RTP
 * bands and other timed marks are placed by interpolating between the rows around their time
 * ({@link timeToY}), so a stream starts next to the ACK that set it up.
 */
import { codecName, streamCodecText } from '../../lib/codec-text.ts';
import { formatOffset, isoToMicros } from '../../lib/format.ts';
import type { Endpoint, LadderMessage } from '../../../../src/artifact-types.ts';

/** Sizes of the ladder drawing, px. */
export const LADDER_GEOMETRY = {
  /** Height of one message row. */
  rowHeight: 26,
  /** Space above the first row. */
  top: 6,
  /** Left column with the time since the first message. */
  timeColumn: 74,
  /** Narrowest distance between two lanes: the longest usual label ("183 Session Progress (SDP)") fits. */
  minLaneGap: 170,
  /** Rows drawn beyond each edge of the viewport, so a fast scroll does not show blank rows. */
  overscan: 20,
} as const;

/** One vertical lane. */
export interface LadderLane {
  /** `ip:port` (`[v6]:port`) of a SIP lane, `ip` of a media-only lane. */
  readonly key: string;
  readonly ip: string;
  /** null for a media-only lane (an address that sent RTP but no SIP of this call). */
  readonly port: number | null;
  /** Centre of the lane, px from the left of the drawing. */
  readonly x: number;
  /** `caller` / `callee` when the lane is the initial INVITE's source / destination. */
  readonly role: 'caller' | 'callee' | null;
}

/** One message arrow. */
export interface LadderArrow {
  /** Index of the message in the ladder. */
  readonly index: number;
  /** y of the arrow's line, px. */
  readonly y: number;
  readonly fromLane: number;
  readonly toLane: number;
  /** `INVITE`, `180 Ringing`, ... */
  readonly label: string;
  /** Time since the ladder's first message, `+1.234 s`. */
  readonly offset: string;
  /** The message carries an SDP body (marked on the arrow: an offer or an answer). */
  readonly sdp: boolean;
  readonly retransmission: boolean;
  /** `request`, or the class of a response (`1xx` ... `6xx`), for the arrow's colour. */
  readonly kind: 'request' | '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | '6xx';
}

/** What the ladder needs of an RTP stream (a subset of the CDR's StreamRecord). */
export interface LadderStream {
  readonly ssrc: string;
  readonly src_ip: string;
  readonly src_port: number;
  readonly dst_ip: string;
  readonly dst_port: number;
  readonly codec: string | null;
  /** Every codec the stream carried, with the time it started (`StreamRecord.codecs`; empty for older records). */
  readonly codecs: readonly { readonly codec: string | null; readonly payload_type: number; readonly from: string }[];
  readonly packets: number;
  readonly first: string;
  readonly last: string;
}

/** A codec change inside an RTP band: where the new codec starts. */
export interface BandCodecChange {
  /** y of the change on the ladder, px. */
  readonly y: number;
  /** The codec from there on (`PCMU`). */
  readonly codec: string;
}

/** An RTP stream as a band between two lanes. */
export interface RtpBand {
  readonly ssrc: string;
  readonly fromLane: number;
  readonly toLane: number;
  readonly y0: number;
  readonly y1: number;
  /** Position of this band among the bands between the same two lanes (0-based) and their count. */
  readonly slot: number;
  readonly slots: number;
  /** `RTP PCMA 0x1a2b3c4d 1500 pkts`; `RTP PCMA→PCMU ...` after a codec change. */
  readonly label: string;
  /** The short text drawn in the band: the codec, `PCMA→PCMU` after a change, `RTP` when unknown. */
  readonly codec: string;
  /** Each change of codec after the first one, placed on the ladder's time axis like the band. */
  readonly changes: readonly BandCodecChange[];
}

/** The whole ladder. */
export interface LadderLayout {
  readonly lanes: readonly LadderLane[];
  readonly arrows: readonly LadderArrow[];
  readonly bands: readonly RtpBand[];
  /** Size of the drawing, px. */
  readonly width: number;
  readonly height: number;
}

/** `ip:port`, IPv6 in brackets (RFC 3986 authority form). */
export function endpointKey(e: Endpoint): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

/** The label of a message: a request's method, a response's code and reason. */
export function arrowLabel(m: Pick<LadderMessage, 'firstLine' | 'method' | 'statusCode'>): string {
  if (m.statusCode === null) return m.method;
  // Status-Line: SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2).
  const reason = /^SIP\/\d\.\d\s+\d{3}\s*(.*)$/i.exec(m.firstLine)?.[1]?.trim() ?? '';
  return reason ? `${m.statusCode} ${reason}` : String(m.statusCode);
}

/** The message carries SDP: a body with `Content-Type: application/sdp` (compact form `c`). */
export function carriesSdp(m: Pick<LadderMessage, 'headers' | 'body'>): boolean {
  if (m.body.length === 0) return false;
  for (const h of m.headers) {
    const name = h.name.toLowerCase();
    if (name === 'content-type' || name === 'c') return /^\s*application\/sdp\b/i.test(h.value);
  }
  return false;
}

function kindOf(statusCode: number | null): LadderArrow['kind'] {
  if (statusCode === null) return 'request';
  const c = Math.min(6, Math.max(1, Math.floor(statusCode / 100)));
  return `${c}xx` as LadderArrow['kind'];
}

/** y of message row `i`'s arrow. */
export const rowY = (i: number): number => LADDER_GEOMETRY.top + i * LADDER_GEOMETRY.rowHeight + LADDER_GEOMETRY.rowHeight - 7;

/**
 * y of a moment on the ladder: interpolated between the rows of the messages around it (rows
 * are evenly spaced, time is not); before the first message, the first row; after the last, the
 * last row plus one.
 *
 * @param timesUs - the messages' times, µs, non-decreasing (the ladder's order)
 */
export function timeToY(timeUs: number, timesUs: readonly number[]): number {
  const n = timesUs.length;
  if (n === 0) return rowY(0);
  if (timeUs <= timesUs[0]!) return rowY(0);
  if (timeUs >= timesUs[n - 1]!) return timeUs === timesUs[n - 1]! ? rowY(n - 1) : rowY(n - 1) + LADDER_GEOMETRY.rowHeight / 2;
  // Largest k with times[k] <= t (binary search: thousands of messages, many bands and marks).
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (timesUs[mid]! <= timeUs) lo = mid;
    else hi = mid - 1;
  }
  const t0 = timesUs[lo]!;
  const t1 = timesUs[lo + 1]!;
  const frac = t1 > t0 ? (timeUs - t0) / (t1 - t0) : 0;
  return rowY(lo) + frac * (rowY(lo + 1) - rowY(lo));
}

/**
 * The messages in time order, ties kept in their given order (a stable sort). The sensor returns
 * them as its spool files hold them, which is time order per file only: a call seen by two captures
 * (or spooled twice) comes back file after file. The ladder, its time offsets and {@link timeToY}
 * need one time order.
 *
 * @returns `messages` itself when already in order (the usual case: no copy)
 */
export function sortByTime<M extends Pick<LadderMessage, 'time'>>(messages: readonly M[]): readonly M[] {
  const us = messages.map((m) => isoToMicros(m.time));
  let sorted = true;
  for (let i = 1; i < us.length && sorted; i++) if (us[i]! < us[i - 1]!) sorted = false;
  if (sorted) return messages;
  return messages
    .map((m, i) => ({ m, i }))
    .sort((a, b) => us[a.i]! - us[b.i]! || a.i - b.i)
    .map((x) => x.m);
}

/** Options of {@link layoutLadder}. */
export interface LadderOptions {
  /** Width available, px: lanes spread over it, never closer than `minLaneGap`. */
  readonly width: number;
  /** The initial INVITE's source and destination (from the CDR), to name the caller's and callee's lanes. */
  readonly caller?: Endpoint;
  readonly callee?: Endpoint;
}

/**
 * Lays out a ladder: lanes in order of first appearance (each message's source, then its
 * destination), then media-only lanes for RTP addresses no SIP lane has; one arrow per message;
 * one band per stream from its first to its last packet.
 */
export function layoutLadder(messages: readonly LadderMessage[], streams: readonly LadderStream[], options: LadderOptions): LadderLayout {
  const laneIndex = new Map<string, number>();
  const laneSpecs: { key: string; ip: string; port: number | null }[] = [];
  const addLane = (key: string, ip: string, port: number | null): number => {
    let i = laneIndex.get(key);
    if (i === undefined) {
      i = laneSpecs.length;
      laneIndex.set(key, i);
      laneSpecs.push({ key, ip, port });
    }
    return i;
  };
  const ends = messages.map((m) => [addLane(endpointKey(m.src), m.src.ip, m.src.port), addLane(endpointKey(m.dst), m.dst.ip, m.dst.port)] as const);

  // RTP flows between media addresses, usually the SIP hosts' own IPs on other ports: a stream
  // goes on the first lane of its IP, or on a media-only lane of that IP.
  const laneOfIp = (ip: string): number => {
    for (let i = 0; i < laneSpecs.length; i++) if (laneSpecs[i]!.ip === ip) return i;
    return addLane(ip, ip, null);
  };
  const streamLanes = streams.map((s) => [laneOfIp(s.src_ip), laneOfIp(s.dst_ip)] as const);

  const g = LADDER_GEOMETRY;
  const gap = Math.max(g.minLaneGap, laneSpecs.length ? (options.width - g.timeColumn) / laneSpecs.length : 0);
  const callerKey = options.caller ? endpointKey(options.caller) : null;
  const calleeKey = options.callee ? endpointKey(options.callee) : null;
  const lanes: LadderLane[] = laneSpecs.map((l, i) => ({
    ...l,
    x: Math.round(g.timeColumn + gap * (i + 0.5)),
    role: l.key === callerKey ? 'caller' : l.key === calleeKey ? 'callee' : null,
  }));

  const firstTime = messages[0]?.time;
  const arrows: LadderArrow[] = messages.map((m, i) => ({
    index: i,
    y: rowY(i),
    fromLane: ends[i]![0],
    toLane: ends[i]![1],
    label: arrowLabel(m),
    offset: firstTime === undefined ? '' : formatOffset(firstTime, m.time),
    sdp: carriesSdp(m),
    retransmission: m.retransmission,
    kind: kindOf(m.statusCode),
  }));

  const timesUs = messages.map((m) => isoToMicros(m.time));
  const pairKey = (a: number, b: number): string => (a < b ? `${a}-${b}` : `${b}-${a}`);
  const pairCount = new Map<string, number>();
  for (const [a, b] of streamLanes) pairCount.set(pairKey(a, b), (pairCount.get(pairKey(a, b)) ?? 0) + 1);
  const pairSeen = new Map<string, number>();
  const bands: RtpBand[] = streams.map((s, i) => {
    const [fromLane, toLane] = streamLanes[i]!;
    const key = pairKey(fromLane, toLane);
    const slot = pairSeen.get(key) ?? 0;
    pairSeen.set(key, slot + 1);
    const y0 = timeToY(isoToMicros(s.first), timesUs);
    const y1 = Math.max(y0 + 4, timeToY(isoToMicros(s.last), timesUs));
    const changes = s.codecs.slice(1).map((c) => ({ y: Math.min(y1, Math.max(y0, timeToY(isoToMicros(c.from), timesUs))), codec: codecName(c) }));
    return {
      ssrc: s.ssrc,
      fromLane,
      toLane,
      y0,
      y1,
      slot,
      slots: pairCount.get(key)!,
      codec: streamCodecText(s),
      changes,
      label: `RTP ${streamCodecText(s, '?', 8)} ${s.ssrc} ${s.packets} pkts`,
    };
  });

  const height = Math.max(rowY(messages.length - 1) + g.rowHeight, ...bands.map((b) => b.y1 + 4));
  return { lanes, arrows, bands, width: Math.round(g.timeColumn + gap * lanes.length), height: Math.ceil(height) };
}

/**
 * The rows to draw for a scroll position: only these are in the DOM, so a ladder of thousands of
 * messages costs what a screenful costs.
 *
 * @returns first and last row index, inclusive; last < first when there are no rows
 */
export function visibleRows(scrollTop: number, viewportHeight: number, count: number, overscan: number = LADDER_GEOMETRY.overscan): { first: number; last: number } {
  const g = LADDER_GEOMETRY;
  const first = Math.max(0, Math.floor((scrollTop - g.top) / g.rowHeight) - overscan);
  const last = Math.min(count - 1, Math.ceil((scrollTop + viewportHeight - g.top) / g.rowHeight) + overscan);
  return { first, last };
}
