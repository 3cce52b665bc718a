import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LinkType } from '@callscope/pcap-format';
import { corpusPath, readCorpusRecords, readTruth } from '@callscope/testing';
import { AudioLeg, AudioLegsLayout, CallAudioRenderer, PayloadTypeMap, RtpHeader, RtpStatus, US_PER_SAMPLE, isRtcp, parseRtpHeader } from '../src/index.js';

/**
 * Independent oracle for the call audio (issue 14 "Done when"): each leg of the rendered stereo
 * output equals tshark's RTP payload export of the same stream decoded by sox, sample for sample
 * (no packet is lost in these captures; the comparison is per packet, so it would also hold with
 * loss). Our side reads the capture with @callscope/pcap-format (and the Ethernet/IPv4/UDP
 * reader below); tshark and sox share no code with it.
 */
const work = mkdtempSync(join(tmpdir(), 'hF-audio-oracle-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function tool(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args, { maxBuffer: 256 * 1024 * 1024 });
  if (r.error !== undefined) {
    throw new Error(`${cmd} is needed by this oracle test and could not run (${r.error.message}); install it: apt-get install -y ${cmd === 'tshark' ? 'tshark' : 'sox'} (npm test installs both through scripts/ensure.mjs)`);
  }
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return r.stdout;
}

interface OraclePacket {
  seq: number;
  timestamp: number;
  samples: Int16Array;
}

/** tshark: the stream's packets (seq, timestamp, payload) in capture order; sox: their A-/µ-law decode. */
function oracleStream(pcap: string, ssrc: number, law: 'al' | 'ul'): OraclePacket[] {
  const text = tool('tshark', ['-r', pcap, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', `rtp.ssrc==0x${ssrc.toString(16)}`, '-T', 'fields', '-e', 'rtp.seq', '-e', 'rtp.timestamp', '-e', 'rtp.payload']).toString();
  const rows = text.trim().split('\n').map((l) => l.split('\t'));
  const payloads = rows.map((r) => Buffer.from(r[2]!.replaceAll(':', ''), 'hex'));
  const raw = join(work, `${ssrc}.${law}`);
  const pcm = join(work, `${ssrc}.s16`);
  writeFileSync(raw, Buffer.concat(payloads));
  tool('sox', ['-t', law, '-r', '8000', '-c', '1', raw, '-t', 's16', '-L', pcm]);
  const bytes = readFileSync(pcm);
  const all = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  expect(all.length).toBe(Buffer.concat(payloads).length);
  let at = 0;
  return rows.map((r, i) => {
    const n = payloads[i]!.length;
    const p = { seq: Number(r[0]), timestamp: Number(r[1]), samples: all.subarray(at, at + n) };
    at += n;
    return p;
  });
}

interface Udp {
  src: string;
  srcPort: number;
  dstPort: number;
  offset: number;
  length: number;
}

/**
 * The UDP payload of an Ethernet / IPv4 frame, unfragmented (what these two captures hold; a
 * fixture with anything else fails loudly rather than losing packets). Kept to the test so that
 * libs/rtp needs no dependency on @callscope/packet for one oracle.
 */
function ethernetIpv4Udp(linkType: number, f: Uint8Array, out: Udp): boolean {
  if (linkType !== LinkType.Ethernet) throw new Error(`link type ${linkType}: this oracle reads Ethernet captures only`);
  const etherType = (f[12]! << 8) | f[13]!;
  if (etherType === 0x0806 || etherType === 0x86dd) return false; // ARP, IPv6: no RTP of these calls
  if (etherType !== 0x0800) throw new Error(`EtherType 0x${etherType.toString(16)}: not expected in this fixture`);
  const ip = 14;
  const ihl = (f[ip]! & 0x0f) * 4;
  const totalLength = (f[ip + 2]! << 8) | f[ip + 3]!;
  if (((f[ip + 6]! & 0x3f) << 8 | f[ip + 7]!) !== 0) throw new Error('IPv4 fragment: not expected in this fixture');
  if (f[ip + 9] !== 17) return false;
  const udp = ip + ihl;
  out.src = `${f[ip + 12]}.${f[ip + 13]}.${f[ip + 14]}.${f[ip + 15]}`;
  out.srcPort = (f[udp]! << 8) | f[udp + 1]!;
  out.dstPort = (f[udp + 2]! << 8) | f[udp + 3]!;
  out.offset = udp + 8;
  out.length = ((f[udp + 4]! << 8) | f[udp + 5]!) - 8;
  if (ip + totalLength > f.length || out.offset + out.length > ip + totalLength) throw new Error('truncated frame in this fixture');
  return true;
}

interface OurStream {
  ssrc: number;
  leg: AudioLeg;
  firstArrivalUs: number;
  firstTimestamp: number;
  packets: number;
}

/** Read the capture, feed every RTP packet of the call (both legs, arrival order) to a stereo renderer. */
function renderCall(file: string): { left: Int16Array; right: Int16Array; originUs: number; frames: number; streams: Map<number, OurStream>; r: CallAudioRenderer } {
  const callerIp = readTruth(file).calls[0]!.caller_ip;
  const h = new RtpHeader();
  const packets: { leg: AudioLeg; h: RtpHeader; buf: Uint8Array; arrivalUs: number }[] = [];
  const streams = new Map<number, OurStream>();
  const u: Udp = { src: '', srcPort: 0, dstPort: 0, offset: 0, length: 0 };
  for (const rec of readCorpusRecords(file)) {
    if (!ethernetIpv4Udp(rec.linkType, rec.data, u)) continue;
    if (u.srcPort === 5060 || u.dstPort === 5060) continue;
    if (isRtcp(rec.data, u.offset, u.length)) continue;
    if (parseRtpHeader(rec.data, u.offset, u.length, h) !== RtpStatus.Ok) continue;
    const arrivalUs = rec.tsSec * 1_000_000 + Math.floor(rec.tsNsec / 1000);
    const leg = u.src === callerIp ? AudioLeg.Caller : AudioLeg.Callee;
    // The parsed header object is reused: keep a copy, with the payload cut out (offset 0).
    const copy = Object.assign(new RtpHeader(), h, { payloadOffset: 0 });
    packets.push({ leg, h: copy, buf: rec.data.slice(h.payloadOffset, h.payloadOffset + h.payloadLength), arrivalUs });
    const s = streams.get(h.ssrc);
    if (s === undefined) streams.set(h.ssrc, { ssrc: h.ssrc, leg, firstArrivalUs: arrivalUs, firstTimestamp: h.timestamp, packets: 1 });
    else s.packets++;
  }
  const originUs = packets[0]!.arrivalUs;
  const endUs = packets.at(-1)!.arrivalUs + 20_000; // the last packet's 20 ms
  const map = new PayloadTypeMap();
  map.setRtpmap(101, 'telephone-event', 8000);
  const chunks: Uint8Array[] = [];
  const r = new CallAudioRenderer({ originUs, endUs, layout: AudioLegsLayout.Stereo, callerPayloadTypes: map, onChunk: (c) => chunks.push(c) });
  for (const p of packets) r.push(p.leg, p.h, p.buf, p.arrivalUs);
  r.finish();
  const all = Buffer.concat(chunks);
  const pcm = new Int16Array(all.buffer.slice(all.byteOffset, all.byteOffset + all.length));
  const frames = pcm.length / 2;
  const left = new Int16Array(frames);
  const right = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = pcm[2 * i]!;
    right[i] = pcm[2 * i + 1]!;
  }
  return { left, right, originUs, frames, streams, r };
}

describe('call audio against tshark RTP payload export + sox (independent decode)', () => {
  for (const [file, law] of [
    ['basic-caller-bye-pcma.pcap', 'al'],
    ['basic-callee-bye-pcmu.pcap', 'ul'],
  ] as const) {
    it(`${file}: each leg equals the sox decode sample for sample; duration = media span`, () => {
      const truth = readTruth(file);
      const { left, right, originUs, frames, streams, r } = renderCall(file);
      expect(streams.size).toBe(truth.rtp_streams.length);
      // Duration: the media span (first to last RTP arrival plus one 20 ms packet).
      const spanS = Math.max(...truth.rtp_streams.map((s) => s.end_time)) - Math.min(...truth.rtp_streams.map((s) => s.start_time)) + 0.02;
      expect(Math.abs(frames / 8000 - spanS)).toBeLessThan(0.02);
      for (const leg of [AudioLeg.Caller, AudioLeg.Callee]) {
        const c = r.leg(leg);
        expect([c.late, c.duplicates, c.restarts, c.unsupported, c.clippedSamples], `leg ${leg} counters`).toEqual([0, 0, 0, 0, 0]);
      }
      for (const s of streams.values()) {
        const t = truth.rtp_streams.find((x) => x.ssrc === `0x${s.ssrc.toString(16).padStart(8, '0')}`)!;
        expect(t.lost).toBe(0);
        const channel = s.leg === AudioLeg.Caller ? left : right;
        const oracle = oracleStream(corpusPath(file), s.ssrc, law);
        expect(oracle.length).toBe(s.packets);
        const first = Math.round((s.firstArrivalUs - originUs) / US_PER_SAMPLE);
        let compared = 0;
        let lastEnd = 0;
        for (const p of oracle) {
          const pos = first + ((p.timestamp - s.firstTimestamp) | 0);
          const got = channel.subarray(pos, pos + p.samples.length);
          // Array equality on 160 numbers gives a readable diff when one differs.
          expect(Array.from(got), `${file} ssrc ${s.ssrc.toString(16)} seq ${p.seq}`).toEqual(Array.from(p.samples));
          compared += p.samples.length;
          lastEnd = Math.max(lastEnd, pos + p.samples.length);
        }
        expect(compared).toBeGreaterThan(50_000);
        // Outside the stream's span the leg is silence (one stream per leg here).
        expect(channel.subarray(0, first).every((x) => x === 0)).toBe(true);
        expect(channel.subarray(lastEnd).every((x) => x === 0)).toBe(true);
      }
    });
  }
});
