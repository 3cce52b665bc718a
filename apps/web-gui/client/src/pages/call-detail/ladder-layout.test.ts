import { describe, expect, it } from 'vitest';
import type { LadderMessage } from '../../../../src/artifact-types.ts';
import { LADDER_GEOMETRY, sortByTime, arrowLabel, carriesSdp, endpointKey, layoutLadder, rowY, timeToY, visibleRows, type LadderStream } from './ladder-layout.ts';

const A = { ip: '192.0.2.10', port: 5060 };
const P = { ip: '203.0.113.5', port: 5060 };
const B = { ip: '198.51.100.20', port: 5070 };

function msg(time: string, src: typeof A, dst: typeof A, firstLine: string, extra: Partial<LadderMessage> = {}): LadderMessage {
  const status = /^SIP\/2\.0 (\d{3})/.exec(firstLine);
  return {
    time: `2026-11-29T17:00:${time}Z`,
    src,
    dst,
    transport: 'udp',
    firstLine,
    method: status ? 'INVITE' : firstLine.split(' ')[0]!,
    statusCode: status ? Number(status[1]) : null,
    cseq: 1,
    headers: [],
    body: '',
    retransmission: false,
    raw: firstLine,
    ...extra,
  };
}

const sdpHeaders = [{ name: 'Content-Type', value: 'application/sdp' }];
// A call through a proxy: caller A -> proxy P -> callee B, the proxy's 100 Trying first.
const ladder: LadderMessage[] = [
  msg('00.000000', A, P, 'INVITE sip:bob@example.com SIP/2.0', { headers: sdpHeaders, body: 'v=0\r\n' }),
  msg('00.001000', P, A, 'SIP/2.0 100 Trying'),
  msg('00.002000', P, B, 'INVITE sip:bob@198.51.100.20 SIP/2.0', { headers: sdpHeaders, body: 'v=0\r\n' }),
  msg('00.502000', P, B, 'INVITE sip:bob@198.51.100.20 SIP/2.0', { headers: sdpHeaders, body: 'v=0\r\n', retransmission: true }),
  msg('01.000000', B, P, 'SIP/2.0 180 Ringing'),
  msg('03.000000', B, P, 'SIP/2.0 200 OK', { headers: [{ name: 'c', value: 'Application/SDP;charset=utf-8' }], body: 'v=0\r\n' }),
  msg('03.001000', A, P, 'ACK sip:bob@example.com SIP/2.0'),
  msg('13.000000', B, P, 'BYE sip:alice@192.0.2.10 SIP/2.0'),
  msg('13.001000', P, B, 'SIP/2.0 486 Busy Here'),
];

describe('layoutLadder', () => {
  it('orders lanes by first appearance (source before destination) and names the caller and callee lanes', () => {
    const l = layoutLadder(ladder, [], { width: 800, caller: A, callee: B });
    expect(l.lanes.map((x) => x.key)).toEqual(['192.0.2.10:5060', '203.0.113.5:5060', '198.51.100.20:5070']);
    expect(l.lanes.map((x) => x.role)).toEqual(['caller', null, 'callee']);
    expect(l.arrows.map((a) => [a.fromLane, a.toLane])).toEqual([
      [0, 1], [1, 0], [1, 2], [1, 2], [2, 1], [2, 1], [0, 1], [2, 1], [1, 2],
    ]);
  });

  it('spreads lanes over the width but never closer than the minimum gap', () => {
    const wide = layoutLadder(ladder, [], { width: 1274 });
    expect(wide.lanes.map((x) => x.x)).toEqual([74 + 200, 74 + 600, 74 + 1000]);
    expect(wide.width).toBe(1274);
    const narrow = layoutLadder(ladder, [], { width: 300 });
    const gap = LADDER_GEOMETRY.minLaneGap;
    expect(narrow.lanes.map((x) => x.x)).toEqual([74 + gap / 2, 74 + gap * 1.5, 74 + gap * 2.5]);
    expect(narrow.width).toBe(74 + 3 * gap);
  });

  it('labels arrows with method or code and reason, the time since the first message, SDP and retransmission marks', () => {
    const l = layoutLadder(ladder, [], { width: 800 });
    expect(l.arrows.map((a) => a.label)).toEqual(['INVITE', '100 Trying', 'INVITE', 'INVITE', '180 Ringing', '200 OK', 'ACK', 'BYE', '486 Busy Here']);
    expect(l.arrows.map((a) => a.offset)).toEqual(['+0.000 s', '+0.001 s', '+0.002 s', '+0.502 s', '+1.000 s', '+3.000 s', '+3.001 s', '+13.000 s', '+13.001 s']);
    expect(l.arrows.map((a) => a.sdp)).toEqual([true, false, true, true, false, true, false, false, false]);
    expect(l.arrows.map((a) => a.retransmission)).toEqual([false, false, false, true, false, false, false, false, false]);
    expect(l.arrows.map((a) => a.kind)).toEqual(['request', '1xx', 'request', 'request', '1xx', '2xx', 'request', 'request', '4xx']);
  });

  it('puts rows at even steps whatever the time between messages', () => {
    const l = layoutLadder(ladder, [], { width: 800 });
    const ys = l.arrows.map((a) => a.y);
    for (let i = 1; i < ys.length; i++) expect(ys[i]! - ys[i - 1]!).toBe(LADDER_GEOMETRY.rowHeight);
    expect(l.height).toBe(rowY(8) + LADDER_GEOMETRY.rowHeight);
  });

  it('draws RTP between the lanes of its IPs, from its first to its last packet, and adds a lane for an address without SIP', () => {
    const streams: LadderStream[] = [
      { ssrc: '0x00000001', src_ip: '192.0.2.10', src_port: 20000, dst_ip: '198.51.100.20', dst_port: 40000, codec: 'PCMA', codecs: [], packets: 500, first: '2026-11-29T17:00:03.001000Z', last: '2026-11-29T17:00:13.000000Z' },
      { ssrc: '0x00000002', src_ip: '198.51.100.20', src_port: 40000, dst_ip: '192.0.2.10', dst_port: 20000, codec: 'PCMA', codecs: [], packets: 499, first: '2026-11-29T17:00:03.000500Z', last: '2026-11-29T17:00:12.999000Z' },
      { ssrc: '0x00000003', src_ip: '10.9.9.9', src_port: 30000, dst_ip: '192.0.2.10', dst_port: 20002, codec: null, codecs: [], packets: 3, first: '2026-11-29T17:00:14.000000Z', last: '2026-11-29T17:00:15.000000Z' },
    ];
    const l = layoutLadder(ladder, streams, { width: 800 });
    expect(l.lanes.map((x) => [x.key, x.port])).toEqual([
      ['192.0.2.10:5060', 5060], ['203.0.113.5:5060', 5060], ['198.51.100.20:5070', 5070], ['10.9.9.9', null],
    ]);
    expect(l.bands.map((b) => [b.fromLane, b.toLane, b.slot, b.slots])).toEqual([[0, 2, 0, 2], [2, 0, 1, 2], [3, 0, 0, 1]]);
    // Starts at the ACK's row (message 6 at 03.001), ends at the BYE's row (message 7 at 13.000).
    expect(l.bands[0]!.y0).toBe(rowY(6));
    expect(l.bands[0]!.y1).toBe(rowY(7));
    // Between the 200 OK (03.000) and the ACK (03.001): half way.
    expect(l.bands[1]!.y0).toBeCloseTo((rowY(5) + rowY(6)) / 2, 6);
    expect(l.bands[0]!.label).toBe('RTP PCMA 0x00000001 500 pkts');
    expect(l.bands[2]!.label).toBe('RTP ? 0x00000003 3 pkts');
    // After the last message: just below the last row, and the drawing grows to hold it.
    expect(l.bands[2]!.y0).toBe(rowY(8) + LADDER_GEOMETRY.rowHeight / 2);
    expect(l.height).toBeGreaterThanOrEqual(l.bands[2]!.y1);
  });

  it('labels a band with its codec change (issue 19) and marks where the new codec starts', () => {
    const at = (s: string): string => `2026-11-29T17:00:${s}Z`;
    const stream: LadderStream = {
      ssrc: '0x0000000a', src_ip: '192.0.2.10', src_port: 20000, dst_ip: '198.51.100.20', dst_port: 40000, codec: 'PCMA', packets: 600,
      codecs: [{ codec: 'PCMA', payload_type: 8, from: at('03.001000') }, { codec: 'PCMU', payload_type: 0, from: at('08.000500') }],
      first: at('03.001000'), last: at('13.000000'),
    };
    const l = layoutLadder(ladder, [stream], { width: 800 });
    const band = l.bands[0]!;
    expect(band.codec).toBe('PCMA→PCMU');
    expect(band.label).toBe('RTP PCMA→PCMU 0x0000000a 600 pkts');
    // Half way between the ACK (03.001, row 6) and the BYE (13.000, row 7), inside the band.
    expect(band.changes).toHaveLength(1);
    expect(band.changes[0]!.codec).toBe('PCMU');
    expect(band.changes[0]!.y).toBeCloseTo(rowY(6) + (rowY(7) - rowY(6)) * (4.9995 / 9.999), 6);
    // One codec: no change mark, the plain name.
    const one = layoutLadder(ladder, [{ ...stream, codecs: stream.codecs.slice(0, 1) }], { width: 800 }).bands[0]!;
    expect([one.codec, one.changes]).toEqual(['PCMA', []]);
  });

  it('lays out an empty ladder without lanes', () => {
    const l = layoutLadder([], [], { width: 500 });
    expect(l.lanes).toEqual([]);
    expect(l.arrows).toEqual([]);
  });
});

describe('timeToY', () => {
  const t = [0, 100, 100, 400];
  it('interpolates between the rows around a time and clamps at the ends', () => {
    expect(timeToY(-5, t)).toBe(rowY(0));
    expect(timeToY(50, t)).toBe((rowY(0) + rowY(1)) / 2);
    // Equal times: the later row of the two.
    expect(timeToY(100, t)).toBe(rowY(2));
    expect(timeToY(250, t)).toBe((rowY(2) + rowY(3)) / 2);
    expect(timeToY(400, t)).toBe(rowY(3));
    expect(timeToY(401, t)).toBe(rowY(3) + LADDER_GEOMETRY.rowHeight / 2);
  });
});

describe('labels and marks', () => {
  it('takes the reason phrase from the status line as written', () => {
    expect(arrowLabel({ firstLine: 'SIP/2.0 183 Session Progress', method: 'INVITE', statusCode: 183 })).toBe('183 Session Progress');
    expect(arrowLabel({ firstLine: 'SIP/2.0 200', method: 'BYE', statusCode: 200 })).toBe('200');
    expect(arrowLabel({ firstLine: 'OPTIONS sip:x SIP/2.0', method: 'OPTIONS', statusCode: null })).toBe('OPTIONS');
  });
  it('needs an SDP content type and a body to mark SDP', () => {
    expect(carriesSdp({ headers: [{ name: 'Content-Type', value: 'application/sdp' }], body: '' })).toBe(false);
    expect(carriesSdp({ headers: [{ name: 'content-type', value: 'application/dtmf-relay' }], body: 'Signal=5' })).toBe(false);
    expect(carriesSdp({ headers: [{ name: 'CONTENT-TYPE', value: 'application/sdp' }], body: 'v=0' })).toBe(true);
  });
  it('writes IPv6 endpoints in brackets', () => {
    expect(endpointKey({ ip: '2001:db8::1', port: 5060 })).toBe('[2001:db8::1]:5060');
  });
});

describe('visibleRows', () => {
  it('keeps a screenful plus overscan in the DOM, whatever the ladder length', () => {
    const h = LADDER_GEOMETRY.rowHeight;
    expect(visibleRows(0, 10 * h, 5000, 0)).toEqual({ first: 0, last: 10 });
    const mid = visibleRows(LADDER_GEOMETRY.top + 1000 * h, 10 * h, 5000, 5);
    expect(mid).toEqual({ first: 995, last: 1015 });
    expect(visibleRows(LADDER_GEOMETRY.top + 4995 * h, 40 * h, 5000, 5).last).toBe(4999);
    expect(visibleRows(0, 500, 0, 5).last).toBe(-1);
  });
});

describe('sortByTime', () => {
  it('orders messages spooled file after file by time, keeping ties in their order', () => {
    // The same call in two captures: the second file's copies come after the first file's messages.
    const first = [ladder[0]!, ladder[1]!, ladder[4]!];
    const copies = first.map((m) => ({ ...m, retransmission: true }));
    const sorted = sortByTime([...first, ...copies]);
    expect(sorted.map((m) => [m.firstLine, m.retransmission])).toEqual([
      ['INVITE sip:bob@example.com SIP/2.0', false],
      ['INVITE sip:bob@example.com SIP/2.0', true],
      ['SIP/2.0 100 Trying', false],
      ['SIP/2.0 100 Trying', true],
      ['SIP/2.0 180 Ringing', false],
      ['SIP/2.0 180 Ringing', true],
    ]);
  });
  it('returns an ordered ladder itself, not a copy', () => {
    expect(sortByTime(ladder)).toBe(ladder);
  });
});
