/**
 * Opus call audio against a real encoder and decoder (opus-tools): a test signal made by sox is
 * encoded by opusenc, its Ogg pages' Opus packets become RTP packets (PT 111, 48 kHz clock) fed to
 * CallAudioRenderer with libopus-in-WASM decoders (npm opus-decoder), and the leg is compared with
 * `opusdec --rate 8000` of the same file (libopus of the system, decoding at 8 kHz too). The two
 * are different builds of libopus, so the comparison is by SNR (> 30 dB stated; measured figures
 * in the README), aligned by the Ogg pre-skip that opusdec applies and RTP does not carry.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oggPackets, pcmOf, runTool, snrDb } from '@callscope/testing';
import {
  AudioLeg,
  AudioLegsLayout,
  CallAudioRenderer,
  PayloadTypeMap,
  assertAudioDecodable,
  opusPacketSamples,
  type AudioRtpFields,
} from '../src/index.js';
import { createOpusAudioDecoder } from '../src/opus.js';

const work = mkdtempSync(join(tmpdir(), 'hA-audio-opus-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const ORIGIN = 1_795_975_893_000_000;
const OPUS_PT = 111;

interface Encoded {
  packets: Buffer[];
  preSkip48k: number;
  reference: Int16Array;
}

/** sox signal → opusenc (frames of `frameMs`) → the Opus packets, and opusdec's 8 kHz decode. */
function encode(frameMs: number, name: string): Encoded {
  const wav = join(work, `${name}.wav`);
  const opus = join(work, `${name}.opus`);
  const dec = join(work, `${name}.8k.wav`);
  // Speech-band content that changes over time: a sweep with a second tone. (White noise, with
  // energy up to 24 kHz, brings the two libopus builds' 8 kHz decodes down to ~20 dB apart: they
  // band-limit differently; within the band they agree to ~70 dB.)
  runTool('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', wav, 'synth', '4', 'sine', '200-3000', 'sine', '440', 'vol', '0.3']);
  runTool('opusenc', ['--quiet', '--framesize', String(frameMs), '--bitrate', '32', wav, opus]);
  runTool('opusdec', ['--quiet', '--no-dither', '--rate', '8000', opus, dec]);
  const all = oggPackets(readFileSync(opus));
  expect(all[0]!.toString('latin1', 0, 8)).toBe('OpusHead');
  expect(all[1]!.toString('latin1', 0, 8)).toBe('OpusTags');
  return { packets: all.slice(2), preSkip48k: all[0]!.readUInt16LE(10), reference: pcmOf(dec) };
}

/** RTP-carried packets rendered on the caller leg; `drop` leaves packets out (lost). */
async function render(e: Encoded, drop: ReadonlySet<number> = new Set()): Promise<{ pcm: Int16Array; r: CallAudioRenderer }> {
  const map = new PayloadTypeMap();
  map.setRtpmap(OPUS_PT, 'opus', 48000);
  const caller = await createOpusAudioDecoder();
  const callee = await createOpusAudioDecoder();
  const chunks: Uint8Array[] = [];
  let ts = 0x7fff_f000; // near the 32-bit signed boundary: the serial difference must hold
  let atUs = ORIGIN;
  const timed: { h: AudioRtpFields; buf: Uint8Array; atUs: number }[] = [];
  e.packets.forEach((p, k) => {
    const samples48k = opusPacketSamples(p, 0, p.length, 48000);
    expect(samples48k, `packet ${k}`).toBeGreaterThan(0);
    if (!drop.has(k)) timed.push({ h: { ssrc: 0xabc, sequenceNumber: k, timestamp: ts >>> 0, payloadType: OPUS_PT, marker: k === 0, payloadOffset: 0, payloadLength: p.length }, buf: p, atUs });
    ts += samples48k;
    atUs += (samples48k * 1000) / 48; // µs
  });
  const r = new CallAudioRenderer({ originUs: ORIGIN, endUs: atUs, layout: AudioLegsLayout.Caller, callerPayloadTypes: map, opusDecoders: { caller, callee }, onChunk: (c) => chunks.push(c) });
  for (const t of timed) r.push(AudioLeg.Caller, t.h, t.buf, t.atUs);
  r.finish();
  caller.free();
  callee.free();
  const b = Buffer.concat(chunks);
  return { pcm: new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)), r };
}

describe('opusPacketSamples (RFC 6716 §3.1 TOC)', () => {
  it.each([
    [[0x00], 80, 'SILK NB 10 ms, one frame'],
    [[0x08], 160, 'SILK MB 20 ms'],
    [[0x18], 480, 'SILK WB 60 ms'],
    [[0x78], 160, 'Hybrid FB 20 ms'],
    [[0x80], 20, 'CELT NB 2.5 ms'],
    [[0xf8], 160, 'CELT FB 20 ms'],
    [[0xf9], 320, 'CELT FB 20 ms, two frames (c = 1)'],
    [[0xfa, 0x00], 320, 'two frames of different sizes (c = 2)'],
    [[0xfb, 0x06], 960, 'c = 3, six 20 ms frames = 120 ms'],
    [[0xfb, 0x07], 0, 'c = 3, seven 20 ms frames: over 120 ms'],
    [[0xfb, 0x00], 0, 'c = 3, zero frames'],
    [[0xfb], 0, 'c = 3 without its count byte'],
    [[], 0, 'empty payload'],
  ])('%j at 8 kHz = %i (%s)', (bytes, samples) => {
    expect(opusPacketSamples(Uint8Array.from(bytes), 0, bytes.length, 8000)).toBe(samples);
  });

  it('throws RangeError for a range outside the buffer or a bad rate (programmer errors)', () => {
    expect(() => opusPacketSamples(new Uint8Array(2), 1, 2, 8000)).toThrow(RangeError);
    expect(() => opusPacketSamples(new Uint8Array(2), 0, 1, 44_100)).toThrow(RangeError);
  });
});

describe('Opus call audio against opusenc / opusdec', () => {
  let e20: Encoded;
  beforeAll(() => {
    e20 = encode(20, 'f20');
  });

  it.each([20, 60, 10])('%i ms frames: the leg equals opusdec --rate 8000 with SNR > 30 dB, at the pre-skip offset, lasting the packets', async (frameMs) => {
    const e = frameMs === 20 ? e20 : encode(frameMs, `f${frameMs}`);
    const { pcm, r } = await render(e);
    const total = e.packets.reduce((a, p) => a + opusPacketSamples(p, 0, p.length, 8000), 0);
    expect(pcm.length).toBe(total);
    expect(r.leg(AudioLeg.Caller)).toMatchObject({ placed: e.packets.length, unsupported: 0, undecodable: 0, late: 0, restarts: 0 });
    // RTP carries no pre-skip: our leg starts with the encoder's look-ahead that opusdec drops.
    const lag = e.preSkip48k / 6;
    const snr = snrDb(e.reference, pcm, lag, 0, e.reference.length - 8);
    expect(snr, `SNR ${snr.toFixed(1)} dB`).toBeGreaterThan(30);
    // A neighbouring alignment is far worse: the comparison would see an off-by-some placement.
    expect(snrDb(e.reference, pcm, lag + 3, 0, e.reference.length - 8)).toBeLessThan(snr - 10);
  });

  it('a lost packet is silence of its length; the audio before it is untouched', async () => {
    const lost = 50;
    const { pcm, r } = await render(e20, new Set([lost]));
    const full = (await render(e20)).pcm;
    expect(pcm.length).toBe(full.length);
    expect(pcm.subarray(lost * 160, (lost + 1) * 160).every((x) => x === 0)).toBe(true);
    expect(Buffer.from(pcm.buffer, 0, lost * 160 * 2).equals(Buffer.from(full.buffer, 0, lost * 160 * 2))).toBe(true);
    expect(r.leg(AudioLeg.Caller).placed).toBe(e20.packets.length - 1);
  });

  it('Opus is decodable for assertAudioDecodable; without decoders the renderer skips it as unsupported', async () => {
    const map = new PayloadTypeMap();
    map.setRtpmap(OPUS_PT, 'opus', 48000);
    expect(() => { assertAudioDecodable([OPUS_PT], map); }).not.toThrow();
    const r = new CallAudioRenderer({ originUs: ORIGIN, endUs: ORIGIN + 40_000, layout: AudioLegsLayout.Caller, callerPayloadTypes: map, onChunk: () => undefined });
    const p = e20.packets[0]!;
    r.push(AudioLeg.Caller, { ssrc: 1, sequenceNumber: 1, timestamp: 0, payloadType: OPUS_PT, marker: false, payloadOffset: 0, payloadLength: p.length }, p, ORIGIN);
    r.finish();
    expect(r.leg(AudioLeg.Caller)).toMatchObject({ unsupported: 1, lastUnsupportedPayloadType: OPUS_PT });
    await Promise.resolve();
  });

  it('garbage in an Opus payload is silence, counted, never thrown', async () => {
    const map = new PayloadTypeMap();
    map.setRtpmap(OPUS_PT, 'opus', 48000);
    const d = await createOpusAudioDecoder();
    const chunks: Uint8Array[] = [];
    const r = new CallAudioRenderer({ originUs: ORIGIN, endUs: ORIGIN + 60_000, layout: AudioLegsLayout.Caller, callerPayloadTypes: map, opusDecoders: { caller: d, callee: d }, onChunk: (c) => chunks.push(c) });
    // An over-long TOC (c = 3, 63 frames), then a valid TOC with a truncated body.
    r.push(AudioLeg.Caller, { ssrc: 1, sequenceNumber: 1, timestamp: 0, payloadType: OPUS_PT, marker: false, payloadOffset: 0, payloadLength: 2 }, Uint8Array.from([0xfb, 0x3f]), ORIGIN);
    r.push(AudioLeg.Caller, { ssrc: 1, sequenceNumber: 2, timestamp: 960, payloadType: OPUS_PT, marker: false, payloadOffset: 0, payloadLength: 3 }, Uint8Array.from([0xfb, 0x05, 0xff]), ORIGIN + 20_000);
    r.finish();
    d.free();
    expect(r.leg(AudioLeg.Caller).undecodable).toBeGreaterThanOrEqual(1);
    expect(Buffer.concat(chunks).every((x) => x === 0)).toBe(true);
  });
});
