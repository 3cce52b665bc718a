import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { SDP_MAX_MEDIA, SdpDirection, SdpStatus, SessionDescription, parseSdp } from '../src/index.js';

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
    ['line without =', 'v=0\r\nhello\r\n', SdpStatus.BadLine],
    ['upper-case type', 'v=0\r\nX=1\r\n', SdpStatus.BadLine],
    ['short origin', 'v=0\r\no=- 1 1 IN IP4\r\n', SdpStatus.BadOrigin],
    ['short connection', 'v=0\r\nc=IN IP4\r\n', SdpStatus.BadConnection],
    ['media port not a number', 'v=0\r\nm=audio x RTP/AVP 0\r\n', SdpStatus.BadMedia],
    ['media port > 65535', 'v=0\r\nm=audio 70000 RTP/AVP 0\r\n', SdpStatus.BadMedia],
    ['media without format', 'v=0\r\nm=audio 4000 RTP/AVP\r\n', SdpStatus.BadMedia],
    ['NUL byte', 'v=0\r\ns=\0\r\n', SdpStatus.NulByte],
  ];
  it.each(cases)('malformed: %s', (_n, text, expected) => {
    expect(parse(text)[0]).toBe(expected);
  });

  it('counts malformed attributes without failing', () => {
    const [status, d] = parse('v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:x PCMU\r\na=ptime:abc\r\na=rtcp:99999\r\n');
    expect(status).toBe(SdpStatus.Ok);
    expect(d.malformedAttributes).toBe(3);
  });

  const d = new SessionDescription();
  test.prop([fc.uint8Array({ maxLength: 400 })], { numRuns: 300 })('never throws on random bytes', (b) => {
    expect(parseSdp(b, 0, b.length, d)).toBeLessThanOrEqual(7);
  });
  test.prop([fc.array(fc.constantFrom('v=0', 'm=audio 1 RTP/AVP 0 8', 'a=rtpmap:0 PCMU/8000', 'c=IN IP6 ::1', 'a=rtcp:9 IN IP6 ::2', 'a=fmtp:8 x', 'a=sendonly', 'b=AS:64', '', 'x'), { maxLength: 40 })], { numRuns: 300 })(
    'never throws and respects caps on random line soups',
    (lines) => {
      const b = enc(lines.join('\r\n'));
      parseSdp(b, 0, b.length, d);
      expect(d.mediaCount).toBeLessThanOrEqual(SDP_MAX_MEDIA);
    },
  );
});
