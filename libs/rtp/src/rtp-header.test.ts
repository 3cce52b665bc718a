import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { HeaderExtensionElement, HeaderExtensionStatus, nextHeaderExtensionElement } from './rtp-header-extension.js';
import { RtpHeader, parseRtpHeader } from './rtp-header.js';
import { isLikelyRtp, isRtcp } from './rtp-demux.js';
import { RtpStatus } from './rtp-status.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('parseRtpHeader', () => {
  it('decodes a real telephone-event packet from dtmf-rfc2833.pcap as tshark does', () => {
    // tshark: rtp.seq 48276, rtp.timestamp 473851884, rtp.p_type 101, rtp.marker 1, ssrc 0x7cbcafc4.
    const buf = hex('80e5bc941c3e67ec7cbcafc4 010a00a0');
    const h = new RtpHeader();
    expect(parseRtpHeader(buf, 0, buf.length, h)).toBe(RtpStatus.Ok);
    expect(h).toMatchObject({ version: 2, padding: false, extension: false, csrcCount: 0, marker: true, payloadType: 101 });
    expect(h.sequenceNumber).toBe(48276);
    expect(h.timestamp).toBe(473851884);
    expect(h.ssrc).toBe(0x7cbcafc4);
    expect(h.payloadOffset).toBe(12);
    expect(h.payloadLength).toBe(4);
  });

  it('honours the offset and decodes CSRCs, a one-byte extension and padding', () => {
    const buf = hex(
      'ffff' + // two bytes before the packet
        'b2 08 0001 00000002 00000003' + // V2 P X CC=2, PT 8
        '11111111 22222222' + // CSRCs
        'bede 0002 10 aa 21 bbcc 00 00 00' + // one-byte ext: id1 len1, id2 len2, padding
        'dead' + // payload
        '00 00 03', // padding: 3 octets
    );
    const h = new RtpHeader();
    expect(parseRtpHeader(buf, 2, buf.length - 2, h)).toBe(RtpStatus.Ok);
    expect(h.padding && h.extension).toBe(true);
    expect(h.csrcCount).toBe(2);
    expect(Array.from(h.csrc.subarray(0, 2))).toEqual([0x11111111, 0x22222222]);
    expect(h.extensionProfile).toBe(0xbede);
    expect(h.extensionLength).toBe(8);
    expect(h.paddingLength).toBe(3);
    expect(h.payloadLength).toBe(2);
    expect(buf[h.payloadOffset]).toBe(0xde);
    const el = new HeaderExtensionElement();
    const end = h.extensionOffset + h.extensionLength;
    expect(nextHeaderExtensionElement(buf, h.extensionProfile, h.extensionOffset, end, el)).toBe(HeaderExtensionStatus.Ok);
    expect([el.id, el.dataLength, buf[el.dataOffset]]).toEqual([1, 1, 0xaa]);
    expect(nextHeaderExtensionElement(buf, h.extensionProfile, el.nextOffset, end, el)).toBe(HeaderExtensionStatus.Ok);
    expect([el.id, el.dataLength, buf[el.dataOffset], buf[el.dataOffset + 1]]).toEqual([2, 2, 0xbb, 0xcc]);
    expect(nextHeaderExtensionElement(buf, h.extensionProfile, el.nextOffset, end, el)).toBe(HeaderExtensionStatus.End);
  });

  it('iterates two-byte extension elements (RFC 8285 §4.3) and refuses other profiles', () => {
    const buf = hex('1000 0002 05 02 abcd 07 00 00 00');
    const el = new HeaderExtensionElement();
    expect(nextHeaderExtensionElement(buf, 0x1000, 4, 12, el)).toBe(HeaderExtensionStatus.Ok);
    expect([el.id, el.dataLength]).toEqual([5, 2]);
    expect(nextHeaderExtensionElement(buf, 0x1000, el.nextOffset, 12, el)).toBe(HeaderExtensionStatus.Ok);
    expect([el.id, el.dataLength]).toEqual([7, 0]);
    expect(nextHeaderExtensionElement(buf, 0x1234, 4, 12, el)).toBe(HeaderExtensionStatus.NotRfc8285);
    expect(nextHeaderExtensionElement(hex('bede0001 3f000000'), 0xbede, 4, 8, el)).toBe(HeaderExtensionStatus.Truncated);
  });

  it('throws RangeError when the extension range is not inside the buffer (programmer error)', () => {
    const buf = hex('bede0001 10aa0000');
    const el = new HeaderExtensionElement();
    expect(() => nextHeaderExtensionElement(buf, 0xbede, 4, 12, el)).toThrow(
      new RangeError('nextHeaderExtensionElement: range 4+8 outside a buffer of length 8'),
    );
    expect(() => nextHeaderExtensionElement(buf, 0xbede, 6, 4, el)).toThrow(
      new RangeError('nextHeaderExtensionElement: range 6+-2 outside a buffer of length 8'),
    );
    // The end of the block (offset === end) is a valid, empty range.
    expect(nextHeaderExtensionElement(buf, 0xbede, 8, 8, el)).toBe(HeaderExtensionStatus.End);
  });

  const malformed: [string, string, RtpStatus][] = [
    ['11 bytes', '80000001000000020000000', RtpStatus.TooShort],
    ['version 1', '40000001 00000002 00000003', RtpStatus.BadVersion],
    ['version 0', '00000001 00000002 00000003', RtpStatus.BadVersion],
    ['CC=2 but one CSRC', '82000001 00000002 00000003 11111111', RtpStatus.TruncatedCsrc],
    ['X without extension header', '90000001 00000002 00000003 bede', RtpStatus.TruncatedExtension],
    ['extension length past the end', '90000001 00000002 00000003 bede0002 00000000', RtpStatus.TruncatedExtension],
    ['padding count 0', 'a0000001 00000002 00000003 aabb00', RtpStatus.BadPadding],
    ['padding longer than payload', 'a0000001 00000002 00000003 aa05', RtpStatus.BadPadding],
  ];
  it.each(malformed)('%s -> status %i', (_name, bytes, status) => {
    const buf = hex(bytes.length % 2 === 0 ? bytes : bytes + '0');
    const len = bytes.replace(/\s+/g, '').length >> 1;
    expect(parseRtpHeader(buf, 0, len, new RtpHeader())).toBe(status);
  });

  // A range outside the buffer is the caller's bug, not wire input (STYLE.md): it throws with the
  // numbers instead of hiding behind TooShort, as sip-parser and packet do.
  it.each([
    ['length past the end', 4, 12, 'parseRtpHeader: range 4+12 outside a buffer of length 12'],
    ['offset past the end', 13, 0, 'parseRtpHeader: range 13+0 outside a buffer of length 12'],
    ['negative offset', -1, 12, 'parseRtpHeader: range -1+12 outside a buffer of length 12'],
    ['negative length', 0, -1, 'parseRtpHeader: range 0+-1 outside a buffer of length 12'],
    ['fractional offset', 0.5, 11, 'parseRtpHeader: range 0.5+11 outside a buffer of length 12'],
  ])('throws RangeError for a range outside the buffer: %s', (_name, offset, length, message) => {
    expect(() => parseRtpHeader(new Uint8Array(12), offset, length, new RtpHeader())).toThrow(new RangeError(message));
  });

  it('keeps a short range inside the buffer a status (wire input)', () => {
    expect(parseRtpHeader(new Uint8Array(20), 4, 11, new RtpHeader())).toBe(RtpStatus.TooShort);
    expect(parseRtpHeader(new Uint8Array(12), 12, 0, new RtpHeader())).toBe(RtpStatus.TooShort);
  });

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.nat(8)])('never throws on random bytes, and Ok keeps regions inside', (bytes, off) => {
    const h = new RtpHeader();
    const o = Math.min(off, bytes.length);
    const st = parseRtpHeader(bytes, o, bytes.length - o, h);
    if (st === RtpStatus.Ok) {
      expect(h.payloadOffset + h.payloadLength + h.paddingLength).toBe(bytes.length);
      expect(h.payloadLength).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('isRtcp / isLikelyRtp (RFC 5761 §4)', () => {
  it('tells an RR from RTP on the same port', () => {
    const rr = hex('81c90007 ca110000 1109336b 00000000 00000100 00000010 00000000 00000000');
    const rtp = hex('80080001 00000002 00000003 d5d5');
    expect(isRtcp(rr, 0, rr.length)).toBe(true);
    expect(isLikelyRtp(rr, 0, rr.length)).toBe(false);
    expect(isRtcp(rtp, 0, rtp.length)).toBe(false);
    expect(isLikelyRtp(rtp, 0, rtp.length)).toBe(true);
  });
  it('refuses STUN, short packets, RTP PT 64-95 and RTCP with a length past the datagram', () => {
    const stun = hex('000100002112a442 000000000000000000000000');
    expect(isLikelyRtp(stun, 0, stun.length) || isRtcp(stun, 0, stun.length)).toBe(false);
    expect(isLikelyRtp(hex('80080001'), 0, 4)).toBe(false);
    expect(isLikelyRtp(hex('80480001 00000002 00000003'), 0, 12)).toBe(false); // PT 72
    expect(isRtcp(hex('80c80006 00000001'), 0, 8)).toBe(false);
  });
  it('throws RangeError for a range outside the buffer (programmer error)', () => {
    const b = hex('80080001 00000002 00000003');
    expect(() => isRtcp(b, 4, 12)).toThrow(new RangeError('isRtcp: range 4+12 outside a buffer of length 12'));
    expect(() => isLikelyRtp(b, 4, 12)).toThrow(new RangeError('isLikelyRtp: range 4+12 outside a buffer of length 12'));
  });
  test.prop([fc.uint8Array({ maxLength: 64 })])('never throws', (b) => {
    expect(typeof isRtcp(b, 0, b.length)).toBe('boolean');
    expect(typeof isLikelyRtp(b, 0, b.length)).toBe('boolean');
  });
});
