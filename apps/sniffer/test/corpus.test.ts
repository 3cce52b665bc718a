/**
 * Issue 4's acceptance test: every capture of the reference corpus (real sipp calls, tshark truth)
 * analysed by the sniffer gives the truth's calls, outcomes, times to the microsecond, streams and
 * registrations.
 */
import { describe, expect, test } from 'vitest';
import { corpusCaptures, isoFromEpoch, isoToMicros } from '@callscope/testing';
import { analyzeFile } from './analyze-corpus.js';

const STATE_OF_REASON: Record<string, string> = {
  bye_confirmed: 'COMPLETED',
  bye_unconfirmed: 'COMPLETED',
  bye_failed: 'COMPLETED',
  cancelled: 'CANCELLED',
  rejected: 'REJECTED',
  capture_end: 'IN CALL',
};

describe.each(corpusCaptures())('$name', ({ path, truth }) => {
  test('calls, outcomes, times, streams and registrations match the truth file', async () => {
    const { calls, registers } = await analyzeFile(path);
    expect(calls.map((c) => c.call_id).sort()).toEqual(truth.calls.map((c) => c.call_id).sort());
    for (const t of truth.calls) {
      const c = calls.find((x) => x.call_id === t.call_id)!;
      expect({
        caller: c.caller,
        called: c.called,
        caller_ip: c.caller_ip,
        caller_port: c.caller_port,
        callee_ip: c.callee_ip,
        callee_port: c.callee_port,
        transport: c.transport,
        start: c.start,
        answer: c.answer,
        end: c.end,
        last_sip_code: c.last_sip_code,
        bye_by: c.bye_by,
        state: STATE_OF_REASON[c.end_reason],
        sip_packets: c.sip_packets,
      }).toEqual({
        caller: t.from_user,
        called: t.to_user,
        caller_ip: t.caller_ip,
        caller_port: t.caller_port,
        callee_ip: t.callee_ip,
        callee_port: t.callee_port,
        transport: t.transport,
        start: isoFromEpoch(t.invite_time),
        answer: t.answer_time === null ? null : isoFromEpoch(t.answer_time),
        end: isoFromEpoch(t.end_time),
        last_sip_code: t.final_sip_code,
        bye_by: t.bye_by,
        state: t.state,
        sip_packets: t.sip_messages,
      });
      const expected = truth.rtp_streams
        .filter((s) => s.call_id === t.call_id)
        .map((s) => `${s.ssrc} ${s.src}:${s.src_port} > ${s.dst}:${s.dst_port} ${s.src === t.callee_ip ? 'callee' : 'caller'} ${s.packets}`)
        .sort();
      const got = c.streams.map((s) => `${s.ssrc} ${s.src_ip}:${s.src_port} > ${s.dst_ip}:${s.dst_port} ${s.side} ${s.packets}`).sort();
      expect(got).toEqual(expected);
      // Issue 5: Wireshark's stream figures, exact for counts and within 0.01 ms for times.
      for (const ts of truth.rtp_streams.filter((x) => x.call_id === t.call_id)) {
        const s = c.streams.find((x) => x.ssrc === ts.ssrc && x.src_port === ts.src_port && x.dst_port === ts.dst_port)!;
        // sharkd gave no analysis for the IPv6 capture: there the truth has tshark's 3-decimal text.
        expect({ lost: s.lost, payload_type: s.payload_type }).toEqual({ lost: ts.lost, payload_type: ts.payload_type });
        if (ts.seq_errors !== null) expect(s.seq_errors).toBe(ts.seq_errors);
        expect(Math.abs(s.jitter_max_ms - (ts.sharkd_max_jitter_ms ?? ts.max_jitter_ms))).toBeLessThan(0.01);
        expect(Math.abs(s.jitter_mean_ms - (ts.sharkd_mean_jitter_ms ?? ts.mean_jitter_ms))).toBeLessThan(0.01);
        expect(Math.abs(s.delta_max_ms - (ts.sharkd_max_delta_ms ?? ts.max_delta_ms))).toBeLessThan(0.01);
        // Stream times in the truth are tshark's text (6 decimals); on a nanosecond capture its
        // rounding can differ from ours by one microsecond.
        expect(Math.abs(isoToMicros(s.first) - isoToMicros(isoFromEpoch(ts.start_time)))).toBeLessThanOrEqual(1);
        expect(Math.abs(isoToMicros(s.last) - isoToMicros(isoFromEpoch(ts.end_time)))).toBeLessThanOrEqual(1);
      }
    }
    expect(registers.map((r) => r.call_id).sort()).toEqual(truth.registers.map((r) => r.call_id).sort());
    for (const t of truth.registers) {
      const r = registers.find((x) => x.call_id === t.call_id)!;
      expect({ user: r.user, client_ip: r.client_ip, registrar_ip: r.registrar_ip, first: r.first, last_sip_code: r.last_sip_code, challenged: r.challenged, transactions: r.transactions }).toEqual({
        user: t.to_user,
        client_ip: t.client_ip,
        registrar_ip: t.registrar_ip,
        first: isoFromEpoch(t.first_packet_time),
        last_sip_code: t.final_sip_code,
        challenged: t.challenged,
        transactions: t.transactions.length,
      });
    }
  });
});

describe('DTMF and quality on the impaired captures', () => {
  const byName = new Map(corpusCaptures().map((c) => [c.name, c]));

  test('RFC 2833 digits 1 5 9 # of dtmf-rfc2833 (and its ERSPAN copy) come out once each', async () => {
    for (const name of ['dtmf-rfc2833.pcap', 'encap-erspan2-dtmf.pcap']) {
      const { calls } = await analyzeFile(byName.get(name)!.path);
      expect(calls[0]!.dtmf.map((d) => `${d.digit}/${d.method}`)).toEqual(['1/rfc2833', '5/rfc2833', '9/rfc2833', '#/rfc2833']);
      for (const d of calls[0]!.dtmf) expect(d.duration_ms).toBeGreaterThan(0);
    }
  });

  test('a clean G.711 call scores MOS >= 4.3; 1 % loss scores lower on the impaired direction only', async () => {
    const clean = (await analyzeFile(byName.get('basic-caller-bye-pcma.pcap')!.path)).calls[0]!;
    for (const s of clean.streams) expect(s.mos_adapt).toBeGreaterThanOrEqual(4.3);
    const lossy = (await analyzeFile(byName.get('rtp-loss-1pct.pcap')!.path)).calls[0]!;
    const impaired = lossy.streams.find((s) => s.side === 'caller')!;
    const other = lossy.streams.find((s) => s.side === 'callee')!;
    expect(impaired.lost).toBeGreaterThan(0);
    expect(impaired.loss_bursts[0]).toBeGreaterThan(0);
    expect(impaired.mos_adapt!).toBeLessThan(other.mos_adapt!);
  });
});
