/**
 * Issue 4's acceptance test: every capture of the reference corpus (real sipp calls, tshark truth)
 * analysed by the sniffer gives the truth's calls, outcomes, times to the microsecond, streams and
 * registrations.
 */
import { describe, expect, test } from 'vitest';
import { analyzeFile, corpusCaptures, isoFromEpoch } from './analyze-corpus.js';

const STATE_OF_REASON: Record<string, string> = {
  bye_confirmed: 'COMPLETED',
  bye_unconfirmed: 'COMPLETED',
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
