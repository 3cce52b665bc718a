import { ascii, lower } from './bytes.js';

/**
 * Header identities the parser knows. Names are matched case-insensitively (RFC 3261 §7.3.1) and
 * compact forms (RFC 3261 §7.3.3, §20; IANA "SIP header fields" registry) map to the same id.
 * Any other header is {@link SipHeader.Other}: kept in the header table with its name range,
 * never dropped.
 */
export const SipHeader = {
  Other: 0,
  CallId: 1,
  From: 2,
  To: 3,
  CSeq: 4,
  Via: 5,
  Contact: 6,
  Expires: 7,
  ContentLength: 8,
  ContentType: 9,
  MaxForwards: 10,
  Reason: 11,
  PAssertedIdentity: 12,
  RemotePartyId: 13,
  UserAgent: 14,
  Server: 15,
  XCid: 16,
  SessionId: 17,
  Authorization: 18,
  ProxyAuthorization: 19,
  WwwAuthenticate: 20,
  ProxyAuthenticate: 21,
  Supported: 22,
  ContentEncoding: 23,
  Subject: 24,
  Event: 25,
  ReferTo: 26,
  AllowEvents: 27,
  ReferredBy: 28,
  SessionExpires: 29,
  AcceptContact: 30,
  RejectContact: 31,
  RequestDisposition: 32,
  Identity: 33,
  IdentityInfo: 34,
  RecordRoute: 35,
  Route: 36,
  Allow: 37,
  PChargingVector: 38,
} as const;
/** A value of {@link SipHeader}. */
export type SipHeader = (typeof SipHeader)[keyof typeof SipHeader];

/** [full lower-case name, compact form or '', id] — compact forms from RFC 3261 §7.3.3 and the IANA registry. */
const TABLE: readonly (readonly [string, string, SipHeader])[] = [
  ['call-id', 'i', SipHeader.CallId],
  ['from', 'f', SipHeader.From],
  ['to', 't', SipHeader.To],
  ['cseq', '', SipHeader.CSeq],
  ['via', 'v', SipHeader.Via],
  ['contact', 'm', SipHeader.Contact],
  ['expires', '', SipHeader.Expires],
  ['content-length', 'l', SipHeader.ContentLength],
  ['content-type', 'c', SipHeader.ContentType],
  ['max-forwards', '', SipHeader.MaxForwards],
  ['reason', '', SipHeader.Reason],
  ['p-asserted-identity', '', SipHeader.PAssertedIdentity],
  ['remote-party-id', '', SipHeader.RemotePartyId],
  ['user-agent', '', SipHeader.UserAgent],
  ['server', '', SipHeader.Server],
  ['x-cid', '', SipHeader.XCid],
  ['session-id', '', SipHeader.SessionId],
  ['authorization', '', SipHeader.Authorization],
  ['proxy-authorization', '', SipHeader.ProxyAuthorization],
  ['www-authenticate', '', SipHeader.WwwAuthenticate],
  ['proxy-authenticate', '', SipHeader.ProxyAuthenticate],
  ['supported', 'k', SipHeader.Supported],
  ['content-encoding', 'e', SipHeader.ContentEncoding],
  ['subject', 's', SipHeader.Subject],
  ['event', 'o', SipHeader.Event],
  ['refer-to', 'r', SipHeader.ReferTo],
  ['allow-events', 'u', SipHeader.AllowEvents],
  ['referred-by', 'b', SipHeader.ReferredBy],
  ['session-expires', 'x', SipHeader.SessionExpires],
  ['accept-contact', 'a', SipHeader.AcceptContact],
  ['reject-contact', 'j', SipHeader.RejectContact],
  ['request-disposition', 'd', SipHeader.RequestDisposition],
  ['identity', 'y', SipHeader.Identity],
  ['identity-info', 'n', SipHeader.IdentityInfo],
  ['record-route', '', SipHeader.RecordRoute],
  ['route', '', SipHeader.Route],
  ['allow', '', SipHeader.Allow],
  ['p-charging-vector', '', SipHeader.PChargingVector],
];

// Buckets by name length so a lookup compares only names of the right size (usually 1 to 3).
const MAX_NAME = 32;
const BY_LENGTH: { name: Uint8Array; id: SipHeader }[][] = Array.from({ length: MAX_NAME + 1 }, () => []);
for (const [full, compact, id] of TABLE) {
  BY_LENGTH[full.length]!.push({ name: ascii(full), id });
  if (compact !== '') BY_LENGTH[1]!.push({ name: ascii(compact), id });
}

/** Canonical header names indexed by {@link SipHeader} value ('' for Other). */
export const SIP_HEADER_NAMES: readonly string[] = (() => {
  const names: string[] = [''];
  const canon = ['Call-ID', 'From', 'To', 'CSeq', 'Via', 'Contact', 'Expires', 'Content-Length',
    'Content-Type', 'Max-Forwards', 'Reason', 'P-Asserted-Identity', 'Remote-Party-ID', 'User-Agent',
    'Server', 'X-CID', 'Session-ID', 'Authorization', 'Proxy-Authorization', 'WWW-Authenticate',
    'Proxy-Authenticate', 'Supported', 'Content-Encoding', 'Subject', 'Event', 'Refer-To',
    'Allow-Events', 'Referred-By', 'Session-Expires', 'Accept-Contact', 'Reject-Contact',
    'Request-Disposition', 'Identity', 'Identity-Info', 'Record-Route', 'Route', 'Allow', 'P-Charging-Vector'];
  for (const n of canon) names.push(n);
  return names;
})();

/** Maps the header name in [start, end) (case-insensitive, compact forms included) to an id. */
export function sipHeaderFromBytes(buf: Uint8Array, start: number, end: number): SipHeader {
  const len = end - start;
  if (len <= 0 || len > MAX_NAME) return SipHeader.Other;
  const bucket = BY_LENGTH[len]!;
  outer: for (let e = 0; e < bucket.length; e++) {
    const entry = bucket[e]!;
    const name = entry.name;
    for (let i = 0; i < len; i++) {
      if (lower(buf[start + i]!) !== name[i]) continue outer;
    }
    return entry.id;
  }
  return SipHeader.Other;
}
