/**
 * A SIP message over TCP larger than the reassembly bound is lost, but never silently: through the
 * whole pipeline, its call's record says so (`dropped.sip_oversize`), or, when no open call has
 * its Call-ID, `sip.oversize_without_call` counts it (issue 12, finding 4).
 */
import { LinkType, type PacketRecord } from '@callscope/pcap-format';
import type { CallRecord } from '@callscope/cdr-model';
import { describe, expect, test } from 'vitest';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '../src/index.js';

const T0 = 1_795_975_892;
const A = [192, 0, 2, 10];
const B = [198, 51, 100, 20];

/** Raw IPv4 + TCP (ACK|PSH) from A:5060 to B:5060 carrying `payload` at sequence number `seq`. */
function segment(seq: number, payload: Uint8Array, index: number): PacketRecord {
  const data = new Uint8Array(40 + payload.length);
  const v = new DataView(data.buffer);
  data[0] = 0x45;
  v.setUint16(2, data.length);
  data[8] = 64;
  data[9] = 6;
  data.set(A, 12);
  data.set(B, 16);
  v.setUint16(20, 5060);
  v.setUint16(22, 5060);
  v.setUint32(24, seq >>> 0);
  data[32] = 0x50;
  data[33] = 0x18;
  data.set(payload, 40);
  return { linkType: LinkType.Raw, tsSec: T0, tsNsec: index * 1000, capLen: data.length, origLen: data.length, data, interfaceId: 0, index, fileOffset: 0 };
}

const request = (method: string, callId: string, extra = ''): string =>
  `${method} sip:bob@198.51.100.20 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-${method}\r\n` +
  `From: <sip:alice@192.0.2.10>;tag=a1\r\nTo: <sip:bob@198.51.100.20>\r\nCall-ID: ${callId}\r\nCSeq: 1 ${method}\r\n${extra}Content-Length: 0\r\n\r\n`;

/** Every message of `texts` on one TCP flow, cut into 1,400-byte segments. */
function run(texts: string[]): { calls: CallRecord[]; pipeline: PacketPipeline } {
  const calls: CallRecord[] = [];
  const pipeline = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: (r) => calls.push(r), onRegister: () => undefined });
  const bytes = new TextEncoder().encode(texts.join(''));
  let index = 0;
  for (let off = 0; off < bytes.length; off += 1400) pipeline.onPacket(segment(1000 + off, bytes.subarray(off, off + 1400), index++));
  pipeline.finish();
  return { calls, pipeline };
}

/** A header block of about 300 KB: far past the 128 KiB reassembly bound. */
const huge = Array.from({ length: 10_000 }, (_, i) => `X-Pad-${i}: ${'v'.repeat(20)}\r\n`).join('');

describe('an oversize SIP message over TCP', () => {
  test('marks the call whose Call-ID its head carries', () => {
    const { calls, pipeline } = run([request('INVITE', 'call-big@a'), request('INFO', 'call-big@a', huge), request('OPTIONS', 'other@a')]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.dropped).toMatchObject({ sip_oversize: 1 });
    const st = pipeline.stats();
    expect(st.tcp['oversize_messages']).toBe(1);
    expect(st.sip['oversize_without_call']).toBe(0);
    expect(st.sip.methods['OPTIONS']).toBe(1); // the flow resynchronised after it
  });

  test('of no open call is counted, not lost silently', () => {
    const { calls, pipeline } = run([request('INVITE', 'call-1@a'), request('INFO', 'unknown@a', huge)]);
    expect(calls[0]!.dropped).toBeNull();
    expect(pipeline.stats().sip['oversize_without_call']).toBe(1);
  });
});
