import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import {
  SDP_MAX_MEDIA, SDP_STATUS_NAMES, SdpDirection, SdpStatus, SessionDescription, SipMessage, SipStatus, parseSdp, parseSipMessage,
} from '../src/index.js';
import { hexToBytes, loadCaptureFixtures } from './corpus-fixtures.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const parse = (s: string, out = new SessionDescription()): [SdpStatus, SessionDescription] => {
  const b = enc(s);
  return [parseSdp(b, 0, b.length, out), out];
};

describe('parseSdp', () => {
  it('parses IPv6 connections, per-media override, directions, rtcp, rtcp-mux, telephone-event, port 0', () => {
    const [status, d] = parse([
      'v=0', 'o=- 1 2 IN IP6 2001:db8:a::10', 's=-', 'c=IN IP6 2001:db8:a::10', 't=0 0', 'a=sendonly',
      'm=audio 20000 RTP/AVP 8 0 101', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16', 'a=fmtp:0 annexb=no', 'a=ptime:20', 'a=rtcp:20011 IN IP4 192.0.2.99', 'a=rtcp-mux',
      'm=video 0 RTP/AVP 96', 'c=IN IP4 198.51.100.7/127/2', 'a=rtpmap:96 H264/90000', 'a=inactive',
      'm=audio 30000/2 RTP/SAVP 9', 'a=rtpmap:9 G722/8000/2', '',
    ].join('\n'));
    expect(status).toBe(SdpStatus.Ok);
    expect(d.mediaCount).toBe(3);
    expect(d.connection.family).toBe(6);
    expect(Array.from(d.connection.ipv6)).toEqual([0x2001, 0xdb8, 0xa, 0, 0, 0, 0, 0x10]);
    const [a, v, a2] = d.media;
    expect(a!.direction).toBe(SdpDirection.SendOnly);
    expect(a!.directionExplicit).toBe(false);
    expect(a!.connection.family).toBe(6);
    expect(Array.from(a!.payloadTypes.subarray(0, a!.payloadTypeCount))).toEqual([8, 0, 101]);
    expect(a!.telephoneEventPayloadType).toBe(101);
    expect(d.text(a!.rtpmap(101)!.fmtp)).toBe('0-16');
    expect(a!.rtpmap(0)!.encoding.present).toBe(false);
    expect(d.text(a!.rtpmap(0)!.fmtp)).toBe('annexb=no');
    expect(a!.ptime).toBe(20);
    expect(a!.rtcpPort).toBe(20011);
    expect(a!.rtcpAddress.ipv4).toBe(0xc0000263);
    expect(a!.rtcpMux).toBe(true);
    expect(v!.disabled).toBe(true);
    expect(v!.direction).toBe(SdpDirection.Inactive);
    expect(d.text(v!.connection.address)).toBe('198.51.100.7');
    expect(v!.connection.ipv4).toBe(0xc6336407);
    expect(a2!.portCount).toBe(2);
    expect(a2!.rtpmap(9)!.channels).toBe(2);
    expect(a2!.rtcpPort).toBe(-1);
  });

  it('counts media and rtpmaps beyond the caps instead of storing them', () => {
    const lines = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 'c=IN IP4 192.0.2.1'];
    for (let i = 0; i < SDP_MAX_MEDIA + 3; i++) lines.push(`m=audio ${1000 + i * 2} RTP/AVP 0`);
    lines.push('m=audio 5000 RTP/AVP 0');
    const [status, d] = parse(lines.join('\r\n') + '\r\n');
    expect(status).toBe(SdpStatus.Ok);
    expect(d.mediaCount).toBe(SDP_MAX_MEDIA);
    expect(d.mediaDropped).toBe(4);
    const many = ['v=0', 'm=audio 1 RTP/AVP 96'];
    for (let pt = 96; pt < 96 + 20; pt++) many.push(`a=rtpmap:${pt} X${pt}/8000`);
    const [, d2] = parse(many.join('\n'));
    expect(d2.media[0]!.rtpmapCount).toBe(16);
    expect(d2.rtpmapDropped).toBe(4);
  });

  const cases: [string, string, SdpStatus][] = [
    ['empty', '', SdpStatus.Empty],
    ['not v=0 first', 'o=- 1 1 IN IP4 1.2.3.4\r\n', SdpStatus.NotSdp],
    ['v=1', 'v=1\r\n', SdpStatus.NotSdp],
    ['NUL in v= line', 'v=0\0\r\n', SdpStatus.NotSdp],
    ['a SIP message, not SDP', 'INVITE sip:a@b SIP/2.0\r\n\r\n', SdpStatus.NotSdp],
  ];
  it.each(cases)('not SDP at all: %s', (_n, text, expected) => {
    expect(parse(text)[0]).toBe(expected);
  });

  // A bad line costs that line, or (m=, media-level c=) that media section: never the whole body.
  // [name, body after v=0, rejected line reason, media sections kept, media sections rejected]
  const local: [string, string, SdpStatus, number, number][] = [
    ['line without =', 'hello\r\nm=audio 4000 RTP/AVP 0\r\n', SdpStatus.BadLine, 1, 0],
    ['upper-case type', 'X=1\r\nm=audio 4000 RTP/AVP 0\r\n', SdpStatus.BadLine, 1, 0],
    ['bad line inside a media section', 'm=audio 4000 RTP/AVP 0\r\n???\r\n', SdpStatus.BadLine, 1, 0],
    ['short origin', 'o=- 1 1 IN IP4\r\nm=audio 4000 RTP/AVP 0\r\n', SdpStatus.BadOrigin, 1, 0],
    ['short session connection', 'c=IN IP4\r\nm=audio 4000 RTP/AVP 0\r\n', SdpStatus.BadConnection, 1, 0],
    ['short media connection', 'm=audio 4000 RTP/AVP 0\r\nc=IN IP4\r\nm=audio 4002 RTP/AVP 0\r\n', SdpStatus.BadConnection, 1, 1],
    ['media port not a number', 'm=audio x RTP/AVP 0\r\nm=audio 4000 RTP/AVP 0\r\n', SdpStatus.BadMedia, 1, 1],
    ['media port > 65535', 'm=audio 70000 RTP/AVP 0\r\nm=audio 4000 RTP/AVP 0\r\n', SdpStatus.BadMedia, 1, 1],
    ['media without format', 'm=audio 4000 RTP/AVP\r\nm=audio 4002 RTP/AVP 0\r\n', SdpStatus.BadMedia, 1, 1],
    ['media port count 0', 'm=audio 4000/0 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\n', SdpStatus.BadMedia, 1, 1],
    ['NUL in a session line', 's=\0\r\nm=audio 4000 RTP/AVP 0\r\n', SdpStatus.NulByte, 1, 0],
    ['NUL in an m= line', 'm=audio 4000 RTP/AVP 0\0\r\nm=audio 4002 RTP/AVP 0\r\n', SdpStatus.NulByte, 1, 1],
    ['NUL in a media c= line', 'm=audio 4000 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\0\r\nm=audio 4002 RTP/AVP 0\r\n', SdpStatus.NulByte, 1, 1],
  ];
  it.each(local)('malformed line stays local: %s', (_n, text, reason, kept, rejected) => {
    const [status, d] = parse(`v=0\r\n${text}`);
    expect(SDP_STATUS_NAMES[status]).toBe('Ok');
    expect(d.rejectedLines[reason]).toBe(1);
    expect(d.rejectedLines.reduce((a, b) => a + b, 0)).toBe(1);
    expect(d.mediaCount).toBe(kept);
    expect(d.mediaRejected).toBe(rejected);
  });

  // Regression (callscope issue 12, finding 6): one m= line with port 99999 made parseSdp fail
  // and the call got no stream at all.
  it('a real INVITE with an extra m=audio 99999 section first keeps its own audio section', () => {
    const fx = loadCaptureFixtures().find((f) => f.capture === 'basic-caller-bye-pcma.pcap')!;
    const orig = new TextDecoder().decode(hexToBytes(fx.messages[0]!.payload));
    const at = orig.indexOf('m=audio');
    const extra = 'm=audio 99999 RTP/AVP 0\r\na=sendonly\r\nc=IN IP4 203.0.113.9\r\n';
    const body = orig.slice(orig.indexOf('\r\n\r\n') + 4);
    const text = orig.slice(0, at).replace(`Content-Length:   ${body.length}`, `Content-Length: ${body.length + extra.length}`) + extra + orig.slice(at);
    const b = new TextEncoder().encode(text);
    const m = new SipMessage();
    expect(parseSipMessage(b, 0, b.length, m)).toBe(SipStatus.Ok);
    expect(m.trailingBytes).toBe(0);
    const d = new SessionDescription();
    expect(parseSdp(b, m.body.offset, m.body.length, d)).toBe(SdpStatus.Ok);
    expect(d.mediaCount).toBe(1);
    expect(d.mediaRejected).toBe(1);
    expect(d.rejectedLines[SdpStatus.BadMedia]).toBe(1);
    const a = d.media[0]!;
    expect(a.port).toBe(20000);
    expect(d.text(a.connection.address)).toBe('192.0.2.10');
    // The rejected section's a=sendonly and c= went with it.
    expect(a.direction).toBe(SdpDirection.SendRecv);
    expect(d.direction).toBe(SdpDirection.SendRecv);
    expect(d.text(d.connection.address)).toBe('192.0.2.10');
    expect(a.rtpmap(8)?.clockRate).toBe(8000);
  });

  it('a media section whose c= is invalid is lost alone; its attributes do not leak into the next', () => {
    const [status, d] = parse([
      'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 'c=IN IP4 192.0.2.1', 't=0 0',
      'm=audio 4000 RTP/AVP 0', 'c=IN', 'a=rtpmap:0 PCMU/8000', 'a=inactive',
      'm=video 4002 RTP/AVP 96', 'a=rtpmap:96 H264/90000', '',
    ].join('\r\n'));
    expect(status).toBe(SdpStatus.Ok);
    expect(d.mediaCount).toBe(1);
    expect(d.mediaRejected).toBe(1);
    const v = d.media[0]!;
    expect(d.text(v.media)).toBe('video');
    expect(v.direction).toBe(SdpDirection.SendRecv);
    expect(v.rtpmapCount).toBe(1);
    expect(d.text(v.connection.address)).toBe('192.0.2.1');
  });

  it('clears the rejection counters between bodies (reused out object)', () => {
    const d = new SessionDescription();
    parse('v=0\r\nm=audio 99999 RTP/AVP 0\r\nhello\r\n', d);
    expect(d.mediaRejected).toBe(1);
    parse('v=0\r\nm=audio 4000 RTP/AVP 0\r\n', d);
    expect(d.mediaRejected).toBe(0);
    expect(d.rejectedLines.every((n) => n === 0)).toBe(true);
    expect(d.rejectedLines.length).toBe(SDP_STATUS_NAMES.length);
  });

  it('counts malformed attributes without failing', () => {
    const [status, d] = parse('v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:x PCMU\r\na=ptime:abc\r\na=rtcp:99999\r\n');
    expect(status).toBe(SdpStatus.Ok);
    expect(d.malformedAttributes).toBe(3);
  });

  const d = new SessionDescription();
  test.prop([fc.uint8Array({ maxLength: 400 })], { numRuns: 300 })('never throws on random bytes', (b) => {
    expect(parseSdp(b, 0, b.length, d)).toBeLessThan(SDP_STATUS_NAMES.length);
  });
  const goodMedia = fc.record({ port: fc.integer({ min: 0, max: 65535 }), pt: fc.integer({ min: 0, max: 127 }) }).map(({ port, pt }) => ({ ok: true, line: `m=audio ${port} RTP/AVP ${pt}`, port }));
  const badMedia = fc.oneof(
    fc.integer({ min: 65536, max: 9_999_999 }).map((p) => `m=audio ${p} RTP/AVP 0`),
    fc.constantFrom('m=audio', 'm=audio 4000', 'm=audio 4000 RTP/AVP', 'm=audio x RTP/AVP 0', 'm=audio 4000/0 RTP/AVP 0', 'm=audio -1 RTP/AVP 0', 'm=', 'm=audio 4000 RTP/AVP 0\0'),
    // No digit: the port token is never a number.
    fc.string({ maxLength: 30 }).map((t) => `m=audio ${t.replace(/[\r\n0-9]/g, '')} RTP/AVP 0`),
  ).map((line) => ({ ok: false, line, port: -1 }));
  test.prop([fc.array(fc.tuple(fc.oneof(goodMedia, badMedia), fc.constantFrom('', 'c=IN IP4 192.0.2.7', 'c=IN', 'a=sendonly', 'x', 'a=rtpmap:0 PCMU/8000')), { maxLength: 12 })], { numRuns: 300 })(
    'random m= lines: every valid section is kept (up to the cap), in order, whatever the others',
    (sections) => {
      const lines = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 'c=IN IP4 192.0.2.1'];
      for (const [m, extra] of sections) lines.push(m.line, extra);
      const b = enc(lines.join('\r\n'));
      expect(parseSdp(b, 0, b.length, d)).toBe(SdpStatus.Ok);
      // A valid section is lost only with its own bad c=, or past the cap (then its lines are not read).
      const kept: number[] = [];
      let rejected = 0;
      let dropped = 0;
      for (const [m, extra] of sections) {
        if (!m.ok) rejected++;
        else if (kept.length >= SDP_MAX_MEDIA) dropped++;
        else if (extra === 'c=IN') rejected++;
        else kept.push(m.port);
      }
      expect(Array.from({ length: d.mediaCount }, (_, k) => d.media[k]!.port)).toEqual(kept);
      expect(d.mediaDropped).toBe(dropped);
      expect(d.mediaRejected).toBe(rejected);
    },
  );
  test.prop([fc.array(fc.constantFrom('v=0', 'm=audio 1 RTP/AVP 0 8', 'a=rtpmap:0 PCMU/8000', 'c=IN IP6 ::1', 'a=rtcp:9 IN IP6 ::2', 'a=fmtp:8 x', 'a=sendonly', 'b=AS:64', '', 'x'), { maxLength: 40 })], { numRuns: 300 })(
    'never throws and respects caps on random line soups',
    (lines) => {
      const b = enc(lines.join('\r\n'));
      parseSdp(b, 0, b.length, d);
      expect(d.mediaCount).toBeLessThanOrEqual(SDP_MAX_MEDIA);
    },
  );
});
