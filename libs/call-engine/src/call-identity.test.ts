// Call identity is the Call-ID's exact bytes (callscope issue 12, finding 5): two dialogs whose
// Call-IDs differ must never share a call record, and a Call-ID that names no dialog (empty or
// blank) must never make one. Built from the first INVITE of a real capture.
import { DecodeStatus, PacketDecoder, Transport, buildIpFrame, createDecodedPacket, ipFrameHeaderLength } from '@callscope/packet';
import { LinkType, type PacketRecord } from '@callscope/pcap-format';
import { SessionDescription, SipMessage, SipStatus, parseSipMessage } from '@callscope/sip-parser';
import { readCorpusRecords } from '@callscope/testing';
import type { CallRecord } from '@callscope/cdr-model';
import { describe, expect, test } from 'vitest';
import { CallTable, DEFAULT_CALL_TABLE_OPTIONS } from './call-table.js';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from './packet-pipeline.js';
import { toSipEvent } from './sip-adapter.js';

const CAPTURE = 'basic-caller-bye-pcma.pcap';
const CALL_ID = ascii('1-2798@192.0.2.10');

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** The capture's first INVITE: its record and its decoded UDP packet. */
function firstInvite() {
  const decoder = new PacketDecoder();
  const p = createDecodedPacket();
  for (const r of readCorpusRecords(CAPTURE)) {
    if (decoder.decode(r.data, 0, r.capLen, r.linkType, r.tsSec, r.tsNsec, p) !== DecodeStatus.Ok || p.transport !== Transport.Udp) continue;
    const payload = p.payload.slice(p.payloadOffset, p.payloadOffset + p.payloadLength);
    if (payload[0] === 0x49 /* I */) return { record: r, packet: p, payload };
  }
  throw new Error(`no INVITE in ${CAPTURE}`);
}

/** The payload with its Call-ID value replaced by `callId` (raw bytes, not text). */
function withCallId(payload: Uint8Array, callId: Uint8Array): Uint8Array {
  let at = -1;
  for (let i = 0; i + CALL_ID.length <= payload.length && at < 0; i++) {
    if (CALL_ID.every((b, k) => payload[i + k] === b)) at = i;
  }
  expect(at).toBeGreaterThan(0);
  const out = new Uint8Array(payload.length - CALL_ID.length + callId.length);
  out.set(payload.subarray(0, at));
  out.set(callId, at);
  out.set(payload.subarray(at + CALL_ID.length), at + callId.length);
  return out;
}

/** The INVITE with another Call-ID, as a raw-IP record of the same addresses, ports and time. */
function inviteRecord(callId: Uint8Array, ms: number): PacketRecord {
  const { record, packet, payload } = firstInvite();
  const sip = withCallId(payload, callId);
  const data = new Uint8Array(ipFrameHeaderLength(packet, sip.length) + sip.length);
  const n = buildIpFrame(packet, sip, 0, sip.length, data, 0);
  const ns = record.tsNsec + ms * 1_000_000;
  return { ...record, linkType: LinkType.Raw, tsSec: record.tsSec + Math.floor(ns / 1e9), tsNsec: ns % 1e9, capLen: n, origLen: n, data };
}

function runPipeline(records: PacketRecord[]) {
  const calls: CallRecord[] = [];
  const pipeline = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: (c) => calls.push(c), onRegister: () => undefined });
  for (const r of records) pipeline.onPacket(r);
  pipeline.finish();
  return { calls, pipeline };
}

describe('Call-ID identity by exact bytes', () => {
  test('the real INVITE unchanged gives one call with its Call-ID (the harness works)', () => {
    const { calls } = runPipeline([inviteRecord(CALL_ID, 0)]);
    expect(calls.map((c) => c.call_id)).toEqual(['1-2798@192.0.2.10']);
  });

  test('Call-IDs abc\\xff@h and abc\\xfe@h (not UTF-8): two calls with distinct call_id, not one', () => {
    const { calls } = runPipeline([inviteRecord(ascii('abc\xff@h'), 0), inviteRecord(ascii('abc\xfe@h'), 10)]);
    expect(calls.map((c) => c.call_id).sort()).toEqual(['abc\\xfe@h', 'abc\\xff@h']);
  });

  test('through the call table directly: two SipEvents, two records', () => {
    const { packet, payload } = firstInvite();
    const env = { tsUs: 1_000_000, srcIp: '192.0.2.10', srcPort: packet.srcPort, dstIp: '198.51.100.20', dstPort: packet.dstPort, transport: 'udp' as const, vlan: null };
    const records: CallRecord[] = [];
    const table = new CallTable(DEFAULT_CALL_TABLE_OPTIONS, (r) => records.push(r));
    const msg = new SipMessage();
    const sdp = new SessionDescription();
    for (const id of ['abc\xff@h', 'abc\xfe@h']) {
      const b = withCallId(payload, ascii(id));
      expect(parseSipMessage(b, 0, b.length, msg)).toBe(SipStatus.Ok);
      table.onSip(toSipEvent(msg, env, sdp)!);
    }
    table.flush();
    expect(records).toHaveLength(2);
  });

  test('an empty and a blank Call-ID: rejected with a named status, never a call', () => {
    const { calls, pipeline } = runPipeline([inviteRecord(ascii(''), 0), inviteRecord(ascii('   '), 10)]);
    expect(calls).toEqual([]);
    const rejected = pipeline.counters.sipRejected;
    expect(Object.values(rejected).reduce((a, b) => a + b, 0)).toBe(2);
    // The pipeline keys rejections by status (its number or its name): BadCallId, not the
    // catch-all of messages the adapter refused.
    const key = Object.keys(rejected)[0];
    expect([String(SipStatus.BadCallId), 'BadCallId']).toContain(key);
  });
});
