/**
 * Opus call audio end to end in the lib: opusenc encodes a sox signal, its Ogg pages' Opus packets
 * become RTP (dynamic PT 111, `a=rtpmap:111 opus/48000/2`) in a capture written with pcap-store's
 * PcapWriter next to an INVITE / 200 OK with SDP, the capture is spooled (test/spool-from-capture)
 * and openCallAudio renders it. Each leg must match `opusdec --rate 8000` of the same file (SNR >
 * 30 dB: two builds of libopus; aligned by the Ogg pre-skip RTP does not carry), the WAV must last
 * the media span, and its size be the planned one.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { oggPackets, pcmOf, runTool, snrDb } from '@callscope/testing';
import { PcapWriter } from '@callscope/pcap-store';
import { opusPacketSamples } from '@callscope/rtp';
import { spoolFromCapture } from '../test/spool-from-capture.js';
import { readCallAudio } from './index.js';

const work = mkdtempSync(join(tmpdir(), 'hA-call-audio-opus-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** Ethernet II / IPv4 / UDP frame (checksum computed). */
function udpFrame(src: readonly number[], srcPort: number, dst: readonly number[], dstPort: number, payload: Uint8Array): Buffer {
  const f = Buffer.alloc(42 + payload.length);
  Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]).copy(f, 0);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(28 + payload.length, 16);
  f[22] = 64;
  f[23] = 17;
  Buffer.from(src).copy(f, 26);
  Buffer.from(dst).copy(f, 30);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += f.readUInt16BE(14 + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  f.writeUInt16BE(~sum & 0xffff, 24);
  f.writeUInt16BE(srcPort, 34);
  f.writeUInt16BE(dstPort, 36);
  f.writeUInt16BE(8 + payload.length, 38);
  Buffer.from(payload).copy(f, 42);
  return f;
}

const CALLER = [10, 0, 0, 1];
const CALLEE = [10, 0, 0, 2];
const CALL_ID = 'opus-call@10.0.0.1';

function sip(firstLine: string, from: readonly number[], port: number): Buffer {
  const body = `v=0\r\no=- 1 1 IN IP4 ${from.join('.')}\r\ns=-\r\nc=IN IP4 ${from.join('.')}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 111 101\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n`;
  const response = firstLine.startsWith('SIP/');
  const head = [firstLine, 'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-opus', 'From: <sip:alice@example.com>;tag=a', `To: <sip:bob@example.com>${response ? ';tag=b' : ''}`, `Call-ID: ${CALL_ID}`, 'CSeq: 1 INVITE', 'Content-Type: application/sdp', `Content-Length: ${body.length}`];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`);
}

function rtp(ssrc: number, seq: number, ts: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 111;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

describe('Opus calls (dynamic PT, rtpmap opus/48000/2) from the spool', () => {
  test('each leg equals opusdec --rate 8000 (SNR > 30 dB), duration = media span, exact WAV size', async () => {
    // Two different signals, one per leg, so a swapped leg would fail.
    const legs = [
      { name: 'caller', synth: ['sine', '300-2500'], src: CALLER, srcPort: 4000, dst: CALLEE, dstPort: 4002, ssrc: 0x11, lagUs: 0 },
      { name: 'callee', synth: ['sine', '2000-400'], src: CALLEE, srcPort: 4002, dst: CALLER, dstPort: 4000, ssrc: 0x22, lagUs: 7000 },
    ];
    const encoded = legs.map((l) => {
      const wav = join(work, `${l.name}.wav`);
      const opus = join(work, `${l.name}.opus`);
      const dec = join(work, `${l.name}.8k.wav`);
      runTool('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', wav, 'synth', '3', ...l.synth, 'vol', '0.4']);
      // 64 kb/s: at 24 kb/s (SILK / hybrid modes) the caller's signal still matched at 72 dB but
      // the callee's fell to 19.5 dB: the two libopus builds' SILK decoders differ there.
      runTool('opusenc', ['--quiet', '--framesize', '20', '--bitrate', '64', wav, opus]);
      runTool('opusdec', ['--quiet', '--no-dither', '--rate', '8000', opus, dec]);
      const packets = oggPackets(readFileSync(opus));
      return { packets: packets.slice(2), preSkip48k: packets[0]!.readUInt16LE(10), reference: pcmOf(dec) };
    });

    const startSec = 1_795_000_000;
    const capture = join(work, 'opus-call.pcap');
    const writer = new PcapWriter(createWriteStream(capture), { linkType: 1, });
    const at = (us: number, frame: Buffer): Promise<void> | undefined => writer.writePacket(startSec + Math.floor(us / 1e6), (us % 1e6) * 1000, frame);
    await at(0, udpFrame(CALLER, 5060, CALLEE, 5060, sip('INVITE sip:bob@example.com SIP/2.0', CALLER, 4000)));
    await at(100_000, udpFrame(CALLEE, 5060, CALLER, 5060, sip('SIP/2.0 200 OK', CALLEE, 4002)));
    const firstUs = 200_000;
    const n = Math.min(encoded[0]!.packets.length, encoded[1]!.packets.length);
    for (let k = 0; k < n; k++) {
      for (const [i, l] of legs.entries()) {
        const p = encoded[i]!.packets[k]!;
        expect(opusPacketSamples(p, 0, p.length, 48000)).toBe(960);
        await at(firstUs + k * 20_000 + l.lagUs, udpFrame(l.src, l.srcPort, l.dst, l.dstPort, rtp(l.ssrc, 100 + k, 5000 + k * 960, p)));
      }
    }
    await writer.close();

    const spoolDir = join(work, 'spool');
    const query = { callId: CALL_ID, startSec, startUsec: 0 };
    await spoolFromCapture(capture, spoolDir, query);
    const chunks: Uint8Array[] = [];
    const r = await readCallAudio(spoolDir, query, { layout: 'stereo', onChunk: (c) => void chunks.push(c) });
    const wav = Buffer.concat(chunks);
    expect(wav.length).toBe(r.wavBytes);
    expect(r.streams.map((s) => `${s.side} ${s.codec} ${s.payloadTypes.join('/')}`).sort()).toEqual(['callee opus 111', 'caller opus 111']);
    // Media span: first caller packet to the last callee packet plus its 20 ms.
    expect(r.frames).toBe(((n - 1) * 20_000 + legs[1]!.lagUs + 20_000) / 125);
    for (const [leg, c] of [r.caller, r.callee].entries()) expect(c, legs[leg]!.name).toMatchObject({ packets: n, late: 0, unsupported: 0, undecodable: 0, restarts: 0 });
    const pcm = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length));
    for (const [i, l] of legs.entries()) {
      const channel = pcm.filter((_, j) => j % 2 === i);
      const e = encoded[i]!;
      // The leg starts at its first arrival; opusdec's output starts after the pre-skip.
      const lag = Math.round(l.lagUs / 125) + e.preSkip48k / 6;
      const reference = e.reference.subarray(0, n * 160 - e.preSkip48k / 6);
      const snr = snrDb(reference, channel, lag);
      expect(snr, `${l.name} SNR ${snr.toFixed(1)} dB`).toBeGreaterThan(30);
      expect(snrDb(reference, channel, lag + 2), `${l.name} misaligned by 2 samples`).toBeLessThan(snr - 10);
    }
  });
});
