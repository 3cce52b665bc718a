/**
 * The typed CDR model: exactly the objects `sniffer analyze --format jsonl` prints, one per line
 * (DESIGN.md "Contracts"). Property names are snake_case on purpose so the sniffer can
 * `JSON.stringify` a record as is and the database writer can take the same object.
 *
 * Times are ISO-8601 UTC strings with exactly 6 fractional digits
 * (`"2026-11-29T17:00:00.123456Z"`): a JS `Date` keeps milliseconds only, a string keeps the
 * capture's microseconds exact all the way to `DATETIME(6)`.
 *
 * @packageDocumentation
 */

import type { IsoMicros } from './iso-micros.js';

/** SIP transport the call's signalling used (RFC 3261 §18, RFC 7118 for WebSocket). */
export type SipTransport = 'udp' | 'tcp' | 'tls' | 'ws';

/** Which party of the call: the one that sent the initial INVITE (`caller`) or the other. */
export type CallSide = 'caller' | 'callee';

/**
 * Why a call ended.
 * - `bye_confirmed`: a BYE was answered (RFC 3261 §15.1.1).
 * - `bye_unconfirmed`: a BYE was seen but no final response to it (retransmitted until RFC 3261
 *   Timer F, 64 x T1 = 32 s, ran out).
 * - `bye_failed`: the BYE got a final failure response (481 Call/Transaction Does Not Exist, 408,
 *   500...; a 401/407 challenge followed by an authenticated BYE is not one): the code is in
 *   `sip_responses` (`cseq_method` "BYE"), `end` is that response.
 * - `cancelled`: the caller CANCELled before a final response (RFC 3261 §9).
 * - `rejected`: the INVITE got a final non-2xx response.
 * - `no_answer_timeout`: no final response within the sniffer's timeout.
 * - `rtp_timeout`: established, but no RTP/SIP for the sniffer's idle timeout.
 * - `absolute_timeout`: the call exceeded the maximum call duration.
 * - `capture_end`: the input ended with the call still open.
 * - `evicted`: the call table cap pushed it out.
 * - `sensor_shutdown`: the sensor daemon stopped (SIGTERM/SIGINT) with the call still open; its
 *   CDR holds what was seen until then.
 */
export type EndReason =
  | 'bye_confirmed'
  | 'bye_unconfirmed'
  | 'cancelled'
  | 'rejected'
  | 'no_answer_timeout'
  | 'rtp_timeout'
  | 'absolute_timeout'
  | 'capture_end'
  | 'evicted'
  | 'sensor_shutdown'
  | 'bye_failed';

/** Every {@link EndReason}, in the order used by the `cdr.end_reason` ENUM column. */
export const END_REASONS = [
  'bye_confirmed',
  'bye_unconfirmed',
  'cancelled',
  'rejected',
  'no_answer_timeout',
  'rtp_timeout',
  'absolute_timeout',
  'capture_end',
  'evicted',
  'sensor_shutdown',
  'bye_failed',
] as const satisfies readonly EndReason[];

/** Every {@link SipTransport}, in the order used by the `transport` ENUM columns. */
export const SIP_TRANSPORTS = ['udp', 'tcp', 'tls', 'ws'] as const satisfies readonly SipTransport[];

/** How a DTMF digit was carried. */
export type DtmfMethod = 'rfc2833' | 'info' | 'inband';

/** One DTMF digit seen in the call. */
export interface DtmfRecord {
  /** The digit: `0`-`9`, `*`, `#`, `A`-`D` (RFC 4733 §3.2 events 0-15). */
  digit: string;
  /** When the digit started (UTC, microseconds). */
  ts: IsoMicros;
  /**
   * `rfc2833`: RTP telephone-event (RFC 4733, formerly RFC 2833); `info`: SIP INFO body
   * (`application/dtmf-relay`); `inband`: detected in the audio.
   */
  method: DtmfMethod;
  /** Tone duration in milliseconds; `null` when the carrier gives none (e.g. INFO without Duration). */
  duration_ms: number | null;
}

/** One final SIP response (code >= 200) seen in the call's dialog. */
export interface SipResponseRecord {
  /** Status code, 200-699 (RFC 3261 §21). */
  code: number;
  /** Reason phrase as sent (RFC 3261 §7.2). */
  reason: string;
  /** When the response was seen (UTC, microseconds). */
  time: IsoMicros;
  /** Method from the response's CSeq header (`INVITE`, `BYE`, ...; RFC 3261 §20.16). */
  cseq_method: string;
  /** Which party sent the response. */
  from_side: CallSide;
}

/** Summary of RTCP reports seen for a stream (RFC 3550 §6.4). */
export interface RtcpSummary {
  /** RTCP packets seen for this SSRC. */
  packets: number;
  /** Highest cumulative lost count reported by the peer in a receiver report block. */
  lost: number;
  /** Highest "fraction lost" reported, as a percentage 0-100 (fraction / 256 * 100). */
  fraction_lost_max_pct: number;
  /** Highest interarrival jitter reported by the peer, in milliseconds. */
  jitter_max_ms: number;
  /** Highest round-trip time computed from LSR/DLSR (RFC 3550 §6.4.1), milliseconds; `null` if none. */
  rtt_max_ms: number | null;
}

/**
 * One RTP stream: (src ip/port, dst ip/port, SSRC), numbers as in Wireshark's RTP stream
 * analysis (`tshark -z rtp,streams`), RFC 3550.
 */
/** A codec a stream carried from some time on (see {@link StreamRecord.codecs}). */
export interface StreamCodecRecord {
  /** RTP payload type 0-127. */
  payload_type: number;
  /** Codec name, `null` if unknown. */
  codec: string | null;
  /** Arrival of its first packet in the stream (UTC, whole milliseconds). */
  from: IsoMicros;
}

export interface StreamRecord {
  /** SSRC as `0x` + 8 lowercase hex digits (RFC 3550 §5.1). */
  ssrc: string;
  /** Which party sent this stream. */
  side: CallSide;
  /** Source IP address (dotted IPv4 or IPv6 text). */
  src_ip: string;
  /** Source UDP port. */
  src_port: number;
  /** Destination IP address. */
  dst_ip: string;
  /** Destination UDP port. */
  dst_port: number;
  /** RTP payload type 0-127 (RFC 3551 §6) of the stream's first packet. */
  payload_type: number;
  /** Codec name (`PCMA`, `PCMU`, `G729`, `opus`...) from the static table or SDP; `null` if unknown. */
  codec: string | null;
  /**
   * Every audio codec the stream carried, in order, each with the arrival of its first packet
   * (millisecond precision): one entry for most streams, more after a codec change (a re-INVITE
   * switching PCMA to PCMU on the same SSRC). Telephone-event and comfort-noise packets are not
   * codecs. At most 32 entries. `[]` for a stream without audio packets (and in a record queued
   * before the field existed).
   */
  codecs: StreamCodecRecord[];
  /** Packets received. */
  packets: number;
  /** Packets lost: expected - received (RFC 3550 §6.4.1); may be negative with duplicates. */
  lost: number;
  /** `lost` as a percentage of expected packets, 0-100. */
  lost_pct: number;
  /** Sequence number discontinuities (jumps other than +1). */
  seq_errors: number;
  /** Packets with a sequence number already received. */
  duplicated: number;
  /** Packets arriving with a sequence number lower than the highest seen. */
  reordered: number;
  /** Arrival time of the first packet (UTC, microseconds). */
  first: IsoMicros;
  /** Arrival time of the last packet (UTC, microseconds). */
  last: IsoMicros;
  /** Highest RFC 3550 §6.4.1 interarrival jitter, milliseconds. */
  jitter_max_ms: number;
  /** Mean interarrival jitter, milliseconds. */
  jitter_mean_ms: number;
  /** Largest gap between consecutive packet arrivals, milliseconds. */
  delta_max_ms: number;
  /** Loss bursts by length: index 0..8 = bursts of 1..9 packets, index 9 = bursts of 10 or more. */
  loss_bursts: number[];
  /** MOS (1.0-4.5, ITU-T G.107 E-model) with a fixed 50 ms jitter buffer; `null` if not computed. */
  mos_f1: number | null;
  /** MOS with a fixed 200 ms jitter buffer; `null` if not computed. */
  mos_f2: number | null;
  /** MOS with an adaptive jitter buffer (up to 500 ms); `null` if not computed. */
  mos_adapt: number | null;
  /** Lowest MOS over any 10 s window of the stream; `null` if not computed. */
  mos_min: number | null;
  /** RTCP seen about this stream; `null` if none. */
  rtcp: RtcpSummary | null;
}

/**
 * RFC 7989 Session-ID of a call: the end-to-end session identifier, kept unchanged by B2BUAs that
 * support it, so every leg of one conversation carries the same pair.
 */
export interface SessionIdRecord {
  /** UUID the caller side sent as its own (the `sess-uuid` of the initial INVITE): 32 lowercase hex digits. */
  local_uuid: string;
  /**
   * UUID of the callee side (the `sess-uuid` of its responses or requests, or a non-null `remote`
   * parameter of the caller's); `null` until seen and for the null UUID (all zeros, RFC 7989 §7).
   */
  remote_uuid: string | null;
}

/** Which identifier links two legs (see {@link LinkedLegRecord.by}). */
export type LegLinkKind = 'x_cid' | 'session_id' | 'icid' | 'header';

/**
 * Another call of the same sensor linked to this one: a leg of the same conversation on the other
 * side of a B2BUA or SBC. Only calls the sensor had open or closed within the last minute when the
 * link appeared are named (the database search finds the rest).
 */
export interface LinkedLegRecord {
  /** The other leg's Call-ID. */
  call_id: string;
  /** The other leg's first INVITE (its `start`): with `call_id`, the key of its record. */
  start: IsoMicros;
  /**
   * What links them: `x_cid` (one's X-CID is the other's Call-ID, or both carry the same X-CID),
   * `session_id` (same RFC 7989 caller UUID), `icid` (same P-Charging-Vector icid-value), `header`
   * (same value of a configured correlation header, named in `header`).
   */
  by: LegLinkKind;
  /** The correlation header's name for `by: 'header'`, else `null`. */
  header: string | null;
}

/** A provisional response of a fork branch. */
export interface BranchProvisionalRecord {
  /** Status code 101-199. */
  code: number;
  /** When it was seen (UTC, microseconds). */
  time: IsoMicros;
}

/**
 * One branch of a forked INVITE (RFC 3261 §16.7): the responses of one To-tag, or an INVITE
 * destination that never answered with a tag.
 */
export interface BranchRecord {
  /** To-tag of the branch's responses; `null` for a destination that sent no tagged response. */
  to_tag: string | null;
  /** Address the branch's responses came from (the INVITE's destination when none came). */
  ip: string;
  port: number;
  /** The INVITE sent to that address (the first one when retransmitted), `null` if not seen. */
  invite: IsoMicros | null;
  /** Provisional responses with a tag (100 Trying has none), in order; at most 8. */
  provisional: BranchProvisionalRecord[];
  /** Final response code, `null` if none was seen. */
  final_code: number | null;
  /** Its time. */
  final: IsoMicros | null;
  /** A CANCEL sent to the branch's address, `null` if none. */
  cancel: IsoMicros | null;
  /** This branch decided the call: it answered, or its final response is the call's outcome. */
  chosen: boolean;
}

/** One call (INVITE dialog): the `"type":"call"` line of the jsonl contract. */
export interface CallRecord {
  /** Discriminator of the jsonl line. */
  type: 'call';
  /** Name of the sensor that saw the call (upserted into `sensors`). */
  sensor: string;
  /** SIP Call-ID header (RFC 3261 §20.8), as sent. */
  call_id: string;
  /** User part of the From URI of the initial INVITE (RFC 3261 §19.1.1). */
  caller: string;
  /** User part of the To URI (or Request-URI) of the initial INVITE. */
  called: string;
  /** Host part of the From URI. */
  caller_domain: string;
  /** Host part of the To URI. */
  called_domain: string;
  /** From display name; `null` when absent. */
  caller_name: string | null;
  /** IP address the initial INVITE came from (dotted IPv4 or IPv6 text). */
  caller_ip: string;
  /** Source port of the initial INVITE. */
  caller_port: number;
  /** IP address the initial INVITE was sent to. */
  callee_ip: string;
  /** Destination port of the initial INVITE. */
  callee_port: number;
  /** SIP transport of the initial INVITE. */
  transport: SipTransport;
  /** First INVITE seen (UTC, microseconds). */
  start: IsoMicros;
  /** 2xx to the initial INVITE; `null` if never answered. */
  answer: IsoMicros | null;
  /**
   * The response to the first BYE (the BYE itself if unanswered); for unanswered calls the final
   * response; otherwise the last SIP message.
   */
  end: IsoMicros;
  /** `end - start`, seconds (microsecond precision). */
  duration: number;
  /** `end - answer`, seconds; `null` if never answered. */
  connect_duration: number | null;
  /** Post-dial delay: INVITE to the first 18x/2xx, milliseconds; `null` if none came. */
  pdd_ms: number | null;
  /** Code of the last final response relevant to the call (e.g. 200 to BYE, 486); `null` if none. */
  last_sip_code: number | null;
  /** Reason phrase of `last_sip_code`; `null` if none. */
  last_sip_reason: string | null;
  /** Which party sent the first BYE; `null` without BYE. */
  bye_by: CallSide | null;
  /** Why the call ended. */
  end_reason: EndReason;
  /** SIP messages seen in the dialog. */
  sip_packets: number;
  /** Outermost 802.1Q VLAN id 0-4095 of the initial INVITE; `null` if untagged. */
  vlan: number | null;
  /** User-Agent header of the caller's requests; `null` if absent. */
  caller_user_agent: string | null;
  /** User-Agent / Server header of the callee's messages; `null` if absent. */
  callee_user_agent: string | null;
  /** DTMF digits in order of `ts`. */
  dtmf: DtmfRecord[];
  /** Every final response seen, in order of time. */
  sip_responses: SipResponseRecord[];
  /** Every RTP stream of the call. */
  streams: StreamRecord[];
  /** `X-CID` header of the call (the Call-ID of the leg it was created for, set by SBCs/B2BUAs); `null` if absent. */
  x_cid: string | null;
  /** RFC 7989 `Session-ID`; `null` if absent. */
  session_id: SessionIdRecord | null;
  /** `icid-value` of the `P-Charging-Vector` header (RFC 7315 §4.6, IMS charging id); `null` if absent. */
  icid: string | null;
  /**
   * Values of the sensor's configured correlation headers (`calls.correlationHeaders`), by header
   * name as configured: the first value seen in the dialog, at most 255 characters. `{}` when
   * none is configured or none was present.
   */
  correlation: Record<string, string>;
  /** Other legs of this sensor linked to this call by the identifiers above; at most 16. */
  linked_legs: LinkedLegRecord[];
  /**
   * Branches of a forked INVITE (responses with two or more To-tags, or INVITEs of the same
   * transaction sent to two or more addresses), in order of first appearance; at most 16. `[]`
   * when the INVITE did not fork (its one branch is the call itself). When it forked, the callee
   * fields (`callee_ip`, `callee_port`, `callee_user_agent`) are those of the branch that
   * answered, or, unanswered, of the one whose final response decided the outcome.
   */
  branches: BranchRecord[];
  /**
   * Packets of this call that were seen but could not be used, by reason; `null` when none. A
   * limit that cuts a call's data is marked here, so a CDR never looks complete when it is not.
   */
  dropped: CallDropped | null;
}

/**
 * What a call lost inside the sniffer (not on the network: that is a stream's `lost`). Every key
 * is present when the object is; counts are packets unless the name says otherwise.
 */
export interface CallDropped {
  /** RTP streams (distinct SSRC and addresses) past the per-call stream cap: not tracked. */
  rtp_streams_over_cap: number;
  /** RTP packets of those streams. */
  rtp_packets_over_cap: number;
  /** Packets on the call's RTP address whose RTP header did not parse. */
  rtp_malformed: number;
  /** Packets on the call's RTCP address (or RTCP muxed with RTP) that did not parse as RTCP. */
  rtcp_malformed: number;
  /** SIP messages of this call over TCP that exceeded the reassembly bound and were not parsed. */
  sip_oversize: number;
}

/** The keys of {@link CallDropped}, in the order the database columns and summaries use. */
export const CALL_DROPPED_KEYS = ['rtp_streams_over_cap', 'rtp_packets_over_cap', 'rtp_malformed', 'rtcp_malformed', 'sip_oversize'] as const satisfies readonly (keyof CallDropped)[];

/** Outcome of a registration dialog. */
export type RegisterResult = 'ok' | 'auth_failed' | 'failed' | 'timeout';

/** Every {@link RegisterResult}, in the order used by the `register_failed.result` ENUM column. */
export const REGISTER_RESULTS = ['ok', 'auth_failed', 'failed', 'timeout'] as const satisfies readonly RegisterResult[];

/** One REGISTER dialog (same Call-ID, RFC 3261 §10): the `"type":"register"` line of the jsonl contract. */
export interface RegisterRecord {
  /** Discriminator of the jsonl line. */
  type: 'register';
  /** Name of the sensor that saw it. */
  sensor: string;
  /** SIP Call-ID of the REGISTER transactions. */
  call_id: string;
  /** User part of the To URI (the address of record, RFC 3261 §10.2). */
  user: string;
  /** Host part of the To URI. */
  domain: string;
  /** First Contact URI of the last REGISTER; `null` if none (a query). */
  contact: string | null;
  /** Granted expiry in seconds (from the 200's Contact/Expires, else the request's); `null` if none. */
  expires: number | null;
  /** `ok`: 2xx; `auth_failed`: 401/407 not followed by success or a 403; `failed`: other final error; `timeout`: no final response. */
  result: RegisterResult;
  /** Last final response code; `null` if none. */
  last_sip_code: number | null;
  /** First REGISTER seen (UTC, microseconds). */
  first: IsoMicros;
  /** Last message seen (UTC, microseconds). */
  last: IsoMicros;
  /** Registering client's IP address. */
  client_ip: string;
  /** Registering client's port. */
  client_port: number;
  /** Registrar's IP address. */
  registrar_ip: string;
  /** Registrar's port. */
  registrar_port: number;
  /** User-Agent of the client; `null` if absent. */
  user_agent: string | null;
  /** Whether a 401/407 challenge was seen (RFC 3261 §22.2). */
  challenged: boolean;
  /** REGISTER transactions (CSeq numbers) in the dialog. */
  transactions: number;
}

/** Any line of the `sniffer analyze` jsonl output. */
export type AnalyzeRecord = CallRecord | RegisterRecord;
