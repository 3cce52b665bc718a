/**
 * Issue 13, "the corpus SIP sent as HEP3 over UDP and over TCP gives the same calls": every SIP
 * message of each corpus capture is sent as HEP3 (the inner addresses, ports, protocol and the
 * capture time, as a HEP agent on the capture point would send it) to a real HepListener on
 * 127.0.0.1 feeding a real PacketPipeline with the daemon's options; the calls and registrations
 * must equal those of the same pipeline on the capture's own SIP packets (RTP is not sent: HEP
 * agents send signalling), on every clock-free field and on the times, which HEP carries.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PacketPipeline, type PipelineOptions } from '@callscope/call-engine';
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';
import { DecodeStatus, PacketDecoder, Transport, createDecodedPacket, type DecodedPacket } from '@callscope/packet';
import type { PacketRecord } from '@callscope/pcap-format';
import { SipFraming, SipFrame, frameSipMessage } from '@callscope/sip-parser';
import { corpusCaptures, readCorpusRecords } from '@callscope/testing';
import { pipelineOptionsFrom } from '../src/cli/analyze.cli.js';
import { loadSnifferConfig } from '../src/config.js';
import { HepListener } from '../src/sources/hep-listener.js';
import { encodeHep3 } from './hep-encode.js';

const config = loadSnifferConfig([], {}).config;

/** The daemon's pipeline options with `port` decoded as HEP (what `sniffer run` does for --hep-listen). */
function optionsWithHepPort(port: number): PipelineOptions {
  const o = pipelineOptionsFrom(config, 'sensor1');
  return { ...o, decoder: { ...o.decoder, hepPorts: [...(o.decoder.hepPorts ?? []), port] } };
}

function addressBytes(p: DecodedPacket, src: boolean): Uint8Array {
  if (p.ipVersion === 4) {
    const v = src ? p.src4 : p.dst4;
    return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  const w = src ? p.src6 : p.dst6;
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) out.set([w[i]! >>> 24, (w[i]! >>> 16) & 0xff, (w[i]! >>> 8) & 0xff, w[i]! & 0xff], 4 * i);
  return out;
}

/**
 * The capture split the way a HEP agent on the capture point would see it: the SIP packets
 * themselves (for the reference run: UDP SIP, every TCP segment on a SIP port, IP fragments) and
 * the HEP3 messages (one per UDP SIP datagram, one per whole SIP message of a TCP stream).
 */
function splitCapture(records: readonly PacketRecord[]): { reference: PacketRecord[]; hep: Uint8Array[] } {
  const sipPorts = new Set(config.sip.ports);
  const decoder = new PacketDecoder(pipelineOptionsFrom(config, 'sensor1').decoder);
  const p = createDecodedPacket();
  const frame = new SipFrame();
  const streams = new Map<string, { next: number; bytes: Uint8Array }>();
  const reference: PacketRecord[] = [];
  const hep: Uint8Array[] = [];
  const toHep = (payload: Uint8Array, proto: number) => {
    // HEP carries µs: nanosecond captures (ipv6-call, register-auth) are rounded to the nearest
    // µs, as the records' ISO times are, so that the times still compare equal.
    const us = Math.round(p.tsNsec / 1000);
    return encodeHep3({
      src: addressBytes(p, true),
      dst: addressBytes(p, false),
      srcPort: p.srcPort,
      dstPort: p.dstPort,
      proto,
      tsSec: us === 1_000_000 ? p.tsSec + 1 : p.tsSec,
      tsUsec: us === 1_000_000 ? 0 : us,
      payload,
    });
  };
  for (const rec of records) {
    const st = decoder.decode(rec.data, 0, rec.capLen, rec.linkType, rec.tsSec, rec.tsNsec, p);
    if (st === DecodeStatus.Fragment) {
      reference.push(rec);
      continue;
    }
    if (st !== DecodeStatus.Ok) continue;
    const payload = p.payload.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength);
    const onSipPort = sipPorts.has(p.srcPort) || sipPorts.has(p.dstPort);
    if (p.transport === Transport.Udp) {
      if (payload.length === 0 || (!onSipPort && frameSipMessage(payload, 0, payload.length, frame) === SipFraming.NotSip)) continue;
      reference.push(rec);
      hep.push(toHep(payload.slice(), 17));
    } else if (p.transport === Transport.Tcp && onSipPort) {
      reference.push(rec);
      // The stream in order (the corpus has no reordering on TCP; retransmitted bytes skipped).
      const key = `${addressBytes(p, true).join('.')}:${p.srcPort}>${addressBytes(p, false).join('.')}:${p.dstPort}`;
      const syn = (p.tcpFlags & 0x02) !== 0;
      let s = streams.get(key);
      if (s === undefined) {
        s = { next: (p.tcpSeq + (syn ? 1 : 0)) >>> 0, bytes: new Uint8Array(0) };
        streams.set(key, s);
        if (syn) continue;
      }
      const skip = (s.next - p.tcpSeq) | 0;
      if (skip < 0 || skip >= payload.length) continue;
      const fresh = payload.subarray(skip);
      s.next = (s.next + fresh.length) >>> 0;
      const joined = new Uint8Array(s.bytes.length + fresh.length);
      joined.set(s.bytes);
      joined.set(fresh, s.bytes.length);
      let off = 0;
      for (;;) {
        const f = frameSipMessage(joined, off, joined.length - off, frame);
        if (f !== SipFraming.Complete && f !== SipFraming.Multiple) break;
        hep.push(toHep(joined.slice(frame.offset, frame.offset + frame.length), 6));
        off = frame.offset + frame.length;
      }
      s.bytes = joined.slice(off);
    }
  }
  return { reference, hep };
}

/** Runs `records` through a pipeline with the daemon's options. */
function analyze(records: readonly PacketRecord[], port: number) {
  const calls: CallRecord[] = [];
  const registers: RegisterRecord[] = [];
  const pipeline = new PacketPipeline(optionsWithHepPort(port), { onCall: (c) => calls.push(c), onRegister: (r) => registers.push(r) });
  for (const r of records) pipeline.onPacket(r);
  pipeline.finish();
  return { calls, registers };
}

const CALL_FIELDS = ['call_id', 'caller', 'called', 'caller_domain', 'called_domain', 'caller_ip', 'caller_port', 'callee_ip', 'callee_port', 'transport', 'start', 'answer', 'end', 'duration', 'pdd_ms', 'last_sip_code', 'last_sip_reason', 'bye_by', 'end_reason', 'sip_packets'] as const;
const REGISTER_FIELDS = ['call_id', 'user', 'domain', 'contact', 'expires', 'result', 'last_sip_code', 'first', 'last'] as const;

function pick(rows: readonly object[], fields: readonly string[]): Record<string, unknown>[] {
  return rows
    .map((r) => Object.fromEntries(fields.map((f) => [f, (r as Record<string, unknown>)[f]])))
    .sort((a, b) => String(a.call_id).localeCompare(String(b.call_id)) || String(a.start ?? a.first).localeCompare(String(b.start ?? b.first)));
}

async function waitFor(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Sends the messages as HEP over `transport` to a listener feeding a pipeline; its records. */
async function viaListener(messages: readonly Uint8Array[], transport: 'udp' | 'tcp') {
  const calls: CallRecord[] = [];
  const registers: RegisterRecord[] = [];
  let pipeline: PacketPipeline | null = null;
  const listener = new HepListener({ host: '127.0.0.1', port: 0 }, (rec) => {
    pipeline!.onPacket(rec);
  });
  await listener.start();
  const port = listener.address().port;
  pipeline = new PacketPipeline(optionsWithHepPort(port), { onCall: (c) => calls.push(c), onRegister: (r) => registers.push(r) });
  try {
    if (transport === 'udp') {
      const s = createSocket('udp4');
      // In bursts the socket buffer holds, waiting for the listener: loopback loses nothing then.
      for (let i = 0; i < messages.length; i++) {
        await new Promise<void>((res, rej) => {
          s.send(messages[i]!, port, '127.0.0.1', (err) => {
            if (err) rej(err);
            else res();
          });
        });
        if (i % 32 === 31) await waitFor('udp burst', () => listener.stats().received === i + 1);
      }
      await waitFor('all UDP messages', () => listener.stats().received === messages.length);
      s.close();
    } else {
      const s = connect({ host: '127.0.0.1', port });
      await new Promise<void>((res, rej) => {
        s.once('connect', res);
        s.once('error', rej);
      });
      // One stream cut into 1,000-byte writes: messages span segments, segments hold several.
      const all = Buffer.concat(messages);
      for (let off = 0; off < all.length; off += 1000) s.write(all.subarray(off, off + 1000));
      await waitFor('all TCP messages', () => listener.stats().received === messages.length);
      s.destroy();
    }
    const st = listener.stats();
    expect(st.received).toBe(messages.length);
    expect(st.bad_not_hep + st.bad_length + st.bad_oversize + st.bad_truncated_at_close + st.kernel_drops).toBe(0);
    pipeline.finish();
    // Every message decoded as HEP (none left as plain UDP to the listener, none refused).
    const fates = pipeline.stats().fates;
    expect(Object.entries(fates).filter(([k, n]) => n > 0 && (k.startsWith('not_decoded') || k === 'udp_other'))).toEqual([]);
    return { calls, registers, port };
  } finally {
    await listener.stop();
  }
}

describe('corpus SIP as HEP3 through a HepListener gives the calls of the capture', () => {
  const captures = corpusCaptures();
  it('has captures with calls over UDP, over TCP and registrations', () => {
    expect(captures.length).toBeGreaterThan(10);
  });

  for (const cap of captures) {
    for (const transport of ['udp', 'tcp'] as const) {
      it(`${cap.name} over ${transport}`, async () => {
        const { reference, hep } = splitCapture(readCorpusRecords(cap.name));
        expect(hep.length).toBeGreaterThan(0);
        const got = await viaListener(hep, transport);
        const ref = analyze(reference, got.port);
        expect(ref.calls.length + ref.registers.length).toBeGreaterThan(0);
        expect(pick(got.calls, CALL_FIELDS)).toEqual(pick(ref.calls, CALL_FIELDS));
        expect(pick(got.registers, REGISTER_FIELDS)).toEqual(pick(ref.registers, REGISTER_FIELDS));
      });
    }
  }
});
