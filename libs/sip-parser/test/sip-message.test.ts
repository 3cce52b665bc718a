import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import {
  ByteRange, SIP_MAX_HEADERS, SIP_STATUS_NAMES, SdpStatus, SessionDescription, SipHeader, SipMessage, SipMethod, SipStatus,
  isSipMessageUsable, parseSdp, parseSipMessage,
} from '../src/index.js';
import { hexToBytes, loadCaptureFixtures } from './corpus-fixtures.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const parse = (s: string, msg = new SipMessage()): [SipStatus, SipMessage] => {
  const b = enc(s);
  return [parseSipMessage(b, 0, b.length, msg), msg];
};

const INVITE = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9',
  'Max-Forwards: 70',
  'From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
  'To: Bob <sip:bob@biloxi.example.com>',
  'Call-ID: 3848276298220188511@atlanta.example.com',
  'CSeq: 2 INVITE',
  'Contact: <sip:alice@client.atlanta.example.com;transport=tcp>',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('hand-built messages', () => {
  it('parses compact forms, multiple Via (comma and repeated), folding and odd spacing/case', () => {
    const text = [
      'BYE sip:bob@[2001:db8::2]:5070;transport=udp SIP/2.0',
      'v: SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bKabc;rport;received=2001:db8::9, SIP/2.0/TCP proxy.example:5060;branch=z9hG4bK2',
      'VIA  :   SIP / 2.0 / TLS   relay.example;branch=z9hG4bK3',
      'f: "A \\"quoted\\" name" <sip:+4930123;npdi@example.com;user=phone>;tag=aa',
      't: sip:bob@example.com;tag=bb',
      'i: abc@host',
      'cseq:   7    BYE',
      'm: <sip:a@1.2.3.4>;expires=60, <sip:b@1.2.3.4>',
      'X-Custom: one,',
      '  two',
      '\tthree',
      'Reason: Q.850;cause=16;text="Normal call clearing"',
      'P-Asserted-Identity: "Pai" <sip:pai@example.com>, <tel:+4930555>',
      'Remote-Party-ID: "R" <sip:rpid@example.com>;party=calling',
      'X-CID: corr-1',
      'Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000',
      'p-charging-VECTOR: icid-value="AyretyU0dm+6O2IrT5tAFrbHLso=023551024";orig-ioi=home1.net',
      'Proxy-Authorization: Digest realm="r", username="bob", response="x"',
      'l: 0',
      '',
      '',
    ].join('\r\n');
    const [status, m] = parse(text);
    expect(status).toBe(SipStatus.Ok);
    expect(m.method).toBe(SipMethod.Bye);
    expect(m.text(m.requestUri.host)).toBe('[2001:db8::2]');
    expect(m.requestUri.port).toBe(5070);
    expect(m.via.count).toBe(3);
    expect(m.text(m.via.host)).toBe('[2001:db8::1]');
    expect(m.via.port).toBe(5062);
    expect(m.via.rport.present).toBe(true);
    expect(m.via.rport.length).toBe(0);
    expect(m.text(m.via.received)).toBe('2001:db8::9');
    expect(m.text(m.from.displayName)).toBe('A \\"quoted\\" name');
    expect(m.text(m.from.uri.user)).toBe('+4930123;npdi');
    expect(m.text(m.from.tag)).toBe('aa');
    expect(m.text(m.to.uri.uri)).toBe('sip:bob@example.com');
    expect(m.text(m.to.tag)).toBe('bb');
    expect(m.text(m.callId)).toBe('abc@host');
    expect(m.cseq).toBe(7);
    expect(m.cseqMethod).toBe(SipMethod.Bye);
    expect(m.contactCount).toBe(2);
    expect(m.contact.expires).toBe(60);
    expect(m.text(m.reason.protocol)).toBe('Q.850');
    expect(m.reason.cause).toBe(16);
    expect(m.text(m.reason.text)).toBe('Normal call clearing');
    expect(m.text(m.pAssertedIdentity.uri.user)).toBe('pai');
    expect(m.text(m.remotePartyId.uri.user)).toBe('rpid');
    expect(m.text(m.xCid)).toBe('corr-1');
    expect(m.text(m.sessionId)).toMatch(/^ab30317f/);
    expect(m.text(m.pChargingVector)).toBe('icid-value="AyretyU0dm+6O2IrT5tAFrbHLso=023551024";orig-ioi=home1.net');
    expect(m.proxyAuthorization.present).toBe(true);
    expect(m.text(m.proxyAuthorization.username)).toBe('bob');
    expect(m.contentLength).toBe(0);
    const custom = m.findHeader(SipHeader.Other, 0);
    const r = new ByteRange();
    expect(m.text(m.headerName(custom, r))).toBe('X-Custom');
    expect(m.text(m.headerValue(custom, r))).toBe('one,\r\n  two\r\n\tthree');
    expect(m.headerId(m.findHeader(SipHeader.Via, 1))).toBe(SipHeader.Via);
  });

  it('accepts bare LF line ends, leading keepalive CRLFs and a Contact star', () => {
    const [status, m] = parse('\r\n\r\nREGISTER sip:r.example SIP/2.0\nCall-ID: x\nCSeq: 1 REGISTER\nContact: *\nExpires: 0\n\nbody');
    expect(status).toBe(SipStatus.Ok);
    expect(m.offset).toBe(4);
    expect(m.contact.star).toBe(true);
    expect(m.expires).toBe(0);
    expect(m.text(m.body)).toBe('body'); // no Content-Length: rest of the datagram (RFC 3261 §18.3)
  });

  it('leaves unparsable optional headers absent and counts them, without failing the message', () => {
    const [status, m] = parse('SIP/2.0 486 Busy Here\r\nVia: SIP/2.0 host\r\nFrom: "x" <sip:a@b\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nExpires: soon\r\nMax-Forwards: -\r\n\r\n');
    expect(status).toBe(SipStatus.Ok);
    expect(m.statusCode).toBe(486);
    expect(m.text(m.reasonPhrase)).toBe('Busy Here');
    expect(m.malformedHeaders).toBe(4);
    expect(m.via.count).toBe(1);
    expect(m.via.branch.present).toBe(false);
    expect(m.from.uri.uri.present).toBe(false);
    expect(m.expires).toBe(-1);
  });

  it('keeps unknown methods and lower-case methods as Other with their text', () => {
    const [status, m] = parse('FOO sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 FOO\r\n\r\n');
    expect(status).toBe(SipStatus.Ok);
    expect(m.method).toBe(SipMethod.Other);
    expect(m.text(m.methodText)).toBe('FOO');
    const [, m2] = parse('invite sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 invite\r\n\r\n');
    expect(m2.method).toBe(SipMethod.Other);
  });

  it('reports a body shorter than Content-Length as BodyTruncated with the bytes present', () => {
    const [status, m] = parse('SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 100\r\n\r\nv=0\r\n');
    expect(status).toBe(SipStatus.BodyTruncated);
    expect(isSipMessageUsable(status)).toBe(true);
    expect(m.body.length).toBe(5);
    const [s2, m2] = parse('SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 2\r\n\r\nabcd');
    expect(s2).toBe(SipStatus.Ok);
    expect(m2.trailingBytes).toBe(2);
    expect(m2.text(m2.body)).toBe('ab');
  });

  it('clears every field between messages (reused out object)', () => {
    const m = new SipMessage();
    parse(INVITE.replace('Content-Length: 0', 'Expires: 30\r\nContent-Length: 0'), m);
    expect(m.expires).toBe(30);
    parse('SIP/2.0 180 Ringing\r\nCall-ID: y\r\nCSeq: 1 INVITE\r\n\r\n', m);
    expect(m.expires).toBe(-1);
    expect(m.from.present).toBe(false);
    expect(m.method).toBe(SipMethod.None);
    expect(m.statusCode).toBe(180);
  });

  it('throws RangeError for ranges outside the buffer (programmer error)', () => {
    expect(() => parseSipMessage(new Uint8Array(4), 2, 3, new SipMessage())).toThrow(RangeError);
  });
});

describe('malformed input gets its exact status', () => {
  const headers = 'Call-ID: x\r\nCSeq: 1 INVITE\r\n';
  const cases: [string, string, SipStatus][] = [
    ['empty', '', SipStatus.Empty],
    ['keepalive only', '\r\n\r\n', SipStatus.Empty],
    ['no start line', 'hello world\r\n\r\n', SipStatus.NoStartLine],
    ['start line without line end', 'INVITE sip:a@b SIP/2.0', SipStatus.NoStartLine],
    ['request without URI', 'INVITE  SIP/2.0\r\n\r\n', SipStatus.NoStartLine],
    ['HTTP request', 'GET / HTTP/1.1\r\n\r\n', SipStatus.NoStartLine],
    ['bad status code letters', 'SIP/2.0 2x0 OK\r\n\r\n', SipStatus.BadStatusCode],
    ['status code 700', 'SIP/2.0 700 Huh\r\n\r\n', SipStatus.BadStatusCode],
    ['status code 4 digits', 'SIP/2.0 2000 OK\r\n\r\n', SipStatus.BadStatusCode],
    ['response version', 'SIP/3.0 200 OK\r\n\r\n', SipStatus.BadVersion],
    ['request version', 'INVITE sip:a@b SIP/1.0\r\n\r\n', SipStatus.BadVersion],
    ['header without colon', `INVITE sip:a@b SIP/2.0\r\n${headers}NoColonHere\r\n\r\n`, SipStatus.HeaderWithoutColon],
    ['empty header name', `INVITE sip:a@b SIP/2.0\r\n: value\r\n${headers}\r\n`, SipStatus.BadHeaderName],
    ['header name with space', `INVITE sip:a@b SIP/2.0\r\nBad Name: v\r\n${headers}\r\n`, SipStatus.BadHeaderName],
    ['no empty line', `INVITE sip:a@b SIP/2.0\r\n${headers}`, SipStatus.HeadersTruncated],
    ['NUL in header', `INVITE sip:a@b SIP/2.0\r\nCall-ID: x\0y\r\nCSeq: 1 INVITE\r\n\r\n`, SipStatus.NulByte],
    ['NUL in start line', 'INVITE sip:a\0@b SIP/2.0\r\n\r\n', SipStatus.NulByte],
    ['Content-Length not a number', `SIP/2.0 200 OK\r\n${headers}Content-Length: ten\r\n\r\n`, SipStatus.BadContentLength],
    ['Content-Length negative', `SIP/2.0 200 OK\r\n${headers}Content-Length: -1\r\n\r\n`, SipStatus.BadContentLength],
    ['Content-Length lies (longer)', `SIP/2.0 200 OK\r\n${headers}Content-Length: 10\r\n\r\nabc`, SipStatus.BodyTruncated],
    ['CSeq without method', 'SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 1\r\n\r\n', SipStatus.BadCSeq],
    ['CSeq above 2^32-1', 'SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 4294967296 INVITE\r\n\r\n', SipStatus.BadCSeq],
    ['CSeq missing', 'SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n', SipStatus.BadCSeq],
    ['Call-ID missing', 'SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n', SipStatus.MissingCallId],
    ['enormous header count (skipped past the cap, not fatal)', `SIP/2.0 200 OK\r\n${headers}${'X-A: 1\r\n'.repeat(300)}\r\n`, SipStatus.Ok],
    // RFC 3261 §25.1: callid = word ["@" word]; an empty or blank value names no dialog, and two such
    // messages must never be taken for one call.
    ['Call-ID empty', 'SIP/2.0 200 OK\r\nCall-ID:\r\nCSeq: 1 INVITE\r\n\r\n', SipStatus.BadCallId],
    ['Call-ID whitespace only', 'SIP/2.0 200 OK\r\nCall-ID:  \t \r\nCSeq: 1 INVITE\r\n\r\n', SipStatus.BadCallId],
    ['Call-ID folded blank', 'SIP/2.0 200 OK\r\ni: \r\n \r\nCSeq: 1 INVITE\r\n\r\n', SipStatus.BadCallId],
    ['first Call-ID blank, second set', 'SIP/2.0 200 OK\r\nCall-ID: \r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n', SipStatus.BadCallId],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(parse(text)[0]).toBe(expected);
  });

  it('truncated at every boundary of a real INVITE: only Ok/BodyTruncated once headers are complete', () => {
    const b = enc(INVITE.replace('Content-Length: 0', 'Content-Length: 4') + 'v=0\n');
    const m = new SipMessage();
    const headerEnd = b.length - 4;
    for (let n = 0; n <= b.length; n++) {
      const s = parseSipMessage(b, 0, n, m);
      if (n === 0) expect(s).toBe(SipStatus.Empty);
      else if (n < headerEnd) expect([SipStatus.NoStartLine, SipStatus.HeadersTruncated, SipStatus.MissingCallId, SipStatus.BadCSeq]).toContain(s);
      else if (n < b.length) expect(s).toBe(SipStatus.BodyTruncated);
      else expect(s).toBe(SipStatus.Ok);
    }
  });
});

/** The first INVITE of a real capture (basic-caller-bye-pcma.pcap), as text. */
function realInvite(): string {
  const fx = loadCaptureFixtures().find((f) => f.capture === 'basic-caller-bye-pcma.pcap')!;
  return new TextDecoder().decode(hexToBytes(fx.messages[0]!.payload));
}

// Regression (callscope issue 12, finding 4): a message with more than SIP_MAX_HEADERS header
// fields used to be rejected as a whole (TooManyHeaders), losing the call. Headers past the cap
// are now left out of the header table only; the fields a dialog needs are still read.
describe('headers past SIP_MAX_HEADERS', () => {
  it('a real INVITE with 300 X-Pad headers before Call-ID/CSeq still parses, with its SDP', () => {
    const orig = realInvite();
    const firstLineEnd = orig.indexOf('\r\n') + 2;
    let pad = '';
    for (let n = 0; n < 300; n++) pad += `X-Pad-${n}: v\r\n`;
    const b = enc(orig.slice(0, firstLineEnd) + pad + orig.slice(firstLineEnd));
    const m = new SipMessage();
    expect(SIP_STATUS_NAMES[parseSipMessage(b, 0, b.length, m)]).toBe('Ok');
    expect(m.text(m.callId)).toBe('1-2798@192.0.2.10');
    expect(m.cseq).toBe(1);
    expect(m.cseqMethod).toBe(SipMethod.Invite);
    expect(m.text(m.from.tag)).toBe('2798SIPpTag001');
    expect(m.text(m.from.uri.user)).toBe('walter');
    expect(m.text(m.to.uri.user)).toBe('ivan');
    expect(m.text(m.via.branch)).toBe('z9hG4bK-2798-1-1');
    expect(m.text(m.contact.uri.user)).toBe('walter');
    expect(m.text(m.userAgent)).toBe('SIPp/3.6.1 caller');
    expect(m.text(m.contentType)).toBe('application/sdp');
    expect(m.contentLength).toBe(198);
    expect(m.headerCount).toBe(SIP_MAX_HEADERS);
    expect(m.headersOverCap).toBe(300 + 11 - SIP_MAX_HEADERS);
    const sdp = new SessionDescription();
    expect(parseSdp(b, m.body.offset, m.body.length, sdp)).toBe(SdpStatus.Ok);
    expect(sdp.mediaCount).toBe(1);
    expect(sdp.media[0]!.port).toBe(20000);
  });

  it('counts nothing over the cap for a normal message, and resets the count between messages', () => {
    const m = new SipMessage();
    parse(`SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n${'X-A: 1\r\n'.repeat(400)}\r\n`, m);
    expect(m.headersOverCap).toBe(402 - SIP_MAX_HEADERS);
    parse(INVITE, m);
    expect(m.headersOverCap).toBe(0);
    expect(m.headerCount).toBe(8);
  });

  const KNOWN: [string, string][] = [
    ['Call-ID', 'cid-1@h'], ['CSeq', '7 INVITE'], ['From', '<sip:a@x>;tag=ft'], ['To', '<sip:b@y>;tag=tt'],
    ['Via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKq'], ['Contact', '<sip:c@z>'], ['User-Agent', 'ua/1'],
    ['X-CID', 'corr'], ['Content-Type', 'application/sdp'], ['Content-Length', '0'],
  ];
  test.prop([fc.integer({ min: 0, max: 600 }), fc.array(fc.nat(), { minLength: KNOWN.length, maxLength: KNOWN.length })], { numRuns: 150 })(
    'any number of other headers (0..600) around the known ones: every known header is found',
    (others, positions) => {
      const lines: string[] = [];
      for (let n = 0; n < others; n++) lines.push(`X-Other-${n}: ${n}`);
      KNOWN.forEach(([name, value], k) => lines.splice(positions[k]! % (lines.length + 1), 0, `${name}: ${value}`));
      const m = new SipMessage();
      const [status] = parse(`INVITE sip:b@y SIP/2.0\r\n${lines.join('\r\n')}\r\n\r\n`, m);
      expect(status).toBe(SipStatus.Ok);
      expect(m.text(m.callId)).toBe('cid-1@h');
      expect(m.cseq).toBe(7);
      expect(m.text(m.from.tag)).toBe('ft');
      expect(m.text(m.to.tag)).toBe('tt');
      expect(m.text(m.via.branch)).toBe('z9hG4bKq');
      expect(m.text(m.contact.uri.user)).toBe('c');
      expect(m.text(m.userAgent)).toBe('ua/1');
      expect(m.text(m.xCid)).toBe('corr');
      expect(m.contentLength).toBe(0);
      expect(m.text(m.contentType)).toBe('application/sdp');
      expect(m.headerCount).toBe(Math.min(others + KNOWN.length, SIP_MAX_HEADERS));
      expect(m.headerCount + m.headersOverCap).toBe(others + KNOWN.length);
    },
  );
});

describe('round trip: ranges reproduce the original header values byte for byte', () => {
  it('for every corpus message, start line + header table + body rebuild the message', () => {
    const m = new SipMessage();
    const name = new ByteRange();
    const value = new ByteRange();
    const dec = new TextDecoder();
    for (const fx of loadCaptureFixtures().slice(0, 8)) {
      for (const msg of fx.messages) {
        const b = hexToBytes(msg.payload);
        expect(parseSipMessage(b, 0, b.length, m)).toBe(SipStatus.Ok);
        const original = dec.decode(b);
        const firstLine = original.slice(0, original.indexOf('\r\n'));
        let rebuilt = firstLine + '\r\n';
        for (let i = 0; i < m.headerCount; i++) {
          // Rebuild from the original separator bytes between name and value.
          m.headerName(i, name);
          m.headerValue(i, value);
          rebuilt += m.text(name) + dec.decode(b.subarray(name.offset + name.length, value.offset)) + m.text(value) + '\r\n';
        }
        rebuilt += '\r\n' + m.text(m.body);
        expect(rebuilt).toBe(original);
      }
    }
  });
});

describe('never throws', () => {
  const m = new SipMessage();
  test.prop([fc.uint8Array({ maxLength: 600 })], { numRuns: 400 })('on random bytes', (bytes) => {
    const s = parseSipMessage(bytes, 0, bytes.length, m);
    expect(s).toBeGreaterThanOrEqual(0);
    expect(s).toBeLessThan(SIP_STATUS_NAMES.length);
  });

  const real = loadCaptureFixtures().flatMap((f) => f.messages.slice(0, 3)).map((x) => hexToBytes(x.payload));
  test.prop([
    fc.constantFrom(...real),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
    fc.nat(),
  ], { numRuns: 400 })('on mutated and truncated real messages', (orig, edits, cut) => {
    const b = orig.slice(0, Math.max(1, cut % (orig.length + 1)));
    for (const [pos, val] of edits) b[pos % b.length] = val;
    const s = parseSipMessage(b, 0, b.length, m);
    if (isSipMessageUsable(s)) {
      expect(m.offset + m.length).toBeLessThanOrEqual(b.length);
      expect(m.callId.offset + m.callId.length).toBeLessThanOrEqual(b.length);
    }
  });
});
