/**
 * The packet observer's call number (CallPacketObserver.onPacket): a keeper (the sniffer's spool)
 * holds per-call state in an array by it instead of reading the call's key object per packet. That
 * is only safe if the number is the call's for every packet, never another open call's, and given
 * to a new call only after onCallEnd of the old one. Checked on a real capture of 200 calls, as it
 * is and with the open-call cap forcing evictions (numbers reused constantly).
 */
import type { CallRecord } from '@callscope/cdr-model';
import type { PacketRecord } from '@callscope/pcap-format';
import { readCorpusRecords } from '@callscope/testing';
import { describe, expect, test } from 'vitest';
import type { CallKey, CallPacketKind, CallPacketObserver } from '../src/index.js';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '../src/index.js';

/** Records what the engine tells a keeper and checks the numbering contract as it goes. */
class ContractObserver implements CallPacketObserver {
  /** Open calls' numbers (first packet seen, no onCallEnd yet). */
  private readonly open = new Map<CallKey, number>();
  /** The open call holding each number. */
  private readonly holder = new Map<number, CallKey>();
  readonly kinds: Record<CallPacketKind, number> = { sip: 0, rtp: 0, rtcp: 0 };
  /** Packets kept per Call-ID and kind. */
  readonly perCall = new Map<string, Record<CallPacketKind, number>>();
  readonly violations: string[] = [];
  maxNumber = -1;
  mostOpen = 0;
  ended = 0;
  reused = 0;
  private readonly everUsed = new Set<number>();

  onPacket(call: CallKey, kind: CallPacketKind, _record: PacketRecord, _packet: unknown, callNumber: number): void {
    this.kinds[kind]++;
    const mine = this.perCall.get(call.callId) ?? { sip: 0, rtp: 0, rtcp: 0 };
    mine[kind]++;
    this.perCall.set(call.callId, mine);
    if (!Number.isInteger(callNumber) || callNumber < 0) this.violations.push(`${call.callId}: number ${callNumber}`);
    const known = this.open.get(call);
    if (known === undefined) {
      const other = this.holder.get(callNumber);
      if (other !== undefined) this.violations.push(`${call.callId} got ${callNumber}, still held by open call ${other.callId}`);
      if (this.everUsed.has(callNumber)) this.reused++;
      this.everUsed.add(callNumber);
      this.open.set(call, callNumber);
      this.holder.set(callNumber, call);
      this.mostOpen = Math.max(this.mostOpen, this.open.size);
      this.maxNumber = Math.max(this.maxNumber, callNumber);
    } else if (known !== callNumber) this.violations.push(`${call.callId}: ${kind} packet numbered ${callNumber}, its earlier ones ${known}`);
  }

  holdFragment(): void {}
  releaseFragments(): void {}
  holdUnmatched(): void {}
  claimEarlyMedia(): void {}

  onCallEnd(call: CallKey, callNumber: number): void {
    this.ended++;
    const known = this.open.get(call);
    // A call may end without a kept packet (none reached the keeper): then it held no number here.
    if (known !== undefined && known !== callNumber) this.violations.push(`${call.callId} ended as ${callNumber}, its packets were ${known}`);
    this.open.delete(call);
    if (known !== undefined) this.holder.delete(known);
  }
}

function run(maxOpenCalls: number): { o: ContractObserver; calls: CallRecord[] } {
  const observer = new ContractObserver();
  const calls: CallRecord[] = [];
  const options = { ...DEFAULT_PIPELINE_OPTIONS, calls: { ...DEFAULT_PIPELINE_OPTIONS.calls, maxOpenCalls } };
  const engine = new PacketPipeline(options, { onCall: (c) => calls.push(c), onRegister: () => undefined }, observer);
  for (const r of readCorpusRecords('busy-hour-a.pcap')) engine.onPacket(r);
  engine.finish();
  return { o: observer, calls };
}

describe('the call number given with each kept packet (busy-hour-a: 200 calls)', () => {
  test('every packet of a call carries its number; no two open calls share one; numbers stay below the most calls open at once', () => {
    const { o, calls } = run(DEFAULT_PIPELINE_OPTIONS.calls.maxOpenCalls);
    expect(o.violations).toEqual([]);
    // And each packet went to its own call: what the keeper got per call is what its record counted.
    for (const c of calls) {
      const kept = o.perCall.get(c.call_id);
      expect({ call: c.call_id, sip: kept?.sip, rtp: kept?.rtp }).toEqual({ call: c.call_id, sip: c.sip_packets, rtp: c.streams.reduce((n, s) => n + s.packets, 0) });
    }
    expect(o.kinds.sip).toBeGreaterThan(1000);
    expect(o.kinds.rtp).toBeGreaterThan(10_000); // the RTP fast path (number from the endpoint slot) is exercised
    expect(o.ended).toBe(200);
    expect(o.maxNumber).toBeLessThan(o.mostOpen);
  });

  test('with at most 3 calls open (evictions), numbers are handed on only after onCallEnd and stay in 0..2', () => {
    const { o } = run(3);
    expect(o.violations).toEqual([]);
    expect(o.maxNumber).toBeLessThanOrEqual(2);
    expect(o.reused).toBeGreaterThan(100);
    expect(o.kinds.rtp).toBeGreaterThan(1000);
  });
});
