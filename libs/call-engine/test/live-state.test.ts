/**
 * The sensor daemon's view of the call engine (issue 13): the live list and detail of open calls,
 * `finish('sensor_shutdown')`, and memory shedding. Oracles: the corpus captures, analysed whole
 * (a record taken with live views in between must equal one taken without).
 */
import type { CallRecord } from '@callscope/cdr-model';
import type { PacketRecord } from '@callscope/pcap-format';
import { readCorpusRecords } from '@callscope/testing';
import { describe, expect, test } from 'vitest';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '../src/index.js';

function pipelineWith(calls: CallRecord[]): PacketPipeline {
  return new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: (r) => calls.push(r), onRegister: () => undefined });
}

/** Index of the first record whose bytes contain `text` (a SIP start line). */
function indexOf(records: readonly PacketRecord[], text: string): number {
  const needle = Buffer.from(text);
  const i = records.findIndex((r) => Buffer.from(r.data.buffer, r.data.byteOffset, r.capLen).includes(needle));
  if (i < 0) throw new Error(`no packet with ${text}`);
  return i;
}

/** The fates of `pipeline` add up to its packets (the accounting the summary relies on). */
function expectFatesAddUp(pipeline: PacketPipeline): void {
  const st = pipeline.stats();
  expect(Object.values(st.fates).reduce((a, b) => a + b, 0)).toBe(st.packets);
}

describe('a call in progress, seen live, then closed by the sensor stopping', () => {
  const records = readCorpusRecords('basic-caller-bye-pcma.pcap');
  const bye = indexOf(records, 'BYE sip:');
  const ok = indexOf(records, 'SIP/2.0 200 OK');
  const half = Math.floor((ok + bye) / 2);

  test('activeCalls shows it answered with both streams; finish(sensor_shutdown) writes that reason', () => {
    const calls: CallRecord[] = [];
    const p = pipelineWith(calls);
    for (const r of records.slice(0, half)) p.onPacket(r);
    const list = p.activeCalls();
    expect(list).toHaveLength(1);
    const c = list[0]!;
    expect(c).toMatchObject({
      call_id: '1-2798@192.0.2.10',
      caller: 'walter',
      called: 'ivan',
      caller_ip: '192.0.2.10',
      callee_ip: '198.51.100.20',
      transport: 'udp',
      state: 'answered',
      last_sip_code: 200,
      dropped: null,
    });
    expect(c.answer).not.toBeNull();
    expect(c.age_s).toBeGreaterThan(1);
    expect(c.streams.map((s) => [s.side, s.codec])).toEqual(
      expect.arrayContaining([
        ['caller', 'PCMA'],
        ['callee', 'PCMA'],
      ]),
    );
    for (const s of c.streams) {
      expect(s.packets).toBeGreaterThan(128);
      expect(s.lost).toBe(0);
      expect(s.mos_f1).toBeGreaterThan(4);
      expect(s.jitter_max_ms).toBeGreaterThanOrEqual(s.jitter_ms);
    }
    // Plain JSON: what the control socket sends is what was built.
    expect(JSON.parse(JSON.stringify(list))).toEqual(list);
    expect(calls).toHaveLength(0);
    p.finish('sensor_shutdown');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.end_reason).toBe('sensor_shutdown');
    expect(calls[0]!.streams).toHaveLength(2);
    expect(p.activeCalls()).toEqual([]);
    expectFatesAddUp(p);
  });

  test('finish() without a reason is still capture_end; a call that ended keeps its own outcome', () => {
    const calls: CallRecord[] = [];
    const p = pipelineWith(calls);
    for (const r of records.slice(0, half)) p.onPacket(r);
    p.finish();
    expect(calls[0]!.end_reason).toBe('capture_end');

    const ended: CallRecord[] = [];
    const q = pipelineWith(ended);
    for (const r of records) q.onPacket(r);
    // BYE answered: lingering for late packets, listed as ended, written with its own outcome.
    expect(q.activeCalls().map((c) => c.state)).toEqual(['ended']);
    q.finish('sensor_shutdown');
    expect(ended[0]!.end_reason).toBe('bye_confirmed');
  });

  test('an unanswered call stopped by the sensor says sensor_shutdown, not no_answer_timeout', () => {
    const calls: CallRecord[] = [];
    const p = pipelineWith(calls);
    for (const r of records.slice(0, ok)) p.onPacket(r);
    expect(p.activeCalls()[0]!.state).toBe('ringing');
    p.finish('sensor_shutdown');
    expect(calls[0]!).toMatchObject({ end_reason: 'sensor_shutdown', answer: null });
  });

  test('activeCall gives the CDR it would get now, with full stream figures; unknown Call-ID is null', () => {
    const p = pipelineWith([]);
    for (const r of records.slice(0, half)) p.onPacket(r);
    expect(p.activeCall('no-such-call')).toBeNull();
    const d = p.activeCall('1-2798@192.0.2.10')!;
    expect(d.state).toBe('answered');
    expect(d.record.end_reason).toBe('sensor_shutdown');
    expect(d.record.streams).toHaveLength(2);
    for (const s of d.record.streams) {
      const live = d.streams.find((x) => x.ssrc === s.ssrc)!;
      expect(s.packets).toBe(live.packets);
      expect(s.mos_f1).not.toBeNull();
    }
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});

describe('live views change nothing', () => {
  // Loss, reordering, DTMF (an event may be in progress when a view is taken), re-INVITEs, many calls.
  const files = ['rtp-loss-1pct.pcap', 'rtp-reorder.pcap', 'dtmf-rfc2833.pcap', 'reinvite-hold-port-change.pcap', 'busy-hour-a.pcap', 'rtp-jitter-20ms.pcap'];
  test.each(files)('%s: the CDRs are identical with and without views taken all along', (file) => {
    const records = readCorpusRecords(file);
    const plain: CallRecord[] = [];
    const a = pipelineWith(plain);
    for (const r of records) a.onPacket(r);
    a.finish();

    const watched: CallRecord[] = [];
    const b = pipelineWith(watched);
    let views = 0;
    // About 200 views per capture (every 50 packets at least), a detail of every open call in each.
    const every = Math.max(50, Math.floor(records.length / 200));
    records.forEach((r, i) => {
      b.onPacket(r);
      if (i % every === 0) {
        for (const c of b.activeCalls({ limit: 100_000 })) {
          expect(b.activeCall(c.call_id)!.call_id).toBe(c.call_id);
          views++;
        }
      }
    });
    b.finish();
    expect(views).toBeGreaterThan(0);
    expect(watched).toEqual(plain);
  });

  test('limit and offset page through the open calls, oldest first', () => {
    const p = pipelineWith([]);
    const records = readCorpusRecords('busy-hour-a.pcap');
    // The middle of the busy hour: several calls open at once.
    let best = 0;
    let at = 0;
    records.forEach((r, i) => {
      p.onPacket(r);
      const n = p.calls.openCalls;
      if (n > best) {
        best = n;
        at = i;
      }
    });
    const q = pipelineWith([]);
    for (const r of records.slice(0, at + 1)) q.onPacket(r);
    const all = q.activeCalls({ limit: 1000 });
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(q.activeCalls({ limit: 2 })).toEqual(all.slice(0, 2));
    expect(q.activeCalls({ limit: 2, offset: 1 })).toEqual(all.slice(1, 3));
    expect(q.activeCalls({ limit: 0 })).toEqual([]);
    const starts = all.map((c) => c.start);
    expect([...starts].sort()).toEqual(starts);
  });
});

describe('memory shedding', () => {
  const records = readCorpusRecords('basic-caller-bye-pcma.pcap');
  const ok = indexOf(records, 'SIP/2.0 200 OK');

  test('level 1: streams not yet tracked are not created, counted, and marked on the call', () => {
    const calls: CallRecord[] = [];
    const p = pipelineWith(calls);
    for (const r of records.slice(0, ok)) p.onPacket(r);
    p.shedLoad(1);
    for (const r of records.slice(ok)) p.onPacket(r);
    p.finish();
    const st = p.stats();
    const shed = st.fates['rtp_shed_memory']!;
    expect(shed).toBeGreaterThan(300);
    expect(st.calls['rtp_shed_memory']).toBe(shed);
    expect(calls).toHaveLength(1);
    // The call itself is still followed to its BYE.
    expect(calls[0]!.end_reason).toBe('bye_confirmed');
    expect(calls[0]!.streams).toEqual([]);
    expect(calls[0]!.dropped).toMatchObject({ rtp_streams_over_cap: 2, rtp_packets_over_cap: shed });
    expectFatesAddUp(p);
  });

  test('level 1 keeps the streams already tracked', () => {
    const calls: CallRecord[] = [];
    const p = pipelineWith(calls);
    const bye = indexOf(records, 'BYE sip:');
    const mid = Math.floor((ok + bye) / 2);
    for (const r of records.slice(0, mid)) p.onPacket(r);
    p.shedLoad(1);
    for (const r of records.slice(mid)) p.onPacket(r);
    p.finish();
    const plain: CallRecord[] = [];
    const q = pipelineWith(plain);
    for (const r of records) q.onPacket(r);
    q.finish();
    expect(calls).toEqual(plain);
    expect(p.stats().fates['rtp_shed_memory']).toBe(0);
  });

  test('level 2 refuses new calls (counted, no record); level 0 tracks them again', () => {
    const calls: CallRecord[] = [];
    const p = pipelineWith(calls);
    p.shedLoad(2);
    for (const r of records) p.onPacket(r);
    p.finish();
    expect(calls).toHaveLength(0);
    const st = p.stats();
    expect(st.calls['calls_refused_memory']).toBe(1);
    expect(st.fates['sip_call_refused_memory']).toBe(1);
    expect(st.fates['rtp_without_call']).toBeGreaterThan(300);
    expectFatesAddUp(p);

    const again: CallRecord[] = [];
    const q = pipelineWith(again);
    q.shedLoad(2);
    q.shedLoad(0);
    for (const r of records) q.onPacket(r);
    q.finish();
    expect(again).toHaveLength(1);
    expect(q.stats().calls['calls_refused_memory']).toBe(0);
  });

  test('level 2 on a busy hour: the calls open before it go on, later ones are refused and counted', () => {
    const busy = readCorpusRecords('busy-hour-a.pcap');
    const plain: CallRecord[] = [];
    const a = pipelineWith(plain);
    for (const r of busy) a.onPacket(r);
    a.finish();
    const calls: CallRecord[] = [];
    const p = pipelineWith(calls);
    const cut = Math.floor(busy.length / 2);
    busy.forEach((r, i) => {
      if (i === cut) p.shedLoad(2);
      p.onPacket(r);
    });
    p.finish();
    const st = p.stats();
    const refused = st.calls['calls_refused_memory']!;
    expect(refused).toBeGreaterThan(0);
    expect(calls.length + refused).toBe(plain.length);
    // Level 2 includes level 1: a call open before it keeps its SIP outcome and the streams it
    // had; streams it would have started since are marked on its record and counted.
    let shedStreams = 0;
    for (const c of calls) {
      const want = plain.find((x) => x.call_id === c.call_id)!;
      if (c.dropped === null) expect(c).toEqual(want);
      else {
        shedStreams += c.dropped.rtp_packets_over_cap;
        const { streams: _s, dropped: _d, dtmf: _t, ...sip } = c;
        const { streams: _ws, dropped: _wd, dtmf: _wt, ...wantSip } = want;
        expect(sip).toEqual(wantSip);
        expect(c.streams.length + c.dropped.rtp_streams_over_cap).toBe(want.streams.length);
      }
    }
    expect(shedStreams).toBe(st.fates['rtp_shed_memory']);
    expectFatesAddUp(p);
  });
});
