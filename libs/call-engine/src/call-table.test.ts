import { createDecodedPacket, parseIpv4Text, type DecodedPacket } from '@callscope/packet';
import { describe, expect, test } from 'vitest';
import { CallTable, DEFAULT_CALL_TABLE_OPTIONS, type CallTableOptions } from './call-table.js';
import { endpointKeyFromText } from './endpoint-key.js';
import { DEFAULT_REGISTER_TABLE_OPTIONS, RegisterTable } from './register-table.js';
import type { SdpInfo, SipEvent } from './sip-event.js';
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';

const T0 = 1_795_975_892_000_000; // µs
const A = { ip: '192.0.2.10', port: 5060, tag: 'caller-tag' };
const B = { ip: '198.51.100.20', port: 5060, tag: 'callee-tag' };

/** A SIP message of one dialog between A (caller) and B, `ms` after T0. */
function sip(ms: number, from: typeof A, to: typeof A, msg: Partial<SipEvent> & { method: string }): SipEvent {
  const isRequest = msg.isRequest ?? (msg.statusCode === undefined || msg.statusCode === 0);
  // From/To headers name the dialog's caller and callee whatever the direction of a response.
  const requester = isRequest ? from : to;
  const responder = isRequest ? to : from;
  return {
    tsUs: T0 + Math.round(ms * 1000),
    srcIp: from.ip, srcPort: from.port, dstIp: to.ip, dstPort: to.port,
    transport: 'udp', vlan: null, isRequest, statusCode: 0, reason: '', callId: 'call-1', cseq: 1,
    fromUser: requester === A ? 'alice' : 'bob', fromDomain: 'example.com', fromName: null, fromTag: requester.tag,
    toUser: responder === A ? 'alice' : 'bob', toDomain: 'example.com', toTag: null,
    ruriUser: isRequest ? 'bob' : null, userAgent: null, contact: null, expires: null, hasAuthorization: false,
    sdp: null, contentType: '', bodyText: null, xCid: null, sessionId: null, icid: null, correlation: null,
    ...msg,
  };
}

function run(events: SipEvent[], opts: Partial<CallTableOptions> = {}, flush = true): { calls: CallRecord[]; table: CallTable } {
  const calls: CallRecord[] = [];
  const table = new CallTable({ ...DEFAULT_CALL_TABLE_OPTIONS, ...opts }, (c) => calls.push(c));
  for (const ev of events) table.onSip(ev);
  if (flush) table.flush();
  return { calls, table };
}

const answered = (toTag = B.tag): SipEvent[] => [
  sip(0, A, B, { method: 'INVITE' }),
  sip(2, B, A, { method: 'INVITE', statusCode: 100, reason: 'Trying' }),
  sip(40, B, A, { method: 'INVITE', statusCode: 180, reason: 'Ringing', toTag }),
  sip(1000, B, A, { method: 'INVITE', statusCode: 200, reason: 'OK', toTag }),
  sip(1001, A, B, { method: 'ACK', toTag }),
];

describe('call outcomes', () => {
  test('caller hangs up: bye_confirmed, end at the 200 to BYE, caller side', () => {
    const { calls } = run([
      ...answered(),
      sip(8000, A, B, { method: 'BYE', cseq: 2, toTag: B.tag }),
      sip(8001.5, B, A, { method: 'BYE', cseq: 2, statusCode: 200, reason: 'OK', toTag: B.tag }),
    ]);
    expect(calls).toHaveLength(1);
    const c = calls[0]!;
    expect(c).toMatchObject({
      call_id: 'call-1', caller: 'alice', called: 'bob', caller_ip: A.ip, callee_ip: B.ip,
      start: '2026-11-29T18:11:32.000000Z', answer: '2026-11-29T18:11:33.000000Z', end: '2026-11-29T18:11:40.001500Z',
      duration: 8.0015, connect_duration: 7.0015, pdd_ms: 40, last_sip_code: 200, bye_by: 'caller',
      end_reason: 'bye_confirmed', sip_packets: 7,
    });
    expect(c.sip_responses.map((r) => [r.code, r.cseq_method, r.from_side])).toEqual([[200, 'INVITE', 'callee'], [200, 'BYE', 'callee']]);
  });

  test('callee hangs up: bye_by callee (From-tag of the BYE is the callee tag)', () => {
    const bye = sip(5000, B, A, { method: 'BYE', cseq: 1 });
    // In the callee's BYE, From is the callee (tag B) and To is the caller.
    bye.fromTag = B.tag;
    bye.toTag = A.tag;
    const ok = sip(5001, A, B, { method: 'BYE', cseq: 1, statusCode: 200, reason: 'OK' });
    ok.fromTag = B.tag;
    ok.toTag = A.tag;
    const { calls } = run([...answered(), bye, ok]);
    expect(calls[0]).toMatchObject({ bye_by: 'callee', end_reason: 'bye_confirmed', end: '2026-11-29T18:11:37.001000Z' });
  });

  test('BYE without response: bye_unconfirmed, end at the BYE', () => {
    const { calls } = run([...answered(), sip(3000, A, B, { method: 'BYE', cseq: 2, toTag: B.tag })]);
    expect(calls[0]).toMatchObject({ end_reason: 'bye_unconfirmed', end: '2026-11-29T18:11:35.000000Z', bye_by: 'caller' });
  });

  test('issue 19 finding 2: an unanswered BYE retransmitted until Timer F (32 s) keeps every retransmission in its call', () => {
    // RFC 3261 §17.1.2.2 over UDP: Timer E from T1 = 500 ms doubling to T2 = 4 s; Timer F at 64 x T1.
    const sends = [0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500];
    const byes = sends.map((t) => sip(3000 + t, A, B, { method: 'BYE', cseq: 2, toTag: B.tag }));
    // Later traffic moves the packet clock past Timer F (an unrelated OPTIONS).
    const { calls, table } = run([...answered(), ...byes, { ...sip(3000 + 40_000, A, B, { method: 'OPTIONS' }), callId: 'other@x' }]);
    expect(calls[0]).toMatchObject({ end_reason: 'bye_unconfirmed', end: '2026-11-29T18:11:35.000000Z', sip_packets: answered().length + sends.length });
    expect(table.counters.sipOutOfDialog).toBe(1); // the OPTIONS only
  });

  test('issue 19 finding 3: a BYE answered with 481 or 408 ends as bye_failed at that response, the code in sip_responses', () => {
    for (const [code, reason] of [
      [481, 'Call/Transaction Does Not Exist'],
      [408, 'Request Timeout'],
    ] as const) {
      const { calls } = run([...answered(), sip(3000, A, B, { method: 'BYE', cseq: 2, toTag: B.tag }), sip(3004, B, A, { method: 'BYE', cseq: 2, statusCode: code, reason, toTag: B.tag })]);
      expect(calls[0]).toMatchObject({ end_reason: 'bye_failed', end: '2026-11-29T18:11:35.004000Z', bye_by: 'caller' });
      expect(calls[0]!.sip_responses.at(-1)).toMatchObject({ code, cseq_method: 'BYE', from_side: 'callee' });
    }
  });

  test('a BYE challenged with 407, then sent again with credentials and answered 200: bye_confirmed at that 200', () => {
    const { calls } = run([
      ...answered(),
      sip(3000, A, B, { method: 'BYE', cseq: 2, toTag: B.tag }),
      sip(3002, B, A, { method: 'BYE', cseq: 2, statusCode: 407, reason: 'Proxy Authentication Required', toTag: B.tag }),
      sip(3010, A, B, { method: 'BYE', cseq: 3, toTag: B.tag, hasAuthorization: true }),
      sip(3012, B, A, { method: 'BYE', cseq: 3, statusCode: 200, reason: 'OK', toTag: B.tag }),
    ]);
    expect(calls[0]).toMatchObject({ end_reason: 'bye_confirmed', end: '2026-11-29T18:11:35.012000Z' });
  });

  test('486 rejects; ACK after it still counts as a SIP packet of the call', () => {
    const { calls } = run([
      sip(0, A, B, { method: 'INVITE' }),
      sip(5, B, A, { method: 'INVITE', statusCode: 486, reason: 'Busy Here', toTag: B.tag }),
      sip(6, A, B, { method: 'ACK', toTag: B.tag }),
    ]);
    expect(calls[0]).toMatchObject({ end_reason: 'rejected', last_sip_code: 486, last_sip_reason: 'Busy Here', answer: null, end: '2026-11-29T18:11:32.005000Z', sip_packets: 3, pdd_ms: null });
  });

  test('CANCEL then 487: cancelled, end at the 487', () => {
    const { calls } = run([
      sip(0, A, B, { method: 'INVITE' }),
      sip(30, B, A, { method: 'INVITE', statusCode: 180, reason: 'Ringing', toTag: B.tag }),
      sip(4000, A, B, { method: 'CANCEL' }),
      sip(4001, B, A, { method: 'CANCEL', statusCode: 200, reason: 'OK' }),
      sip(4002, B, A, { method: 'INVITE', statusCode: 487, reason: 'Request Terminated', toTag: B.tag }),
      sip(4003, A, B, { method: 'ACK', toTag: B.tag }),
    ]);
    expect(calls[0]).toMatchObject({ end_reason: 'cancelled', last_sip_code: 487, end: '2026-11-29T18:11:36.002000Z', pdd_ms: 30, sip_packets: 6 });
  });

  test('a 407 challenge then an authenticated INVITE that is answered is one answered call', () => {
    const { calls } = run([
      sip(0, A, B, { method: 'INVITE' }),
      sip(1, B, A, { method: 'INVITE', statusCode: 407, reason: 'Proxy Authentication Required', toTag: 'x' }),
      sip(2, A, B, { method: 'ACK', toTag: 'x' }),
      sip(3, A, B, { method: 'INVITE', cseq: 2, hasAuthorization: true }),
      sip(500, B, A, { method: 'INVITE', cseq: 2, statusCode: 200, reason: 'OK', toTag: B.tag }),
    ]);
    expect(calls[0]).toMatchObject({ last_sip_code: 200, answer: '2026-11-29T18:11:32.500000Z', end_reason: 'capture_end' });
  });

  test('retransmitted INVITE and re-INVITEs do not restart the call', () => {
    const { calls } = run([
      sip(0, A, B, { method: 'INVITE' }),
      sip(500, A, B, { method: 'INVITE' }),
      ...answered().slice(1),
      sip(3000, A, B, { method: 'INVITE', cseq: 2, toTag: B.tag }),
      sip(3001, B, A, { method: 'INVITE', cseq: 2, statusCode: 200, reason: 'OK', toTag: B.tag }),
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ start: '2026-11-29T18:11:32.000000Z', answer: '2026-11-29T18:11:33.000000Z', end: '2026-11-29T18:11:35.001000Z' });
  });

  test('messages of a dialog whose INVITE was not seen are counted, not invented into calls', () => {
    const { calls, table } = run([sip(0, A, B, { method: 'BYE', cseq: 5, toTag: B.tag })]);
    expect(calls).toHaveLength(0);
    expect(table.counters.sipOutOfDialog).toBe(1);
  });
});

describe('timeouts run on packet time', () => {
  test('no final response: no_answer_timeout once packet time passes the limit', () => {
    const { calls, table } = run([sip(0, A, B, { method: 'INVITE' })], { noAnswerTimeoutS: 10 }, false);
    table.advance(T0 + 9_000_000);
    expect(calls).toHaveLength(0);
    table.advance(T0 + 11_000_000);
    expect(calls[0]).toMatchObject({ end_reason: 'no_answer_timeout' });
  });

  test('answered call without BYE or RTP: rtp_timeout', () => {
    const { calls, table } = run(answered(), { rtpTimeoutS: 30 }, false);
    table.advance(T0 + 32_000_000);
    expect(calls[0]).toMatchObject({ end_reason: 'rtp_timeout', answer: '2026-11-29T18:11:33.000000Z' });
  });

  test('absolute timeout closes an answered call that keeps signalling', () => {
    const events = answered();
    const { calls, table } = run(events, { absoluteTimeoutS: 60, rtpTimeoutS: 1000 }, false);
    for (let s = 10; s <= 70; s += 10) table.onSip(sip(s * 1000, A, B, { method: 'OPTIONS', cseq: 100 + s, toTag: B.tag }));
    expect(calls[0]).toMatchObject({ end_reason: 'absolute_timeout' });
  });

  test('a finished call lingers for late packets, then is written', () => {
    const { calls, table } = run(
      [...answered(), sip(2000, A, B, { method: 'BYE', cseq: 2, toTag: B.tag }), sip(2001, B, A, { method: 'BYE', cseq: 2, statusCode: 200, reason: 'OK', toTag: B.tag })],
      { lingerS: 5 },
      false,
    );
    table.advance(T0 + 4_000_000);
    expect(calls).toHaveLength(0);
    table.advance(T0 + 8_000_000);
    expect(calls[0]).toMatchObject({ end_reason: 'bye_confirmed' });
  });

  test('the open-call table is bounded: the oldest call is evicted and counted', () => {
    const events: SipEvent[] = [];
    for (let i = 0; i < 5; i++) events.push(sip(i, A, B, { method: 'INVITE', callId: `c${i}` }));
    const { calls, table } = run(events, { maxOpenCalls: 3 }, false);
    expect(table.openCalls).toBe(3);
    expect(table.counters.callsEvicted).toBe(2);
    expect(calls.map((c) => [c.call_id, c.end_reason])).toEqual([['c0', 'evicted'], ['c1', 'evicted']]);
  });
});

describe('registrations', () => {
  const reg = (ms: number, cseq: number, extra: Partial<SipEvent> = {}) =>
    sip(ms, A, B, { method: 'REGISTER', callId: 'reg-1', cseq, expires: 600, contact: 'sip:1001@192.0.2.10', ...extra });
  const resp = (ms: number, cseq: number, code: number, extra: Partial<SipEvent> = {}) =>
    sip(ms, B, A, { method: 'REGISTER', callId: 'reg-1', cseq, statusCode: code, reason: String(code), ...extra });

  function runRegs(events: SipEvent[]): RegisterRecord[] {
    const out: RegisterRecord[] = [];
    const t = new RegisterTable(DEFAULT_REGISTER_TABLE_OPTIONS, (r) => out.push(r));
    for (const ev of events) {
      t.advance(ev.tsUs);
      t.onSip(ev);
    }
    t.flush();
    return out;
  }

  test('401 challenge then 200: ok, challenged, two transactions, granted expiry', () => {
    const [r] = runRegs([reg(0, 1), resp(1, 1, 401), reg(2, 2, { hasAuthorization: true }), resp(3, 2, 200, { expires: 300 })]);
    expect(r).toMatchObject({ result: 'ok', challenged: true, transactions: 2, last_sip_code: 200, expires: 300, user: 'bob', client_ip: A.ip, registrar_ip: B.ip });
  });

  test('wrong password: the authenticated retry gets 401 again -> auth_failed', () => {
    const [r] = runRegs([reg(0, 1), resp(1, 1, 401), reg(2, 2), resp(3, 2, 401)]);
    expect(r).toMatchObject({ result: 'auth_failed', last_sip_code: 401 });
  });

  test('no response: timeout', () => {
    const [r] = runRegs([reg(0, 1), reg(500, 1)]);
    expect(r).toMatchObject({ result: 'timeout', last_sip_code: null, transactions: 1 });
  });

  test('a dialog that goes quiet is written out and a later refresh starts a new record', () => {
    const recs = runRegs([reg(0, 1), resp(1, 1, 200), reg(60_000, 2), resp(60_001, 2, 500)]);
    expect(recs.map((r) => r.result)).toEqual(['ok', 'failed']);
  });
});

describe('DTMF in SIP INFO', () => {
  test('application/dtmf-relay and application/dtmf bodies become DTMF records', () => {
    const { calls } = run([
      ...answered(),
      sip(2000, A, B, { method: 'INFO', cseq: 2, toTag: B.tag, contentType: 'application/dtmf-relay', bodyText: 'Signal=5\r\nDuration=160\r\n' }),
      sip(3000, A, B, { method: 'INFO', cseq: 3, toTag: B.tag, contentType: 'application/dtmf', bodyText: '#' }),
      sip(4000, A, B, { method: 'INFO', cseq: 4, toTag: B.tag, contentType: 'application/dtmf-relay', bodyText: 'Signal=hello' }),
    ]);
    expect(calls[0]!.dtmf).toEqual([
      { digit: '5', ts: '2026-11-29T18:11:34.000000Z', method: 'info', duration_ms: 160 },
      { digit: '#', ts: '2026-11-29T18:11:35.000000Z', method: 'info', duration_ms: null },
    ]);
  });
});

describe('media on SDP addresses', () => {
  const sdp = (ip: string, port: number): SdpInfo => ({
    media: [
      {
        media: 'audio',
        rtpKey: endpointKeyFromText(ip, port),
        rtcpKey: endpointKeyFromText(ip, port + 1),
        port,
        rtcpPort: port + 1,
        rtcpMux: false,
        direction: 'sendrecv',
        payloads: [{ pt: 8, codec: 'PCMA', clockRate: 8000 }],
      },
    ],
  });
  /** One 20 ms PCMA packet (RFC 3550 §5.1 header, 160 payload bytes) `ms` after T0. */
  function rtp(ms: number, src: string, srcPort: number, dst: string, dstPort: number, seq: number, ssrc: number): DecodedPacket {
    const p = createDecodedPacket();
    const buf = new Uint8Array(172);
    const view = new DataView(buf.buffer);
    buf[0] = 0x80;
    buf[1] = 8;
    view.setUint16(2, seq);
    view.setUint32(4, seq * 160);
    view.setUint32(8, ssrc);
    const us = T0 + ms * 1000;
    Object.assign(p, {
      ipVersion: 4, src4: parseIpv4Text(src), dst4: parseIpv4Text(dst), srcPort, dstPort,
      payload: buf, payloadOffset: 0, payloadLength: buf.length, tsSec: Math.floor(us / 1e6), tsNsec: (us % 1e6) * 1000,
    });
    return p;
  }
  const callWithMedia = (callId: string, atMs: number, calleePort: number): SipEvent[] => [
    sip(atMs, A, B, { method: 'INVITE', callId, sdp: sdp(A.ip, 40000) }),
    sip(atMs + 1000, B, A, { method: 'INVITE', callId, statusCode: 200, reason: 'OK', toTag: B.tag, sdp: sdp(B.ip, calleePort) }),
    sip(atMs + 1001, A, B, { method: 'ACK', callId, toTag: B.tag }),
  ];

  test('RTP both ways is counted per stream and keeps an answered call open past the RTP timeout', () => {
    const { calls, table } = run(callWithMedia('call-1', 0, 50000), { rtpTimeoutS: 5 }, false);
    // The SSRC has its top bit set: streams must match it as an unsigned 32-bit value.
    for (let i = 0; i < 400; i++) {
      expect(table.onUdp(rtp(1000 + i * 20, A.ip, 40000, B.ip, 50000, i, 0x9abcdef0))?.callId).toBe('call-1');
      expect(table.onUdp(rtp(1000 + i * 20, B.ip, 50000, A.ip, 40000, 100 + i, 0x12345678))?.callId).toBe('call-1');
    }
    expect(table.openStreams()).toBe(2);
    table.advance(T0 + 10_000_000); // 1 s after the last packet (9 s)
    expect(calls).toHaveLength(0);
    table.advance(T0 + 14_100_000); // 5.1 s after it
    expect(calls[0]).toMatchObject({ end_reason: 'rtp_timeout' });
    expect(table.counters.rtpPackets).toBe(800);
    expect(calls[0]!.streams.map((s) => [s.ssrc, s.packets])).toEqual([['0x9abcdef0', 400], ['0x12345678', 400]]);
  });

  test('streams past the per-call cap and malformed media are marked on the call record (issue 12 finding 4)', () => {
    // The reproducer: 1,000 RTP packets of 50 streams (20 each) on one call with a cap of 16;
    // before, the summary said 1,000 RTP in calls and the record held 320 with no trace of the rest.
    const { calls, table } = run(callWithMedia('call-1', 0, 50000), { maxStreamsPerCall: 16 }, false);
    for (let i = 0; i < 1000; i++) table.onUdp(rtp(1100 + i, A.ip, 40000, B.ip, 50000, Math.floor(i / 50), 1 + (i % 50)));
    const bad = rtp(3000, A.ip, 40000, B.ip, 50000, 99, 7);
    bad.payload[0] = 0x90; // version 2 with the extension bit but no extension header
    bad.payloadLength = 12;
    table.onUdp(bad);
    const rtcp = rtp(3001, A.ip, 40001, B.ip, 50001, 0, 7);
    rtcp.payload[1] = 200; // a sender report type whose length does not match the packet
    table.onUdp(rtcp);
    table.flush();
    const c = calls[0]!;
    expect(c.streams.reduce((n, s) => n + s.packets, 0)).toBe(320);
    expect(c.dropped).toEqual({ rtp_streams_over_cap: 34, rtp_packets_over_cap: 680, rtp_malformed: 1, rtcp_malformed: 1, sip_oversize: 0 });
    expect(table.counters.streamsOverCap).toBe(680);
  });

  test('a call that lost nothing has dropped null', () => {
    const { calls, table } = run(callWithMedia('call-1', 0, 50000), {}, false);
    for (let i = 0; i < 10; i++) table.onUdp(rtp(1100 + i * 20, A.ip, 40000, B.ip, 50000, i, 1));
    table.flush();
    expect(calls[0]!.dropped).toBeNull();
  });

  test('a media port taken over by a new call keeps the old call timing out from its own last packet', () => {
    const { calls, table } = run(callWithMedia('old', 0, 50000), { rtpTimeoutS: 5 }, false);
    for (let i = 0; i < 100; i++) table.onUdp(rtp(1000 + i * 20, A.ip, 40000, B.ip, 50000, i, 1)); // last at 2.98 s
    // A new call announces the same callee address: packets to it now belong to the new call.
    for (const ev of callWithMedia('new', 3000, 50000)) table.onSip(ev);
    for (let i = 0; i < 100; i++) expect(table.onUdp(rtp(4000 + i * 20, '203.0.113.5', 41000, B.ip, 50000, i, 2))?.callId).toBe('new');
    // The old call still has its caller-side address (A:40000), which the new call reuses too;
    // at 7.9 s the old call's last packet (2.98 s) is 4.92 s old: still open.
    table.advance(T0 + 7_900_000);
    expect(calls.map((c) => c.call_id)).toEqual([]);
    table.advance(T0 + 9_100_000);
    expect(calls.map((c) => [c.call_id, c.end_reason])).toEqual([['old', 'rtp_timeout']]);
  });
});

describe('packet time is robust to a lone bad timestamp (callscope issue 12, finding 1)', () => {
  const sdpAt = (ip: string, port: number): SdpInfo => ({
    media: [
      {
        media: 'audio', rtpKey: endpointKeyFromText(ip, port), rtcpKey: endpointKeyFromText(ip, port + 1), port, rtcpPort: port + 1,
        rtcpMux: false, direction: 'sendrecv', payloads: [{ pt: 8, codec: 'PCMA', clockRate: 8000 }],
      },
    ],
  });
  /** One 20 ms PCMA packet at `us` (absolute µs). */
  function rtpAt(us: number, src: string, srcPort: number, dst: string, dstPort: number, seq: number, ssrc: number): DecodedPacket {
    const p = createDecodedPacket();
    const buf = new Uint8Array(172);
    const view = new DataView(buf.buffer);
    buf[0] = 0x80;
    buf[1] = 8;
    view.setUint16(2, seq);
    view.setUint32(4, seq * 160);
    view.setUint32(8, ssrc);
    Object.assign(p, {
      ipVersion: 4, src4: parseIpv4Text(src), dst4: parseIpv4Text(dst), srcPort, dstPort,
      payload: buf, payloadOffset: 0, payloadLength: buf.length, tsSec: Math.floor(us / 1e6), tsNsec: (us % 1e6) * 1000,
    });
    return p;
  }
  /** INVITE/200/ACK with SDP on both sides, `callId` starting `atMs` after T0. */
  const setup = (callId: string, atMs: number, callerPort: number, calleePort: number): SipEvent[] => [
    sip(atMs, A, B, { method: 'INVITE', callId, sdp: sdpAt(A.ip, callerPort) }),
    sip(atMs + 1000, B, A, { method: 'INVITE', callId, statusCode: 200, reason: 'OK', toTag: B.tag, sdp: sdpAt(B.ip, calleePort) }),
    sip(atMs + 1001, A, B, { method: 'ACK', callId, toTag: B.tag }),
  ];
  const bye = (callId: string, atMs: number): SipEvent[] => [
    sip(atMs, A, B, { method: 'BYE', callId, cseq: 2, toTag: B.tag }),
    sip(atMs + 1, B, A, { method: 'BYE', callId, cseq: 2, statusCode: 200, reason: 'OK', toTag: B.tag }),
  ];

  // Before the fix the table took the latest timestamp ever seen as "now": the call below ended
  // at the outlier as rtp_timeout (+1 h) or absolute_timeout (+10 days), its BYE an orphan.
  test.each([
    ['+1 h', 3600e6],
    ['+10 days', 10 * 86400e6],
  ])('one RTP packet dated %s in an 8.9 s call: the call ends by its BYE, the packet is an outlier', (_, offsetUs) => {
    const calls: CallRecord[] = [];
    const table = new CallTable(DEFAULT_CALL_TABLE_OPTIONS, (c) => calls.push(c));
    for (const ev of setup('call-1', 0, 40000, 50000)) table.onSip(ev);
    let n = 0;
    for (let ms = 1020; ms < 8880; ms += 20, n++) {
      const us = T0 + ms * 1000 + (n === 200 ? offsetUs : 0);
      expect(table.onUdp(rtpAt(us, A.ip, 40000, B.ip, 50000, n, 0x1111))?.callId).toBe('call-1');
      expect(table.onUdp(rtpAt(T0 + ms * 1000 + 1, B.ip, 50000, A.ip, 40000, n, 0x2222))?.callId).toBe('call-1');
    }
    for (const ev of bye('call-1', 8899)) table.onSip(ev);
    table.advance(T0 + 20_000_000);
    expect(calls).toHaveLength(1);
    const c = calls[0]!;
    expect(c).toMatchObject({ end_reason: 'bye_confirmed', duration: 8.9 });
    // The outlier is the call's packet (counted, kept with the call) but not its stream's: a
    // jitter of minutes and a duration of hours would be the stream's figures otherwise.
    expect(c.streams.map((s) => [s.ssrc, s.packets])).toEqual([['0x00001111', n - 1], ['0x00002222', n]]);
    expect(c.streams[0]!.jitter_max_ms).toBeLessThan(1);
    expect(c.streams[0]!.last < c.end).toBe(true);
    expect(table.counters).toMatchObject({ rtpPackets: 2 * n, clockOutliers: 1, clockSteps: 0, rtpClockOutliers: 1 });
  });

  test('one SIP message dated +1 h (another call) does not end the open calls', () => {
    const calls: CallRecord[] = [];
    const table = new CallTable(DEFAULT_CALL_TABLE_OPTIONS, (c) => calls.push(c));
    for (const ev of setup('call-1', 0, 40000, 50000)) table.onSip(ev);
    table.onSip(sip(3600_000 + 2000, A, B, { method: 'OPTIONS', callId: 'ping' }));
    for (let i = 0; i < 10; i++) table.onUdp(rtpAt(T0 + 2_000_000 + i * 20_000, A.ip, 40000, B.ip, 50000, i, 1));
    for (const ev of bye('call-1', 5000)) table.onSip(ev);
    table.advance(T0 + 20_000_000);
    expect(calls.map((c) => [c.end_reason, c.duration])).toEqual([['bye_confirmed', 5.001]]);
    expect(table.counters.clockOutliers).toBe(1);
  });

  test('a real jump (every packet after it +2 h) is taken once the traffic confirms it: idle calls time out then, active ones go on', () => {
    const calls: CallRecord[] = [];
    const table = new CallTable(DEFAULT_CALL_TABLE_OPTIONS, (c) => calls.push(c));
    // idle: answered, 1 s of RTP, then nothing. active: RTP every 20 ms across the jump.
    for (const ev of [...setup('idle', 0, 40000, 50000), ...setup('active', 10, 40010, 50010)]) table.onSip(ev);
    for (let i = 0; i < 50; i++) table.onUdp(rtpAt(T0 + 1_100_000 + i * 20_000, A.ip, 40000, B.ip, 50000, i, 1));
    const JUMP = 7200e6;
    let seq = 0;
    const activeRtp = (ms: number) => table.onUdp(rtpAt(T0 + ms * 1000 + (ms >= 10_000 ? JUMP : 0), A.ip, 40010, B.ip, 50010, seq++, 2));
    for (let ms = 1100; ms < 10_000; ms += 20) activeRtp(ms);
    expect(calls).toHaveLength(0);
    // The first packet after the jump and the next two: held, nothing closes yet.
    for (let k = 0; k < 3; k++) {
      activeRtp(10_000 + k * 20);
      expect(calls).toHaveLength(0);
    }
    // The fourth confirms the step: the idle call is 2 h without media, the active one is not.
    activeRtp(10_060);
    expect(calls.map((c) => [c.call_id, c.end_reason])).toEqual([['idle', 'rtp_timeout']]);
    for (let ms = 10_080; ms < 12_000; ms += 20) activeRtp(ms);
    for (const ev of bye('active', 12_000)) table.onSip({ ...ev, tsUs: ev.tsUs + JUMP });
    table.advance(T0 + JUMP + 20_000_000);
    expect(calls.map((c) => [c.call_id, c.end_reason])).toEqual([['idle', 'rtp_timeout'], ['active', 'bye_confirmed']]);
    expect(table.counters).toMatchObject({ clockOutliers: 0, clockSteps: 1 });
  });

  test('a confirmed backward step (capture clock reset) does not freeze timeouts of the new timeline', () => {
    const calls: CallRecord[] = [];
    const table = new CallTable({ ...DEFAULT_CALL_TABLE_OPTIONS, noAnswerTimeoutS: 10 }, (c) => calls.push(c));
    table.onSip(sip(0, A, B, { method: 'INVITE', callId: 'before' }));
    // The capture continues a day earlier: an unanswered INVITE, then traffic for 30 s.
    const back = -86_400_000;
    table.onSip(sip(back + 1000, A, B, { method: 'INVITE', callId: 'after' }));
    for (let s = 2; s <= 30; s++) table.onSip(sip(back + s * 1000, A, B, { method: 'OPTIONS', callId: `ping-${s}` }));
    expect(calls.map((c) => [c.call_id, c.end_reason])).toEqual([['after', 'no_answer_timeout']]);
    expect(table.counters).toMatchObject({ clockSteps: 1, clockOutliers: 0 });
  });
});

describe('registrations run on robust packet time (callscope issue 12, finding 1)', () => {
  const reg = (ms: number, cseq: number, callId = 'reg-1') =>
    sip(ms, A, B, { method: 'REGISTER', callId, cseq, expires: 600, contact: 'sip:1001@192.0.2.10' });
  const resp = (ms: number, cseq: number, code: number, callId = 'reg-1') =>
    sip(ms, B, A, { method: 'REGISTER', callId, cseq, statusCode: code, reason: String(code), expires: 600 });

  test('a REGISTER dated +1 h does not time out a challenged registration; quiet dialogs are written on packet time', () => {
    const out: RegisterRecord[] = [];
    const t = new RegisterTable(DEFAULT_REGISTER_TABLE_OPTIONS, (r) => out.push(r));
    t.onSip(reg(0, 1));
    t.onSip(resp(1, 1, 401));
    t.onSip(reg(3600_000 + 5, 1, 'reg-outlier'));
    t.onSip(reg(2000, 2));
    t.onSip(resp(2001, 2, 200));
    expect(out).toHaveLength(0);
    // The table keeps its own time: 30 s of traffic later the quiet dialog is written out.
    t.onSip(reg(32_000, 1, 'reg-2'));
    expect(out.map((r) => [r.call_id, r.result, r.transactions, r.challenged])).toEqual([['reg-1', 'ok', 2, true]]);
    expect(t.counters).toMatchObject({ clockOutliers: 1, clockSteps: 0 });
  });
});

describe('a call keeps a bounded set of media addresses (callscope issue 12, finding 9)', () => {
  test('200 re-INVITEs each on a new port: the call keeps its 64 newest addresses, the others are counted', () => {
    const sdpAt = (ip: string, port: number): SdpInfo => ({
      media: [
        {
          media: 'audio', rtpKey: endpointKeyFromText(ip, port), rtcpKey: endpointKeyFromText(ip, port + 1), port, rtcpPort: port + 1,
          rtcpMux: true, direction: 'sendrecv', payloads: [{ pt: 8, codec: 'PCMA', clockRate: 8000 }],
        },
      ],
    });
    const calls: CallRecord[] = [];
    const table = new CallTable(DEFAULT_CALL_TABLE_OPTIONS, (c) => calls.push(c));
    table.onSip(sip(0, A, B, { method: 'INVITE', sdp: sdpAt(A.ip, 40000) }));
    table.onSip(sip(100, B, A, { method: 'INVITE', statusCode: 200, reason: 'OK', toTag: B.tag, sdp: sdpAt(B.ip, 50000) }));
    // Before the bound every one of these stayed in the call and in the endpoint index until the call closed.
    for (let i = 1; i <= 200; i++) table.onSip(sip(100 + i, A, B, { method: 'INVITE', cseq: 1 + i, toTag: B.tag, sdp: sdpAt(A.ip, 40000 + 2 * i) }));
    expect(table.counters.endpointsEvicted).toBe(202 - 64);
    const udp = (dstPort: number, srcPort = 50000): DecodedPacket => {
      const p = createDecodedPacket();
      const buf = new Uint8Array(172);
      buf[0] = 0x80;
      buf[1] = 8;
      Object.assign(p, {
        ipVersion: 4, src4: parseIpv4Text(B.ip), dst4: parseIpv4Text(A.ip), srcPort, dstPort,
        payload: buf, payloadOffset: 0, payloadLength: buf.length, tsSec: Math.floor(T0 / 1e6) + 1, tsNsec: 0,
      });
      return p;
    };
    // The newest address is the call's; the first one was dropped (50000, the callee's, was too,
    // so the packet is matched by its destination only).
    expect(table.onUdp(udp(40000 + 400))?.callId).toBe('call-1');
    expect(table.onUdp(udp(40000, 1))).toBeNull();
  });
});

describe('a call keeps a bounded list of responses and INFO digits (issue 13: every per-call list has a cap)', () => {
  test('300 answered re-INVITEs and 300 INFO digits: 64 responses and 256 digits kept, the rest counted', () => {
    const events = [...answered()];
    for (let i = 1; i <= 300; i++) {
      events.push(sip(1000 + 2 * i, A, B, { method: 'INVITE', cseq: 1 + i, toTag: B.tag }));
      events.push(sip(1001 + 2 * i, B, A, { method: 'INVITE', cseq: 1 + i, statusCode: 200, reason: 'OK', toTag: B.tag }));
    }
    for (let i = 0; i < 300; i++) {
      events.push(sip(5000 + i, A, B, { method: 'INFO', cseq: 1000 + i, toTag: B.tag, contentType: 'application/dtmf-relay', bodyText: 'Signal=5\r\nDuration=160\r\n' }));
    }
    const { calls, table } = run(events);
    const c = calls[0]!;
    // The first final response (the answer) and 63 re-INVITE answers; 300 - 63 counted.
    expect(c.sip_responses).toHaveLength(64);
    expect(c.sip_responses[0]!.time).toBe('2026-11-29T18:11:33.000000Z');
    expect(table.counters.sipResponsesOverCap).toBe(301 - 64);
    expect(c.dtmf).toHaveLength(256);
    expect(table.counters.infoDtmfOverCap).toBe(300 - 256);
  });

  test('a call under the caps counts nothing', () => {
    const { calls, table } = run([...answered(), sip(5000, A, B, { method: 'INFO', cseq: 2, toTag: B.tag, contentType: 'application/dtmf', bodyText: '7' })]);
    expect(calls[0]!.dtmf.map((d) => d.digit)).toEqual(['7']);
    expect(table.counters).toMatchObject({ sipResponsesOverCap: 0, infoDtmfOverCap: 0 });
  });
});

describe('forked INVITEs (issue 19, finding 4)', () => {
  const B2 = { ip: '198.51.100.21', port: 5060, tag: 'callee2-tag' };
  /** INVITE forked by a proxy at A to B and B2, as captured behind the proxy. */
  const forked = (): SipEvent[] => [
    sip(0, A, B, { method: 'INVITE' }),
    sip(3, A, B2, { method: 'INVITE' }),
    sip(40, B, A, { method: 'INVITE', statusCode: 180, reason: 'Ringing', toTag: B.tag, userAgent: 'phone-B' }),
    sip(45, B2, A, { method: 'INVITE', statusCode: 180, reason: 'Ringing', toTag: B2.tag, userAgent: 'phone-B2' }),
    sip(46, B2, A, { method: 'INVITE', statusCode: 180, reason: 'Ringing', toTag: B2.tag, userAgent: 'phone-B2' }), // retransmitted
  ];

  test('the second branch answers: callee fields are its, the other is cancelled; both listed', () => {
    const { calls } = run([
      ...forked(),
      sip(2000, B2, A, { method: 'INVITE', statusCode: 200, reason: 'OK', toTag: B2.tag, userAgent: 'phone-B2' }),
      sip(2001, A, B, { method: 'CANCEL' }),
      sip(2002, B, A, { method: 'CANCEL', statusCode: 200, reason: 'OK' }),
      sip(2003, B, A, { method: 'INVITE', statusCode: 487, reason: 'Request Terminated', toTag: B.tag }),
      sip(5000, A, B2, { method: 'BYE', cseq: 2, toTag: B2.tag }),
      sip(5001, B2, A, { method: 'BYE', cseq: 2, statusCode: 200, reason: 'OK', toTag: B2.tag }),
    ]);
    expect(calls).toHaveLength(1);
    const c = calls[0]!;
    expect(c).toMatchObject({ callee_ip: B2.ip, callee_user_agent: 'phone-B2', end_reason: 'bye_confirmed', last_sip_code: 200, answer: '2026-11-29T18:11:34.000000Z' });
    expect(c.branches.map((b) => [b.to_tag, b.ip, b.provisional.map((p) => p.code), b.final_code, b.cancel !== null, b.chosen])).toEqual([
      [B.tag, B.ip, [180], 487, true, false],
      [B2.tag, B2.ip, [180], 200, false, true],
    ]);
  });

  test('one branch failing does not end the call while another still rings; the last decides by RFC 3261 §16.7', () => {
    const { calls, table } = run([...forked(), sip(1000, B, A, { method: 'INVITE', statusCode: 486, reason: 'Busy Here', toTag: B.tag })], {}, false);
    expect(calls).toHaveLength(0);
    expect(table.openCall('call-1')).toBeDefined();
    table.onSip(sip(3000, B2, A, { method: 'INVITE', statusCode: 603, reason: 'Decline', toTag: B2.tag }));
    table.flush();
    expect(calls[0]).toMatchObject({ end_reason: 'rejected', last_sip_code: 603, last_sip_reason: 'Decline', callee_ip: B2.ip, end: '2026-11-29T18:11:35.000000Z' });
    expect(calls[0]!.branches.map((b) => b.chosen)).toEqual([false, true]);
  });

  test.each([
    [[486, 503], 486, 'the lowest class'],
    [[503, 486], 486, 'the lowest class, whichever came first'],
    [[480, 404], 480, 'the first of one class'],
    [[486, 407], 407, 'within 4xx, a response that says how to retry'],
    [[302, 600], 600, '6xx beats everything'],
  ])('failures %j: %i is forwarded (%s)', (codes, want) => {
    const { calls } = run([
      ...forked(),
      sip(1000, B, A, { method: 'INVITE', statusCode: codes[0]!, reason: 'x', toTag: B.tag }),
      sip(2000, B2, A, { method: 'INVITE', statusCode: codes[1]!, reason: 'y', toTag: B2.tag }),
    ]);
    expect(calls[0]!.last_sip_code).toBe(want);
  });

  test('a destination that never answered with a tag is a branch without one', () => {
    const { calls } = run([
      sip(0, A, B, { method: 'INVITE' }),
      sip(3, A, B2, { method: 'INVITE' }),
      sip(40, B, A, { method: 'INVITE', statusCode: 200, reason: 'OK', toTag: B.tag }),
      sip(41, A, B2, { method: 'CANCEL' }),
    ]);
    expect(calls[0]!.branches.map((b) => [b.to_tag, b.ip, b.final_code, b.cancel === null, b.chosen])).toEqual([
      [B.tag, B.ip, 200, true, true],
      [null, B2.ip, null, false, false],
    ]);
  });

  test('a fork seen in front of the proxy (one address, two tags): the proxy forwards one final, which ends the call', () => {
    const { calls } = run([
      sip(0, A, B, { method: 'INVITE' }),
      sip(40, B, A, { method: 'INVITE', statusCode: 180, reason: 'Ringing', toTag: 't1' }),
      sip(45, B, A, { method: 'INVITE', statusCode: 180, reason: 'Ringing', toTag: 't2' }),
      sip(1000, B, A, { method: 'INVITE', statusCode: 486, reason: 'Busy Here', toTag: 't2' }),
    ]);
    expect(calls[0]).toMatchObject({ end_reason: 'rejected', last_sip_code: 486, callee_ip: B.ip });
    expect(calls[0]!.branches.map((b) => [b.to_tag, b.final_code, b.chosen])).toEqual([['t1', null, false], ['t2', 486, true]]);
  });

  test('an INVITE forked to more addresses than a call keeps is counted, not grown', () => {
    const events = [sip(0, A, B, { method: 'INVITE' })];
    for (let i = 0; i < 40; i++) events.push(sip(1 + i, A, { ip: `203.0.113.${i}`, port: 5060, tag: '' }, { method: 'INVITE' }));
    const { calls, table } = run(events);
    expect(calls[0]!.branches).toHaveLength(16);
    expect(table.counters.branchesOverCap).toBe(41 - 16);
  });
});

describe('linked legs (issue 19, finding 4)', () => {
  const leg = (callId: string, ms: number, extra: Partial<SipEvent> = {}): SipEvent => sip(ms, A, B, { method: 'INVITE', callId, ...extra });
  const UUID = 'ab'.repeat(16);

  test('X-CID names the first leg: both records name each other, whichever INVITE came first', () => {
    for (const order of [0, 1]) {
      const a = leg('leg-a', 0);
      const b = leg('leg-b', 10, { xCid: 'leg-a' });
      const { calls } = run(order === 0 ? [a, b] : [b, a]);
      const byId = new Map(calls.map((c) => [c.call_id, c]));
      expect(byId.get('leg-b')!.linked_legs).toEqual([{ call_id: 'leg-a', start: byId.get('leg-a')!.start, by: 'x_cid', header: null }]);
      expect(byId.get('leg-a')!.linked_legs).toEqual([{ call_id: 'leg-b', start: byId.get('leg-b')!.start, by: 'x_cid', header: null }]);
      expect(byId.get('leg-b')!.x_cid).toBe('leg-a');
    }
  });

  test('Session-ID, icid and a configured header link legs; the first relation found names the link once', () => {
    const { calls } = run(
      [
        leg('one', 0, { sessionId: { local: UUID, remote: null }, icid: 'ic-1', correlation: ['corr-9'] }),
        leg('two', 5, { sessionId: { local: UUID, remote: null }, icid: 'ic-1' }),
        leg('three', 6, { icid: 'ic-1' }),
        leg('four', 7, { correlation: ['corr-9'] }),
        leg('five', 8, { icid: 'other' }),
      ],
      { correlationHeaders: ['X-Corr'] },
    );
    const links = (id: string) => calls.find((c) => c.call_id === id)!.linked_legs.map((l) => [l.call_id, l.by, l.header]);
    expect(links('one')).toEqual([['two', 'session_id', null], ['three', 'icid', null], ['four', 'header', 'X-Corr']]);
    expect(links('two')).toEqual([['one', 'session_id', null], ['three', 'icid', null]]);
    expect(links('four')).toEqual([['one', 'header', 'X-Corr']]);
    expect(links('five')).toEqual([]);
    expect(calls.find((c) => c.call_id === 'one')).toMatchObject({ icid: 'ic-1', correlation: { 'X-Corr': 'corr-9' }, session_id: { local_uuid: UUID, remote_uuid: null } });
  });

  test('the callee side\'s Session-ID UUID is the remote one', () => {
    const { calls } = run([
      sip(0, A, B, { method: 'INVITE', sessionId: { local: UUID, remote: null } }),
      sip(40, B, A, { method: 'INVITE', statusCode: 200, reason: 'OK', toTag: B.tag, sessionId: { local: 'cd'.repeat(16), remote: UUID } }),
    ]);
    expect(calls[0]!.session_id).toEqual({ local_uuid: UUID, remote_uuid: 'cd'.repeat(16) });
  });

  test('a closed leg links nothing more, and one value on many open calls is capped, not quadratic', () => {
    const closedFirst = run([
      leg('a', 0, { icid: 'x' }),
      sip(10, B, A, { method: 'INVITE', callId: 'a', statusCode: 486, reason: 'Busy', toTag: B.tag }),
    ], { lingerS: 0 }, false);
    closedFirst.table.advance(T0 + 10_000_000);
    closedFirst.table.sweepIfDue();
    expect(closedFirst.calls.map((c) => c.call_id)).toEqual(['a']);
    closedFirst.table.onSip(leg('b', 20_000, { icid: 'x' }));
    closedFirst.table.flush();
    expect(closedFirst.calls.map((c) => [c.call_id, c.linked_legs.length])).toEqual([['a', 0], ['b', 0]]);

    const events: SipEvent[] = [];
    for (let i = 0; i < 200; i++) events.push(leg(`c${i}`, i, { icid: 'same-for-all' }));
    const { calls, table } = run(events);
    expect(Math.max(...calls.map((c) => c.linked_legs.length))).toBe(16);
    expect(table.counters.linkedLegsOverCap).toBeGreaterThan(0);
  });
});
