/**
 * Issue 19, findings 2 and 3, on real captures (fixtures/carrier: SIPp between network namespaces,
 * truth from tshark): an unanswered BYE retransmitted until RFC 3261 Timer F keeps every
 * retransmission in its call, and a BYE answered 481 or 408 ends as `bye_failed`, not as "no response".
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { isoFromEpoch } from '@callscope/testing';
import { analyzeFile } from './analyze-corpus.js';

const carrier = (name: string) => new URL(`../../../fixtures/carrier/${name}`, import.meta.url).pathname;

interface ByeTruth {
  calls: { call_id: string; sip_messages: number; end_time: number; bye_by: string; bye_requests: number; bye_final_code: number | null }[];
  sip_stat: { messages: number };
}

const truthOf = (name: string) => JSON.parse(readFileSync(carrier(`${name}.truth.json`), 'utf8')) as ByeTruth;

describe('BYE outcomes on real captures', () => {
  test.each([
    ['bye-unanswered', 'bye_unconfirmed'],
    ['bye-481', 'bye_failed'],
    ['bye-408', 'bye_failed'],
  ] as const)('%s: %s, end and SIP count as tshark says, every BYE in the call', async (name, reason) => {
    const truth = truthOf(name);
    const t = truth.calls[0]!;
    const { calls, pipeline } = await analyzeFile(carrier(`${name}.pcap`));
    expect(calls).toHaveLength(1);
    const c = calls[0]!;
    expect({ call_id: c.call_id, end_reason: c.end_reason, end: c.end, bye_by: c.bye_by, sip_packets: c.sip_packets }).toEqual({
      call_id: t.call_id,
      end_reason: reason,
      end: isoFromEpoch(t.end_time),
      bye_by: t.bye_by,
      sip_packets: t.sip_messages,
    });
    // Only what is not the call's (the unanswered capture's closing OPTIONS and its 200) is outside it.
    expect(pipeline.stats().sip.messages - c.sip_packets).toBe(truth.sip_stat.messages - t.sip_messages);
    if (t.bye_final_code !== null) expect(c.sip_responses.filter((r) => r.cseq_method === 'BYE').map((r) => r.code)).toEqual([t.bye_final_code]);
    else expect(t.bye_requests).toBeGreaterThan(8); // retransmitted well past the old 20 s close
  });
});
