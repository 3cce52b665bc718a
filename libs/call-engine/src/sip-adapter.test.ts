import { ipv4PortKey } from '@callscope/packet';
import { SdpStatus, SessionDescription, SipMessage, SipStatus, parseSipMessage } from '@callscope/sip-parser';
import { describe, expect, test } from 'vitest';
import { endpointKeyFromText } from './endpoint-key.js';
import { SipAdapterStats, toSipEvent } from './sip-adapter.js';
import type { SipEnvelope } from './sip-event.js';

const ENV: SipEnvelope = { tsUs: 0, srcIp: '192.0.2.10', srcPort: 5060, dstIp: '198.51.100.20', dstPort: 5060, transport: 'udp', vlan: null };

/** The SdpMediaInfo list of an INVITE carrying `sdpLines` (CRLF added). */
function mediaOf(...sdpLines: string[]) {
  const body = sdpLines.map((l) => `${l}\r\n`).join('');
  const text =
    'INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r\n' +
    'From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n' +
    `Content-Type: application/sdp\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const buf = new TextEncoder().encode(text);
  const msg = new SipMessage();
  expect(parseSipMessage(buf, 0, buf.length, msg)).toBe(SipStatus.Ok);
  const ev = toSipEvent(msg, ENV, new SessionDescription());
  return ev?.sdp?.media ?? [];
}

const HEAD = ['v=0', 'o=- 1 1 IN IP4 192.0.2.10', 's=-', 't=0 0'];

// The endpoint key of an SDP address comes from the numbers parseSdp read out of the message bytes
// (no address text in between); it must be the key the text path (endpointKeyFromText) gives, which
// the call table used before, so that the call table behaves the same.
describe('toSipEvent: SDP endpoint keys from the SDP bytes', () => {
  test('IPv4 c= (media level over session level): RTP and RTCP keys', () => {
    const [m] = mediaOf(...HEAD, 'c=IN IP4 192.0.2.99', 'm=audio 40000 RTP/AVP 8', 'c=IN IP4 203.0.113.7');
    expect(m?.rtpKey).toBe(ipv4PortKey(0xcb007107, 40000));
    expect(m?.rtcpKey).toBe(endpointKeyFromText('203.0.113.7', 40001));
    expect([m?.port, m?.rtcpPort]).toEqual([40000, 40001]);
  });

  test('IPv6 c= with a=rtcp: the same keys as the text of the address', () => {
    const [m] = mediaOf(...HEAD, 'c=IN IP6 2001:DB8::a:1', 'm=audio 40002 RTP/AVP 0', 'a=rtcp:40010');
    expect(m?.rtpKey).toBe(endpointKeyFromText('2001:db8::a:1', 40002));
    expect(m?.rtcpKey).toBe(endpointKeyFromText('2001:db8::a:1', 40010));
  });

  test('an address that does not match its type token is still tried as either family', () => {
    const [v6in4] = mediaOf(...HEAD, 'c=IN IP4 2001:db8::5', 'm=audio 40004 RTP/AVP 0');
    expect(v6in4?.rtpKey).toBe(endpointKeyFromText('2001:db8::5', 40004));
    const [v4in6] = mediaOf(...HEAD, 'c=IN IP6 192.0.2.5', 'm=audio 40006 RTP/AVP 0');
    expect(v4in6?.rtpKey).toBe(ipv4PortKey(0xc0000205, 40006));
  });

  test('an FQDN gives a media entry without keys; no c= at all gives no entry', () => {
    const [fqdn] = mediaOf(...HEAD, 'c=IN IP4 media.example.com', 'm=audio 40008 RTP/AVP 0');
    expect(fqdn).toMatchObject({ rtpKey: null, rtcpKey: null, port: 40008 });
    expect(mediaOf(...HEAD, 'm=audio 40008 RTP/AVP 0')).toEqual([]);
  });
});

// Regression (callscope issue 12, finding 6): one invalid m= line (port 99999) made the whole SDP
// fail, so the call got no media endpoint at all.
describe('toSipEvent: a bad media section costs that section only', () => {
  test('an extra m=audio 99999 section first: the valid audio section still gives its endpoint', () => {
    const media = mediaOf(...HEAD, 'c=IN IP4 192.0.2.10', 'm=audio 99999 RTP/AVP 0', 'a=sendonly', 'm=audio 20000 RTP/AVP 8', 'a=rtpmap:8 PCMA/8000');
    expect(media).toHaveLength(1);
    expect(media[0]).toMatchObject({ port: 20000, rtpKey: ipv4PortKey(0xc000020a, 20000), direction: 'sendrecv' });
    expect(media[0]?.payloads).toEqual([{ pt: 8, codec: 'PCMA', clockRate: 8000 }]);
  });
});

/** toSipEvent of a BYE whose Call-ID, From tag and To tag are the given raw bytes. */
function identityOf(callId: number[], fromTag: number[] = [0x61], toTag: number[] = [0x62]) {
  const parts: (string | number[])[] = [
    'BYE sip:bob@example.com SIP/2.0\r\nFrom: <sip:alice@example.com>;tag=', fromTag,
    '\r\nTo: <sip:bob@example.com>;tag=', toTag, '\r\nCall-ID: ', callId, '\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n',
  ];
  const bytes = parts.flatMap((p) => (typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : p));
  const buf = Uint8Array.from(bytes);
  const msg = new SipMessage();
  expect(parseSipMessage(buf, 0, buf.length, msg)).toBe(SipStatus.Ok);
  const stats = new SipAdapterStats();
  const ev = toSipEvent(msg, ENV, new SessionDescription(), stats)!;
  return { callId: ev.callId, fromTag: ev.fromTag, toTag: ev.toTag, stats };
}
const bytesOf = (s: string): number[] => Array.from(new TextEncoder().encode(s));

// Regression (callscope issue 12, finding 5): Call-IDs that differ only in bytes that are not
// UTF-8 were both decoded to U+FFFD and merged into one call. Identity is the exact bytes.
describe('toSipEvent: identity fields keep their exact bytes', () => {
  test('abc\\xff@h and abc\\xfe@h give distinct Call-ID texts, \\xNN escaped', () => {
    const ff = identityOf([...bytesOf('abc'), 0xff, ...bytesOf('@h')]);
    const fe = identityOf([...bytesOf('abc'), 0xfe, ...bytesOf('@h')]);
    expect(ff.callId).toBe('abc\\xff@h');
    expect(fe.callId).toBe('abc\\xfe@h');
    expect(ff.stats.identityEscaped).toBe(1);
  });

  test('ASCII and valid UTF-8 Call-IDs are the text as written (a literal backslash included)', () => {
    expect(identityOf(bytesOf('a1b2@example.com')).callId).toBe('a1b2@example.com');
    expect(identityOf(bytesOf('caf\u00e9-\u{1f600}@h')).callId).toBe('caf\u00e9-\u{1f600}@h');
    expect(identityOf(bytesOf('x\\y@h')).callId).toBe('x\\y@h');
    expect(identityOf(bytesOf('x\\y@h')).stats.identityEscaped).toBe(0);
  });

  test('in the escaped form a backslash is doubled, so escaped forms never collide with each other', () => {
    // "\xff" written as text then a raw 0xfe, against raw 0xff then raw 0xfe.
    const literal = identityOf([...bytesOf('\\xff'), 0xfe]).callId;
    const raw = identityOf([0xff, 0xfe]).callId;
    expect(literal).toBe('\\\\xff\\xfe');
    expect(raw).toBe('\\xff\\xfe');
  });

  test('only the bytes outside valid sequences are escaped: truncated, overlong, surrogate, > U+10FFFF', () => {
    // é (C3 A9) kept; C3 alone, overlong C0 80, CESU surrogate ED A0 80, F5 .. escaped byte by byte.
    expect(identityOf([0xc3, 0xa9, 0xc3, 0x41]).callId).toBe('\u00e9\\xc3A');
    expect(identityOf([0xc0, 0x80]).callId).toBe('\\xc0\\x80');
    expect(identityOf([0xed, 0xa0, 0x80, 0x41]).callId).toBe('\\xed\\xa0\\x80A');
    expect(identityOf([0xf5, 0x80, 0x80, 0x80]).callId).toBe('\\xf5\\x80\\x80\\x80');
    expect(identityOf([0xf0, 0x9f, 0x98, 0x80, 0xff]).callId).toBe('\u{1f600}\\xff');
  });

  test('tags follow the same rule', () => {
    const a = identityOf(bytesOf('c@h'), [0x74, 0xff], [0x74, 0xfe]);
    expect([a.fromTag, a.toTag]).toEqual(['t\\xff', 't\\xfe']);
  });
});

describe('toSipEvent: SipAdapterStats sums what was met', () => {
  const run = (text: string, stats: SipAdapterStats) => {
    const buf = new TextEncoder().encode(text);
    const msg = new SipMessage();
    expect(parseSipMessage(buf, 0, buf.length, msg)).toBe(SipStatus.Ok);
    return toSipEvent(msg, ENV, new SessionDescription(), stats);
  };
  const head = 'INVITE sip:b@h SIP/2.0\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n';

  test('headers past the cap, a non-SDP application/sdp body, rejected SDP sections and lines', () => {
    const stats = new SipAdapterStats();
    run(`${head}${'X-P: 1\r\n'.repeat(300)}\r\n`, stats);
    expect(stats.headersOverCap).toBe(302 - 256);
    run(`${head}Content-Type: application/sdp\r\n\r\nhello`, stats);
    expect(stats.sdpRejected).toBe(1);
    run(`${head}\r\nhello`, stats); // no Content-Type: the body need not be SDP, nothing counted
    expect(stats.sdpRejected).toBe(1);
    const ev = run(`${head}Content-Type: application/sdp\r\n\r\nv=0\r\no=short\r\nc=IN IP4 192.0.2.1\r\nm=audio 99999 RTP/AVP 0\r\nm=audio 4000 RTP/AVP 0\r\n`, stats);
    expect(ev?.sdp?.media.map((m) => m.port)).toEqual([4000]);
    expect(stats.sdpMediaRejected).toBe(1);
    expect(stats.sdpLinesRejected[SdpStatus.BadMedia]).toBe(1);
    expect(stats.sdpLinesRejected[SdpStatus.BadOrigin]).toBe(1);
    expect(stats.identityEscaped).toBe(0);
  });
});
