import type { SipTransport } from '@callscope/cdr-model';
import type { SessionIdValue } from './leg-ids.js';

/** Where a SIP message came from and went to: what the parser cannot know. */
export interface SipEnvelope {
  /** Capture time, microseconds since the Unix epoch (an exact integer up to year 2255). */
  tsUs: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  transport: SipTransport;
  /** Outermost VLAN id, or null when untagged. */
  vlan: number | null;
}

/**
 * One SIP message as the call table sees it: the few fields a dialog keeps, decoded to strings.
 * The packet pipeline builds it from `@callscope/sip-parser`'s byte ranges (see sip-adapter.ts);
 * keeping the call logic on this small shape lets tests drive it with hand-written dialogs.
 */
export interface SipEvent extends SipEnvelope {
  isRequest: boolean;
  /** Request method; for a response, the method of its CSeq. */
  method: string;
  /** Response status code; 0 for requests. */
  statusCode: number;
  /** Response reason phrase; '' for requests. */
  reason: string;
  /**
   * The call's identity: the Call-ID as written when it is ASCII or valid UTF-8, otherwise with
   * every byte outside a valid UTF-8 sequence as `\xNN` (and `\` as `\\`), so that distinct
   * Call-ID bytes always give distinct texts (sip-adapter.ts, identityText). Never empty.
   */
  callId: string;
  cseq: number;
  fromUser: string;
  fromDomain: string;
  fromName: string | null;
  /** From tag, by the same exact-bytes rule as {@link SipEvent.callId}; null when absent. */
  fromTag: string | null;
  toUser: string;
  toDomain: string;
  /** To tag, by the same exact-bytes rule as {@link SipEvent.callId}; null when absent. */
  toTag: string | null;
  /** User part of the Request-URI (requests only). */
  ruriUser: string | null;
  /** User-Agent, or Server for responses. */
  userAgent: string | null;
  /** First Contact URI, REGISTER bookkeeping. */
  contact: string | null;
  /** Expires from the first Contact's `expires` param, else the Expires header. */
  expires: number | null;
  /** Authorization or Proxy-Authorization present (its value is never kept). */
  hasAuthorization: boolean;
  /** The SDP body, when the message carried one. */
  sdp: SdpInfo | null;
  /** Media type of the body ('' when none), e.g. application/dtmf-relay for SIP INFO DTMF. */
  contentType: string;
  /** The body as text when it is small and not SDP (SIP INFO DTMF), otherwise null. */
  bodyText: string | null;
  /** X-CID header (an SBC's link to the leg it was created for), at most 255 characters; null when absent or empty. */
  xCid: string | null;
  /** RFC 7989 Session-ID; null when absent or unusable (see parseSessionId). */
  sessionId: SessionIdValue | null;
  /** P-Charging-Vector icid-value (RFC 7315); null when absent. */
  icid: string | null;
  /**
   * Values of the configured correlation headers (index as in `CorrelationHeaders.names`), or
   * null when none is configured or the message has none of them.
   */
  correlation: (string | null)[] | null;
}

/** One m= section of an SDP body, with the address it is reached at. */
export interface SdpMediaInfo {
  media: string;
  /**
   * Endpoint key (see endpoint-key.ts) of the connection address (media-level c= or the
   * session-level one) and `port`, made from the address parseSdp read out of the message bytes;
   * null when the address is not an IP address (an FQDN). No record keeps the SDP address text.
   */
  rtpKey: number | string | null;
  /** Endpoint key of the same address and `rtcpPort` (null like {@link SdpMediaInfo.rtpKey}). */
  rtcpKey: number | string | null;
  port: number;
  /** RTCP port: a=rtcp, else port + 1 (RFC 3605); equal to `port` with rtcp-mux. */
  rtcpPort: number;
  rtcpMux: boolean;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** Payload types offered, with codec name and clock rate (static table or a=rtpmap). */
  payloads: SdpPayload[];
}

export interface SdpPayload {
  pt: number;
  codec: string | null;
  clockRate: number;
}

export interface SdpInfo {
  media: SdpMediaInfo[];
}
