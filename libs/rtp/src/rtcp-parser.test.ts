import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { RtcpCompound } from './rtcp-compound.js';
import { parseRtcpCompound } from './rtcp-parser.js';
import { RtcpSessionStats } from './rtcp-session-stats.js';
import { RtcpStatus } from './rtcp-status.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// SR (1 report block) + SDES CNAME "alice@a" + BYE with reason "bye" + APP "TEST" + XR VoIP metrics.
// Checked against tshark 4.0 (`-d udp.port==5005,rtcp -V` on these bytes in a pcap): fraction lost
// 10/256, cumulative -256, highest 65546, jitter 80, CNAME alice@a, XR loss 25/256, discard 2/256,
// RTD 50, signal -96, noise -79, R 93, ext R 94, MOS-LQ 4.2, MOS-CQ 3.8, JB 40/60/120, "length check: OK".
const SR = '81c8000c 11111111 e6a1b2c3 80000000 00012345 00000064 00003e80' +
  ' 22222222 0affff00 0001000a 00000050 b2c38000 00010000';
const SDES = '81ca0004 11111111 0107616c 69636540 61000000';
const BYE = '81cb0002 11111111 03627965';
const APP = '82cc0003 11111111 54455354 01020304';
const XR = '80cf000a 11111111 07000008 22222222 19020304 00140028 00320064 a0b17f05 5d5e2a26 02000028 003c0078';

describe('parseRtcpCompound', () => {
  it('decodes SR, report block, SDES CNAME, BYE, APP and the XR VoIP metrics block', () => {
    const buf = hex(SR + SDES + BYE + APP + XR);
    const c = new RtcpCompound();
    expect(parseRtcpCompound(buf, 0, buf.length, c)).toBe(RtcpStatus.Ok);
    expect(c.packetCount).toBe(5);
    expect(c.hasSenderReport).toBe(true);
    expect([c.srSsrc, c.srNtpSec, c.srNtpFrac, c.srRtpTimestamp, c.srPacketCount, c.srOctetCount]).toEqual([0x11111111, 0xe6a1b2c3, 0x80000000, 0x12345, 100, 16000]);
    expect(c.reportCount).toBe(1);
    expect(c.reportReporter[0]).toBe(0x11111111);
    expect(c.reportSource[0]).toBe(0x22222222);
    expect(c.reportFractionLost[0]).toBe(10);
    expect(c.reportCumulativeLost[0]).toBe(-256); // 0xffff00 is -256 in 24-bit two's complement
    expect(c.reportHighestSeq[0]).toBe(0x1000a);
    expect(c.reportJitter[0]).toBe(80);
    expect(c.reportLsr[0]).toBe(0xb2c38000);
    expect(c.reportDlsr[0]).toBe(0x10000);
    expect(c.cnameCount).toBe(1);
    expect(Buffer.from(buf.subarray(c.cnameOffset[0], c.cnameOffset[0]! + c.cnameLength[0]!)).toString()).toBe('alice@a');
    expect(c.byeCount).toBe(1);
    expect(Buffer.from(buf.subarray(c.byeReasonOffset, c.byeReasonOffset + c.byeReasonLength)).toString()).toBe('bye');
    expect(c.hasApp).toBe(true);
    expect(c.appSubtype).toBe(2);
    expect(c.appName).toBe(0x54455354); // "TEST"
    expect(c.appDataLength).toBe(4);
    expect(c.xrCount).toBe(1);
    expect(c.voipMetricsCount).toBe(1);
    expect(c.voipMetrics[0]).toMatchObject({
      reporterSsrc: 0x11111111, sourceSsrc: 0x22222222, lossRate: 0x19, discardRate: 2, burstDensity: 3, gapDensity: 4,
      burstDuration: 20, gapDuration: 40, roundTripDelay: 50, endSystemDelay: 100, signalLevel: -96, noiseLevel: -79,
      rerl: 127, gmin: 5, rFactor: 93, extRFactor: 94, mosLq: 42, mosCq: 38, rxConfig: 2, jbNominal: 40, jbMaximum: 60, jbAbsMax: 120,
    });
  });

  it('reuses the out object: a second parse forgets the first', () => {
    const c = new RtcpCompound();
    const a = hex(SR + SDES);
    parseRtcpCompound(a, 0, a.length, c);
    const rr = hex('80c90001 33333333');
    expect(parseRtcpCompound(rr, 0, rr.length, c)).toBe(RtcpStatus.Ok);
    expect([c.hasSenderReport, c.reportCount, c.cnameCount, c.rrSsrc]).toEqual([false, 0, 0, 0x33333333]);
  });

  const malformed: [string, string, RtcpStatus][] = [
    ['4 bytes', '80c90001', RtcpStatus.TooShort],
    ['version 1', '40c90001 33333333', RtcpStatus.BadVersion],
    ['length past datagram', '80c90002 33333333', RtcpStatus.BadLength],
    ['SDES first', '81ca0002 11111111 00000000', RtcpStatus.FirstNotReport],
    ['RC=1 without block', '81c90001 33333333', RtcpStatus.BadReportCount],
    ['SR too short for sender info', '80c80002 11111111 00000000', RtcpStatus.TooShort],
    ['padding on first of two', 'a0c90001 33333300' + '80c90001 33333333', RtcpStatus.BadPadding],
    ['padding count 0', 'a0c90001 33333300', RtcpStatus.BadPadding],
    ['SDES item past packet', '80c90001 33333333 81ca0002 11111111 01090000', RtcpStatus.BadSdes],
    ['BYE SSRCs past packet', '80c90001 33333333 82cb0001 11111111', RtcpStatus.BadBye],
    ['BYE reason past packet', '80c90001 33333333 81cb0002 11111111 09616263', RtcpStatus.BadBye],
    ['APP without name', '80c90001 33333333 80cc0001 11111111', RtcpStatus.BadApp],
    ['XR block past packet', '80c90001 33333333 80cf0002 11111111 07000008', RtcpStatus.BadXrBlock],
    ['XR VoIP metrics wrong length', '80c90001 33333333 80cf0003 11111111 07000001 22222222', RtcpStatus.BadXrBlock],
  ];
  it.each(malformed)('%s -> status %i', (_name, bytes, status) => {
    const buf = hex(bytes);
    expect(parseRtcpCompound(buf, 0, buf.length, new RtcpCompound())).toBe(status);
  });

  // A range outside the buffer is the caller's bug, not wire input (STYLE.md): it throws.
  it('throws RangeError for a range outside the buffer', () => {
    const buf = hex('80c90001 33333333');
    expect(() => parseRtcpCompound(buf, 4, 8, new RtcpCompound())).toThrow(
      new RangeError('parseRtcpCompound: range 4+8 outside a buffer of length 8'),
    );
    expect(() => parseRtcpCompound(buf, -4, 8, new RtcpCompound())).toThrow(
      new RangeError('parseRtcpCompound: range -4+8 outside a buffer of length 8'),
    );
    expect(parseRtcpCompound(buf, 4, 4, new RtcpCompound())).toBe(RtcpStatus.TooShort);
  });

  it('accepts padding on the last packet and other packet types as generic', () => {
    const buf = hex('80c90001 33333333' + '81cd0002 11111111 22222222' + 'a1cb0002 11111111 00000004');
    const c = new RtcpCompound();
    expect(parseRtcpCompound(buf, 0, buf.length, c)).toBe(RtcpStatus.Ok);
    expect(c.otherPackets).toBe(1); // RTPFB (205)
    expect([c.byeCount, c.byeReasonLength]).toEqual([1, 0]); // the last 4 octets are padding, not a reason
  });

  test.prop([fc.uint8Array({ maxLength: 300 })])('never throws on random bytes', (b) => {
    const c = new RtcpCompound();
    const st = parseRtcpCompound(b, 0, b.length, c);
    expect(st).toBeGreaterThanOrEqual(0);
    expect(c.reportCount).toBeLessThanOrEqual(62);
  });
  test.prop([fc.uint8Array({ minLength: 8, maxLength: 120 })])('never throws on random bytes behind a valid RR header', (tail) => {
    const b = new Uint8Array(8 + tail.length);
    b.set(hex('80c90001 33333333'));
    b.set(tail, 8);
    expect(() => parseRtcpCompound(b, 0, b.length, new RtcpCompound())).not.toThrow();
  });
});

describe('RtcpSessionStats', () => {
  it('derives the probe-side RTT from LSR/DLSR and keeps RR and XR figures per source', () => {
    const s = new RtcpSessionStats();
    const c = new RtcpCompound();
    // SR from 0x22222222 with NTP e6a1b2c3.80000000: middle 32 bits = b2c38000.
    const sr = hex('80c80006 22222222 e6a1b2c3 80000000 00012345 00000064 00003e80');
    parseRtcpCompound(sr, 0, sr.length, c);
    s.update(c, 1000, 0);
    // 1.3 s later the SR from 0x11111111 reports on 0x22222222 with LSR b2c38000 and DLSR 1 s.
    const buf = hex(SR + XR);
    parseRtcpCompound(buf, 0, buf.length, c);
    s.update(c, 1001, 300_000_000);
    const i = s.indexOf(0x22222222);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(s.rttMs[i]).toBeCloseTo(300, 6);
    expect(s.rttSamples).toBe(1);
    expect(s.cumulativeLost[i]).toBe(-256);
    expect(s.fractionLostPercent(i)).toBeCloseTo(3.90625, 6);
    expect(s.jitterMs(i, 8000)).toBe(10);
    expect(s.xrMosLq[i]).toBe(42);
    expect(s.xrRFactor[i]).toBe(93);
    expect(s.indexOf(0x99999999)).toBe(-1);
  });

  it('evicts the least recently used source when full, and counts it', () => {
    const s = new RtcpSessionStats(2);
    const c = new RtcpCompound();
    for (let k = 0; k < 3; k++) {
      const rr = hex(`81c90007 33333333 0000000${k + 1} 00000000 00000000 00000000 00000000 00000000`);
      expect(parseRtcpCompound(rr, 0, rr.length, c)).toBe(RtcpStatus.Ok);
      s.update(c, 10 + k, 0);
    }
    expect(s.sources).toBe(2);
    expect(s.evicted).toBe(1);
    expect(s.indexOf(1)).toBe(-1);
    expect(s.indexOf(3)).toBeGreaterThanOrEqual(0);
  });
});
