import { describe, expect, it } from 'vitest';
import {
  AudioLeg,
  AudioLegsLayout,
  CallAudioRenderer,
  PayloadTypeMap,
  UnsupportedCodecError,
  WAV_PCM_HEADER_LENGTH,
  WAV_STREAMING_DATA_BYTES,
  assertAudioDecodable,
  decodeAlawSample,
  decodeUlawSample,
  mixSaturating,
  writeWav,
  writeWavHeader,
  type AudioLegsLayout as Layout,
  type AudioRtpFields,
} from '../src/index.js';

const ORIGIN = 1_795_975_893_000_000; // µs, a real 2026 epoch time (large numbers on purpose)
const PCMA = 8;
const DTMF_PT = 101;

function map(): PayloadTypeMap {
  const m = new PayloadTypeMap();
  m.setRtpmap(DTMF_PT, 'telephone-event', 8000);
  return m;
}

/** A 20 ms A-law packet whose 160 octets encode its sequence number (no octet decodes to 0). */
interface P {
  h: AudioRtpFields;
  buf: Uint8Array;
  at: number;
}
function pkt(seq: number, ts: number, atMs: number, opts: { pt?: number; ssrc?: number; len?: number } = {}): P {
  const len = opts.len ?? 160;
  const buf = new Uint8Array(4 + len); // 4 bytes before the payload: offsets are honoured
  for (let i = 0; i < len; i++) buf[4 + i] = (seq * 31 + i) & 0xff;
  return {
    h: { ssrc: opts.ssrc ?? 0x1234, sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, payloadType: opts.pt ?? PCMA, marker: false, payloadOffset: 4, payloadLength: len },
    buf,
    at: ORIGIN + atMs * 1000,
  };
}
/** The samples packet `seq` decodes to. */
function samplesOf(seq: number, len = 160): number[] {
  return Array.from({ length: len }, (_, i) => decodeAlawSample((seq * 31 + i) & 0xff));
}
const silence = (n: number): number[] => new Array<number>(n).fill(0);

interface Rendered {
  pcm: Int16Array;
  chunks: number[];
  r: CallAudioRenderer;
}
function render(packets: readonly (P & { leg?: 0 | 1 })[], o: { endMs?: number | null; layout?: Layout; windowMs?: number; chunkFrames?: number } = {}): Rendered {
  const parts: Uint8Array[] = [];
  const r = new CallAudioRenderer({
    originUs: ORIGIN,
    endUs: o.endMs === undefined || o.endMs === null ? null : ORIGIN + o.endMs * 1000,
    layout: o.layout ?? AudioLegsLayout.Caller,
    callerPayloadTypes: map(),
    reorderWindowMs: o.windowMs ?? 100,
    chunkFrames: o.chunkFrames ?? 2000,
    onChunk: (c) => parts.push(c),
  });
  for (const p of packets) r.push(p.leg ?? AudioLeg.Caller, p.h, p.buf, p.at);
  r.finish();
  const bytes = Buffer.concat(parts);
  return { pcm: new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), chunks: parts.map((c) => c.length), r };
}
const inOrder = (n: number, firstSeq = 1, firstTs = 1000): P[] => Array.from({ length: n }, (_, k) => pkt(firstSeq + k, firstTs + 160 * k, 20 * k));

describe('G.711 against ITU-T G.711 reference points', () => {
  it('decodes the end points and the smallest steps of both laws', () => {
    // µ-law (Table 2a): 0x80/0x00 are the ±8031 segment ends (x4 = ±32124), 0xFF/0x7F are ±0.
    expect([decodeUlawSample(0x80), decodeUlawSample(0x00), decodeUlawSample(0xff), decodeUlawSample(0x7f)]).toEqual([32124, -32124, 0, 0]);
    // A-law (Table 1a, even bits inverted): 0xAA/0x2A are ±4032 (x8 = ±32256), 0xD5/0x55 are ±1 (x8).
    expect([decodeAlawSample(0xaa), decodeAlawSample(0x2a), decodeAlawSample(0xd5), decodeAlawSample(0x55)]).toEqual([32256, -32256, 8, -8]);
  });

  it('decodes the digital milliwatt (G.711 Tables 5 and 6) to a 1 kHz sine: antisymmetric, peak/first ratio tan(67.5°)', () => {
    for (const [decode, seq] of [
      [decodeAlawSample, [0x34, 0x21, 0x21, 0x34, 0xb4, 0xa1, 0xa1, 0xb4]],
      [decodeUlawSample, [0x1e, 0x0b, 0x0b, 0x1e, 0x9e, 0x8b, 0x8b, 0x9e]],
    ] as const) {
      const s = seq.map((o) => decode(o));
      for (let i = 0; i < 4; i++) expect(s[i + 4]).toBe(-s[i]!);
      expect(s[0]).toBe(s[3]);
      expect(s[1]).toBe(s[2]);
      // The codes are the nearest quantisation levels, 3-6 % apart at these segments: the
      // ratio of the two magnitudes is tan(67.5°) = 2.414 within that.
      expect(Math.abs(s[1]! / s[0]! / Math.tan((67.5 * Math.PI) / 180) - 1)).toBeLessThan(0.05);
    }
  });
});

describe('CallAudioRenderer placement', () => {
  it('places in-order packets back to back from the first arrival; the timeline end pads with silence', () => {
    const { pcm, r } = render(inOrder(3), { endMs: 80 });
    expect(r.totalFrames).toBe(640);
    expect(Array.from(pcm)).toEqual([...samplesOf(1), ...samplesOf(2), ...samplesOf(3), ...silence(160)]);
    expect(r.leg(AudioLeg.Caller).placed).toBe(3);
  });

  it('a packet arriving 30 ms after the origin starts 240 samples in', () => {
    const p = pkt(1, 1000, 30);
    const { pcm } = render([p], { endMs: 60 });
    expect(Array.from(pcm)).toEqual([...silence(240), ...samplesOf(1), ...silence(80)]);
  });

  it('a lost packet is silence of its exact length (160 samples), and a 3-packet gap 480', () => {
    const ps = inOrder(8).filter((p) => ![2, 5, 6, 7].includes(p.h.sequenceNumber));
    const { pcm } = render(ps);
    expect(pcm.length).toBe(8 * 160);
    expect(Array.from(pcm)).toEqual([...samplesOf(1), ...silence(160), ...samplesOf(3), ...samplesOf(4), ...silence(480), ...samplesOf(8)]);
  });

  it('jitter does not move samples: arrivals off by up to ±9 ms give the in-order output', () => {
    const ps = inOrder(20).map((p, k) => ({ ...p, at: p.at + ((k * 7919) % 19 - 9) * 1000 + 9000 }));
    expect(Array.from(render(ps).pcm)).toEqual(Array.from(render(inOrder(20)).pcm));
  });

  it('reordered packets inside the window are placed (counted as reordered)', () => {
    const ps = inOrder(5);
    const swapped = [ps[0]!, ps[2]!, { ...ps[1]!, at: ps[2]!.at + 10_000 }, ps[3]!, ps[4]!];
    const { pcm, r } = render(swapped);
    expect(Array.from(pcm)).toEqual(Array.from(render(inOrder(5)).pcm));
    expect(r.leg(AudioLeg.Caller).reordered).toBe(1);
    expect(r.leg(AudioLeg.Caller).late).toBe(0);
  });

  it('duplicates are ignored (the first copy is kept)', () => {
    const ps = inOrder(4);
    const dup = pkt(2, 1160, 25);
    dup.buf.fill(0x2a, 4); // different content: must not overwrite the first copy
    const { pcm, r } = render([ps[0]!, ps[1]!, dup, ps[2]!, ps[3]!]);
    expect(Array.from(pcm)).toEqual(Array.from(render(inOrder(4)).pcm));
    expect(r.leg(AudioLeg.Caller).duplicates).toBe(1);
  });

  it('a packet arriving after its playout (window 100 ms) stays silence and counts as late', () => {
    const ps = inOrder(20);
    const late = { ...ps[2]!, at: ps[2]!.at + 150_000 }; // 150 ms late > window
    const order = [...ps.slice(0, 2), ...ps.slice(3, 10), late, ...ps.slice(10)];
    const { pcm, r } = render(order);
    expect(Array.from(pcm.subarray(320, 480))).toEqual(silence(160));
    expect(Array.from(pcm.subarray(0, 320))).toEqual([...samplesOf(1), ...samplesOf(2)]);
    expect(r.leg(AudioLeg.Caller).late).toBe(1);
  });

  it('RFC 2833 telephone-event packets are skipped; the audio they replace is silence', () => {
    const ps = inOrder(10);
    // Audio 1-4, then DTMF (event timestamp stays at its start, RFC 4733 §2.3.1) for 5-7, audio 8-10.
    const ev = [5, 6, 7].map((seq) => pkt(seq, 1000 + 160 * 4, 20 * (seq - 1), { pt: DTMF_PT, len: 4 }));
    const stream = [...ps.slice(0, 4), ...ev, ...ps.slice(7)];
    const { pcm, r } = render(stream);
    expect(Array.from(pcm)).toEqual([...samplesOf(1), ...samplesOf(2), ...samplesOf(3), ...samplesOf(4), ...silence(480), ...samplesOf(8), ...samplesOf(9), ...samplesOf(10)]);
    expect(r.leg(AudioLeg.Caller).telephoneEvents).toBe(3);
    expect(r.leg(AudioLeg.Caller).restarts).toBe(0);
  });

  it('a forward timestamp jump restarts the mapping at the packet arrival', () => {
    const ps = inOrder(3);
    const jumped = [pkt(4, 1000 + 160 * 3 + 8_000_000, 60), pkt(5, 1000 + 160 * 4 + 8_000_000, 80)];
    const { pcm, r } = render([...ps, ...jumped]);
    expect(Array.from(pcm)).toEqual([...samplesOf(1), ...samplesOf(2), ...samplesOf(3), ...samplesOf(4), ...samplesOf(5)]);
    expect(r.leg(AudioLeg.Caller).restarts).toBe(1);
  });

  it('a backward timestamp jump restarts at the arrival too (nothing overwritten, nothing late)', () => {
    const ps = inOrder(20);
    const back = [pkt(21, 50, 400), pkt(22, 210, 420)];
    const { pcm, r } = render([...ps, ...back]);
    expect(Array.from(pcm.subarray(0, 3200))).toEqual(Array.from(render(ps).pcm));
    expect(Array.from(pcm.subarray(3200))).toEqual([...samplesOf(21), ...samplesOf(22)]);
    expect(r.leg(AudioLeg.Caller).restarts).toBe(1);
    expect(r.leg(AudioLeg.Caller).late).toBe(0);
  });

  it('an SSRC change (new stream, unrelated timestamps) restarts at the new stream arrival', () => {
    const ps = inOrder(2);
    const other = [pkt(9000, 77_777, 100, { ssrc: 0xbeef }), pkt(9001, 77_937, 120, { ssrc: 0xbeef })];
    const { pcm, r } = render([...ps, ...other]);
    expect(Array.from(pcm)).toEqual([...samplesOf(1), ...samplesOf(2), ...silence(480), ...samplesOf(9000), ...samplesOf(9001)]);
    expect(r.leg(AudioLeg.Caller).restarts).toBe(1);
  });

  it('sequence numbers and timestamps wrap without a restart', () => {
    const ps = Array.from({ length: 6 }, (_, k) => pkt(0xfffd + k, 0xffff_ff00 + 160 * k, 20 * k));
    const { pcm, r } = render(ps);
    expect(pcm.length).toBe(960);
    expect(r.leg(AudioLeg.Caller).restarts).toBe(0);
    expect(Array.from(pcm.subarray(800))).toEqual(samplesOf(0x10002 & 0xffff));
  });

  it('skips unsupported codecs (counted, silent) and drops samples outside the timeline', () => {
    const g729 = pkt(2, 1160, 20, { pt: 18, len: 20 });
    const { pcm, r } = render([pkt(1, 1000, -10), g729, pkt(3, 1320, 40)], { endMs: 50 });
    const leg = r.leg(AudioLeg.Caller);
    expect(leg.unsupported).toBe(1);
    expect(leg.lastUnsupportedPayloadType).toBe(18);
    // First packet arrived 10 ms before the origin: mapped to 0 (the released point), so the
    // packet 3 timestamp puts it 320 samples later; 400 frames in all, packet 3 cut at the end.
    expect(pcm.length).toBe(400);
    expect(Array.from(pcm)).toEqual([...samplesOf(1), ...silence(160), ...samplesOf(3).slice(0, 80)]);
    expect(leg.clippedSamples).toBe(80);
  });
});

describe('CallAudioRenderer streaming, layouts and WAV', () => {
  it('output does not depend on the chunk size; chunks are whole and emitted while packets arrive', () => {
    const ps = inOrder(500); // 10 s
    const ref = render(ps, { chunkFrames: 2000 });
    for (const chunkFrames of [1, 7, 160, 4096]) expect(Array.from(render(ps, { chunkFrames }).pcm)).toEqual(Array.from(ref.pcm));
    expect(ref.chunks.slice(0, -1).every((n) => n === 4000)).toBe(true);
    // Bounded memory: by the time the last packet is pushed, all but window + one chunk is out.
    const parts: number[] = [];
    const r = new CallAudioRenderer({ originUs: ORIGIN, layout: AudioLegsLayout.Caller, callerPayloadTypes: map(), reorderWindowMs: 100, chunkFrames: 160, onChunk: (c) => parts.push(c.length) });
    for (const p of ps) r.push(AudioLeg.Caller, p.h, p.buf, p.at);
    expect(r.framesEmitted).toBeGreaterThanOrEqual(500 * 160 - 800 - 160 - 160);
  });

  it('stereo puts the caller left and the callee right; mono layouts take one leg; mixed saturates', () => {
    const caller = inOrder(3).map((p) => ({ ...p, leg: AudioLeg.Caller }));
    const callee = [pkt(100, 5, 0, { ssrc: 0x9 }), pkt(101, 165, 20, { ssrc: 0x9 }), pkt(102, 325, 40, { ssrc: 0x9 })].map((p) => ({ ...p, leg: AudioLeg.Callee }));
    const both = [caller[0]!, callee[0]!, caller[1]!, callee[1]!, caller[2]!, callee[2]!];
    const left = [...samplesOf(1), ...samplesOf(2), ...samplesOf(3)];
    const right = [...samplesOf(100), ...samplesOf(101), ...samplesOf(102)];
    const stereo = render(both, { layout: AudioLegsLayout.Stereo, endMs: 60 });
    expect(stereo.r.channels).toBe(2);
    expect(Array.from(stereo.pcm)).toEqual(left.flatMap((l, i) => [l, right[i]!]));
    expect(Array.from(render(both, { layout: AudioLegsLayout.Caller, endMs: 60 }).pcm)).toEqual(left);
    expect(Array.from(render(both, { layout: AudioLegsLayout.Callee, endMs: 60 }).pcm)).toEqual(right);
    expect(Array.from(render(both, { layout: AudioLegsLayout.Mixed, endMs: 60 }).pcm)).toEqual(left.map((l, i) => mixSaturating(l, right[i]!)));
    expect([mixSaturating(32256, 32256), mixSaturating(-32256, -32256), mixSaturating(100, -300)]).toEqual([32767, -32768, -200]);
  });

  it('the WAV header announces exactly the bytes emitted when the timeline end is known', () => {
    const { r, chunks } = render(inOrder(3).map((p) => ({ ...p, leg: AudioLeg.Callee })), { layout: AudioLegsLayout.Stereo, endMs: 1000 });
    const header = r.wavHeader();
    const v = new DataView(header.buffer);
    const bytes = chunks.reduce((a, b) => a + b, 0);
    expect(bytes).toBe(8000 * 2 * 2);
    expect(Buffer.from(header.subarray(0, 4)).toString()).toBe('RIFF');
    expect(v.getUint32(4, true)).toBe(36 + bytes);
    expect(v.getUint32(40, true)).toBe(bytes);
    expect([v.getUint16(22, true), v.getUint32(24, true), v.getUint32(28, true), v.getUint16(32, true)]).toEqual([2, 8000, 32000, 4]);
  });

  it('the streaming header uses the largest 32-bit size; writeWav shares the header', () => {
    const h = new Uint8Array(WAV_PCM_HEADER_LENGTH + 2);
    writeWavHeader(h, 2, null, 8000, 1);
    const v = new DataView(h.buffer, 2);
    expect(v.getUint32(40, true)).toBe(WAV_STREAMING_DATA_BYTES);
    expect(v.getUint32(4, true)).toBe(0xffff_ffff - 3);
    expect(() => { writeWavHeader(h, 4, 0, 8000, 1); }).toThrow(RangeError);
    expect(() => { writeWavHeader(h, 0, 3, 8000, 2); }).toThrow(RangeError);
    expect(Array.from(writeWav(Int16Array.from([5, -5]), 8000).subarray(0, 44))).toEqual(Array.from((() => { const o = new Uint8Array(44); writeWavHeader(o, 0, 4, 8000, 1); return o; })()));
  });
});

describe('unsupported codecs', () => {
  it('assertAudioDecodable accepts G.711 and Opus with telephone-event and CN, and names what it refuses', () => {
    const m = map();
    m.setRtpmap(111, 'opus', 48000);
    m.setRtpmap(97, 'AMR', 8000);
    expect(() => { assertAudioDecodable([0, 8, 13, DTMF_PT, 111], m); }).not.toThrow();
    const cases: [number, string][] = [[18, 'G729'], [9, 'G722'], [97, 'AMR'], [96, 'unknown']];
    for (const [pt, name] of cases) {
      let err: unknown;
      try {
        assertAudioDecodable([8, pt], m);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnsupportedCodecError);
      const u = err as UnsupportedCodecError;
      expect([u.code, u.payloadType, u.codecName]).toEqual(['UNSUPPORTED_CODEC', pt, name]);
      expect(u.message).toContain(`${name} (payload type ${pt})`);
    }
    expect(() => { assertAudioDecodable([128], m); }).toThrow(RangeError);
  });
});

describe('CallAudioRenderer pacing (advanceTo / finishStep)', () => {
  /** Packets around a gap: 10 in order, then (after `gapMs` of silence, timestamps running on) 10 more. */
  const aroundGap = (gapMs: number): P[] => [
    ...inOrder(10),
    ...Array.from({ length: 10 }, (_, k) => pkt(11 + k, 1000 + 160 * (10 + k) + gapMs * 8, 20 * (10 + k) + gapMs)),
  ];

  /** Paced render: advanceTo until caught up, counting chunks emitted per call; finishStep likewise. */
  function renderPaced(packets: readonly P[], endMs: number | null): { pcm: Int16Array; maxChunksPerCall: number; calls: number } {
    const parts: Uint8Array[] = [];
    let inCall = 0;
    let maxChunksPerCall = 0;
    let calls = 0;
    const r = new CallAudioRenderer({
      originUs: ORIGIN,
      endUs: endMs === null ? null : ORIGIN + endMs * 1000,
      layout: AudioLegsLayout.Stereo,
      callerPayloadTypes: map(),
      reorderWindowMs: 100,
      chunkFrames: 800,
      onChunk: (c) => {
        parts.push(c);
        inCall++;
      },
    });
    const step = (f: () => boolean): boolean => {
      inCall = 0;
      const done = f();
      calls++;
      maxChunksPerCall = Math.max(maxChunksPerCall, inCall);
      return done;
    };
    for (const p of packets) {
      while (!step(() => r.advanceTo(p.at)));
      step(() => {
        r.push(AudioLeg.Caller, p.h, p.buf, p.at);
        return true;
      });
    }
    while (!step(() => r.finishStep()));
    expect(r.finishStep()).toBe(true);
    const bytes = Buffer.concat(parts);
    return { pcm: new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), maxChunksPerCall, calls };
  }

  it.each([
    ['a 60 s gap, end known', 60_000, 61_000],
    ['a 60 s gap, end unknown', 60_000, null],
    ['no gap', 0, 500],
  ] as const)('%s: the same bytes as push/finish, never more than one chunk per call', (_name, gapMs, extraEndMs) => {
    const packets = aroundGap(gapMs);
    const endMs = extraEndMs === null ? null : extraEndMs;
    const plain = render(packets, { endMs, layout: AudioLegsLayout.Stereo, chunkFrames: 800 });
    const paced = renderPaced(packets, endMs);
    expect(paced.pcm.length).toBe(plain.pcm.length);
    expect(Buffer.from(paced.pcm.buffer).equals(Buffer.from(plain.pcm.buffer))).toBe(true);
    expect(paced.maxChunksPerCall).toBe(1);
    if (gapMs > 0) {
      // The gap (480 000 frames at 8 kHz) came out as 600 separate 800-frame chunks.
      expect(paced.calls).toBeGreaterThan((gapMs * 8) / 800);
      // The talk after the gap sits where its timestamps put it.
      const pos = 10 * 160 + gapMs * 8;
      expect(Array.from(paced.pcm.filter((_, i) => i % 2 === 0).subarray(pos, pos + 160))).toEqual(samplesOf(11));
    }
  });

  it('a timeline end an hour past the last packet is emitted one chunk per finishStep', () => {
    const chunks: number[] = [];
    const r = new CallAudioRenderer({ originUs: ORIGIN, endUs: ORIGIN + 3600 * 1e6, layout: AudioLegsLayout.Caller, callerPayloadTypes: map(), onChunk: (c) => chunks.push(c.length) });
    for (const p of inOrder(5)) {
      while (!r.advanceTo(p.at));
      r.push(AudioLeg.Caller, p.h, p.buf, p.at);
    }
    let steps = 0;
    while (!r.finishStep()) {
      steps++;
      expect(chunks.length).toBe(steps);
      if (steps === 3) break;
    }
    // Three steps, three 250 ms chunks: not the hour (57.6 MB) at once.
    expect(chunks).toEqual([4000, 4000, 4000]);
    r.finish();
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(3600 * 8000 * 2);
    expect(() => r.advanceTo(ORIGIN)).toThrow(/after finish/);
    expect(() => r.advanceTo(Number.NaN)).toThrow();
  });
});
