import { describe, expect, it } from 'vitest';
import type { LadderMessage, SeriesBody, SeriesBucket, SeriesStream } from '../../../../src/artifact-types.ts';
import { audioOffset, peakColumnsAt, secondsBetween, shapeSeries, tickStep, timeAtX, timelineEvents, xOfTime } from './timeline.ts';

const START = '2026-11-29T17:00:00.250000Z';

function bucket(index: number, start: string, over: Partial<SeriesBucket> = {}): SeriesBucket {
  return { index, start, packets: 50, lost: 0, jitterMaxMs: 1 + index, maxDeltaMs: 20, mos: { f1: 4.4, f2: 4.3, adapt: 4.2 }, ...over };
}

function stream(ssrc: string, side: SeriesStream['side'], buckets: SeriesBucket[]): SeriesStream {
  return { ssrc, src: { ip: '192.0.2.10', port: 20000 }, dst: { ip: '198.51.100.20', port: 40000 }, side, payloadType: 8, codec: 'PCMA', packets: 0, lost: 0, buckets };
}

describe('shapeSeries', () => {
  it('puts streams that started at different fractions of a second on one grid of whole seconds since the call start', () => {
    const series: SeriesBody = {
      callId: 'c',
      bucketMs: 1000,
      rtpMissing: false,
      sipMissing: false,
      streams: [
        // First packet 1.75 s after the start: second 1; a second without packets (index 2) is missing.
        stream('0x1', 'caller', [
          bucket(0, '2026-11-29T17:00:02.000000Z'),
          bucket(1, '2026-11-29T17:00:03.000000Z', { lost: 3, mos: null }),
          bucket(3, '2026-11-29T17:00:05.000000Z', { lost: -1 }),
        ]),
        // First packet 2.1 s after the start: second 2.
        stream('0x2', 'callee', [bucket(0, '2026-11-29T17:00:02.350000Z', { jitterMaxMs: 9 }), bucket(1, '2026-11-29T17:00:03.350000Z')]),
      ],
    };
    const d = shapeSeries(series, START);
    expect(d.x).toEqual([0, 1, 2, 3, 4]);
    expect(d.streams[0]!.jitterMs).toEqual([null, 1, 2, null, 4]);
    expect(d.streams[0]!.lost).toEqual([null, 0, 3, null, -1]);
    expect(d.streams[0]!.mosAdapt).toEqual([null, 4.2, null, null, 4.2]);
    expect(d.streams[0]!.mosF1).toEqual([null, 4.4, null, null, 4.4]);
    expect(d.streams[1]!.jitterMs).toEqual([null, null, 9, 2, null]);
    expect(d.streams[1]!.label).toBe('callee 192.0.2.10:20000 → 198.51.100.20:40000 0x2');
  });

  it('gives nothing to chart for a call without RTP', () => {
    expect(shapeSeries({ callId: 'c', bucketMs: 1000, rtpMissing: true, sipMissing: false, streams: [] }, START)).toEqual({ x: [], streams: [] });
  });
});

function req(time: string, method: string, extra: Partial<LadderMessage> = {}): LadderMessage {
  return {
    time,
    src: { ip: '192.0.2.10', port: 5060 },
    dst: { ip: '198.51.100.20', port: 5060 },
    transport: 'udp',
    firstLine: `${method} sip:x SIP/2.0`,
    method,
    statusCode: null,
    cseq: 1,
    headers: [],
    body: '',
    retransmission: false,
    raw: '',
    ...extra,
  };
}

describe('timelineEvents', () => {
  it('marks INVITE, answer, hold and re-INVITE, BYE and DTMF in time order, without retransmissions or responses', () => {
    const messages = [
      req('2026-11-29T17:00:00.250000Z', 'INVITE'),
      req('2026-11-29T17:00:00.750000Z', 'INVITE', { retransmission: true }),
      { ...req('2026-11-29T17:00:01.250000Z', 'INVITE'), statusCode: 200, firstLine: 'SIP/2.0 200 OK' },
      req('2026-11-29T17:00:01.260000Z', 'ACK'),
      req('2026-11-29T17:00:05.250000Z', 'INVITE', { body: 'v=0\r\nm=audio 4000 RTP/AVP 8\r\na=sendonly\r\n' }),
      req('2026-11-29T17:00:09.250000Z', 'INVITE', { body: 'v=0\r\nm=audio 4000 RTP/AVP 8\r\na=sendrecv\r\n' }),
      req('2026-11-29T17:00:12.250000Z', 'BYE'),
    ];
    const events = timelineEvents(START, '2026-11-29T17:00:01.250000Z', messages, [{ digit: '5', ts: '2026-11-29T17:00:03.000000Z', method: 'rfc2833', duration_ms: 100 }]);
    expect(events).toEqual([
      { t: 0, label: 'INVITE', kind: 'sip' },
      { t: 1, label: 'answer', kind: 'sip' },
      { t: 2.75, label: 'DTMF 5', kind: 'dtmf' },
      { t: 5, label: 'hold', kind: 'sip' },
      { t: 9, label: 're-INVITE', kind: 'sip' },
      { t: 12, label: 'BYE', kind: 'sip' },
    ]);
  });
});

describe('times', () => {
  it('counts seconds with µs exactness', () => {
    expect(secondsBetween('2026-11-29T17:00:00.000001Z', '2026-11-29T17:00:01.000002Z')).toBe(1.000001);
  });
  it('starts the audio at the earliest stream', () => {
    expect(audioOffset(START, [{ first: '2026-11-29T17:00:03.000000Z' }, { first: '2026-11-29T17:00:02.500000Z' }])).toBe(2.25);
    expect(audioOffset(START, [])).toBe(0);
  });
});

describe('pixel axis', () => {
  const axis = { lo: -1, hi: 19, width: 1000 };
  it('maps call time and pixels both ways', () => {
    expect(xOfTime(-1, axis)).toBe(0);
    expect(xOfTime(9, axis)).toBe(500);
    expect(timeAtX(500, axis)).toBe(9);
    expect(timeAtX(xOfTime(3.7, axis), axis)).toBeCloseTo(3.7, 9);
  });
  it('picks a tick step that leaves room for a label', () => {
    expect(tickStep(axis)).toBe(2); // 50 px per second
    expect(tickStep({ lo: 0, hi: 3600, width: 1200 })).toBe(300);
  });
  it('finds the peak columns under a pixel, none outside the audio', () => {
    // Audio of 10 s starting 2 s into the call, 1000 columns: 100 per second; a pixel is 0.02 s.
    expect(peakColumnsAt(xOfTime(2, axis), axis, 2, 10, 1000)).toEqual([0, 2]);
    expect(peakColumnsAt(xOfTime(7, axis), axis, 2, 10, 1000)).toEqual([500, 502]);
    expect(peakColumnsAt(xOfTime(1, axis), axis, 2, 10, 1000)).toEqual([0, 0]);
    expect(peakColumnsAt(xOfTime(12.5, axis), axis, 2, 10, 1000)).toEqual([0, 0]);
    // Zoomed out (1 h on 1000 px): a pixel covers many columns.
    const wide = { lo: 0, hi: 3600, width: 1000 };
    expect(peakColumnsAt(0, wide, 0, 3600, 1600)).toEqual([0, 1]);
    expect(peakColumnsAt(500, wide, 0, 3600, 1600)).toEqual([800, 801]);
  });
});
