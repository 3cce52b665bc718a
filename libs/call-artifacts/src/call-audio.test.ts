/**
 * readCallAudio / openCallAudio on spools written with pcap-store's SpoolWriter from corpus
 * captures (test/spool-from-capture.ts). Oracle, independent of our reading: each stream of the
 * original capture exported by tshark (RTP payload, seq, timestamp, first arrival) and decoded by
 * sox must equal our WAV's channel sample for sample at the stream's place on the timeline.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { spoolMinuteDir } from '@callscope/pcap-store';
import { UnsupportedCodecError } from '@callscope/rtp';
import { corpusCaptures, corpusPath } from '@callscope/testing';
import { spoolFromCapture } from '../test/spool-from-capture.js';
import { CALL_AUDIO_READABLE_HIGH_WATER_MARK, MAX_CALL_AUDIO_MS, NoCallAudioError, NoCallAudioReason, openCallAudio, readCallAudio, type CallArtifactQuery, type CallAudioOptions } from './index.js';

const work = mkdtempSync(join(tmpdir(), 'hG-call-audio-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});
let dirCount = 0;

/** Spools `capture` under (callId, start): the SIP file is only read for that Call-ID. */
async function spool(capture: string, callId: string, startUs: number, retime?: Parameters<typeof spoolFromCapture>[4]): Promise<{ dir: string; query: CallArtifactQuery }> {
  const dir = join(work, `spool-${dirCount++}`);
  const query = { callId, startSec: Math.floor(startUs / 1e6), startUsec: startUs % 1e6 };
  await spoolFromCapture(capture, dir, query, 'none', retime);
  return { dir, query };
}

async function spoolCorpus(file: string, retime?: Parameters<typeof spoolFromCapture>[4]): Promise<{ dir: string; query: CallArtifactQuery }> {
  const call = corpusCaptures().find((c) => c.truth.file === file)!.truth.calls[0]!;
  return spool(corpusPath(file), call.call_id, Math.round(call.invite_time * 1e6), retime);
}

/** The WAV as rendered, with its header checked field by field. */
async function wavOf(dir: string, query: CallArtifactQuery, options: CallAudioOptions): Promise<{ pcm: Int16Array; channels: number; bytes: Buffer }> {
  const chunks: Uint8Array[] = [];
  const r = await readCallAudio(dir, query, { ...options, onChunk: (c) => void chunks.push(c) });
  const bytes = Buffer.concat(chunks);
  expect(bytes.length).toBe(r.wavBytes);
  expect(r.bytes).toBe(r.wavBytes);
  expect(bytes.toString('latin1', 0, 4)).toBe('RIFF');
  expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
  expect(bytes.toString('latin1', 8, 16)).toBe('WAVEfmt ');
  expect(bytes.readUInt16LE(20)).toBe(1);
  const channels = bytes.readUInt16LE(22);
  expect(channels).toBe(options.layout === 'stereo' ? 2 : 1);
  expect(bytes.readUInt32LE(24)).toBe(8000);
  expect(bytes.readUInt32LE(28)).toBe(8000 * channels * 2);
  expect(bytes.readUInt16LE(32)).toBe(channels * 2);
  expect(bytes.readUInt16LE(34)).toBe(16);
  expect(bytes.toString('latin1', 36, 40)).toBe('data');
  expect(bytes.readUInt32LE(40)).toBe(bytes.length - 44);
  const data = bytes.subarray(44);
  const pcm = new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
  expect(pcm.length / channels).toBe(r.frames);
  return { pcm, channels, bytes };
}

function tool(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args, { maxBuffer: 256 * 1024 * 1024 });
  if (r.error !== undefined) throw new Error(`${cmd} is needed by this oracle test (${r.error.message}); apt-get install -y ${cmd}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return r.stdout;
}

interface OracleStream {
  firstArrivalUs: number;
  firstTimestamp: number;
  packets: { seq: number; timestamp: number; samples: Int16Array }[];
}

/** tshark: one stream's packets (arrival, seq, timestamp, payload) in capture order; sox: their G.711 decode. */
function oracleStream(pcap: string, ssrc: string, law: 'al' | 'ul'): OracleStream {
  const text = tool('tshark', ['-r', pcap, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', `rtp.ssrc==${ssrc}`, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'rtp.seq', '-e', 'rtp.timestamp', '-e', 'rtp.payload']).toString();
  const rows = text.trim().split('\n').map((l) => l.split('\t'));
  const payloads = rows.map((r) => Buffer.from(r[3]!.replaceAll(':', ''), 'hex'));
  const raw = join(work, `${ssrc}.${law}`);
  const out = join(work, `${ssrc}.s16`);
  writeFileSync(raw, Buffer.concat(payloads));
  tool('sox', ['-t', law, '-r', '8000', '-c', '1', raw, '-t', 's16', '-L', out]);
  const bytes = readFileSync(out);
  const all = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  let at = 0;
  const packets = rows.map((r, i) => {
    const n = payloads[i]!.length;
    const p = { seq: Number(r[1]), timestamp: Number(r[2]), samples: all.subarray(at, at + n) };
    at += n;
    return p;
  });
  // frame.time_epoch has 9 decimals: µs from the text, no float rounding.
  const [s, frac = ''] = rows[0]![0]!.split('.');
  return { firstArrivalUs: Number(s) * 1e6 + Number(frac.padEnd(9, '0').slice(0, 6)), firstTimestamp: packets[0]!.timestamp, packets };
}

const channel = (pcm: Int16Array, channels: number, c: number): Int16Array => (channels === 1 ? pcm : pcm.filter((_, i) => i % 2 === c));

describe('call audio against tshark RTP payload export + sox (independent decode)', () => {
  test.each([
    ['basic-caller-bye-pcma.pcap', 'al'],
    ['basic-callee-bye-pcmu.pcap', 'ul'],
    ['rtp-loss-1pct.pcap', 'al'],
  ] as const)('%s: each leg equals the sox decode sample for sample; duration = media span', async (file, law) => {
    const truth = corpusCaptures().find((c) => c.truth.file === file)!.truth;
    const call = truth.calls[0]!;
    const { dir, query } = await spoolCorpus(file);
    const audio = await openCallAudio(dir, query, { layout: 'stereo' });
    const { pcm, channels } = await wavOf(dir, query, { layout: 'stereo' });
    // Duration: the media span (first to last RTP arrival plus one 20 ms packet), within one packet time.
    const spanS = Math.max(...truth.rtp_streams.map((s) => s.end_time)) - Math.min(...truth.rtp_streams.map((s) => s.start_time)) + 0.02;
    expect(Math.abs(pcm.length / channels / 8000 - spanS)).toBeLessThan(0.02);
    expect(audio.plan.streams).toHaveLength(truth.rtp_streams.length);
    const left = channel(pcm, 2, 0);
    const right = channel(pcm, 2, 1);
    for (const t of truth.rtp_streams) {
      const isCaller = t.src === call.caller_ip;
      expect(audio.plan.streams.find((s) => s.ssrc === t.ssrc)!.side).toBe(isCaller ? 'caller' : 'callee');
      const leg = isCaller ? left : right;
      const o = oracleStream(corpusPath(file), t.ssrc, law);
      expect(o.packets).toHaveLength(t.packets);
      const first = Math.round((o.firstArrivalUs - audio.plan.originUs) / 125);
      let compared = 0;
      let lastEnd = 0;
      for (const p of o.packets) {
        const pos = first + ((p.timestamp - o.firstTimestamp) | 0);
        expect(Array.from(leg.subarray(pos, pos + p.samples.length)), `${file} ${t.ssrc} seq ${p.seq}`).toEqual(Array.from(p.samples));
        compared += p.samples.length;
        lastEnd = Math.max(lastEnd, pos + p.samples.length);
      }
      expect(compared).toBe(t.packets * 160);
      // Before the stream's first packet and after its last the leg is silence (one stream per leg).
      expect(leg.subarray(0, first).every((x) => x === 0)).toBe(true);
      expect(leg.subarray(lastEnd).every((x) => x === 0)).toBe(true);
      if (t.lost > 0) {
        // The lost packets' places are silence: at least lost × 160 zero samples inside the span.
        expect(leg.subarray(first, lastEnd).filter((x) => x === 0).length).toBeGreaterThanOrEqual(t.lost * 160);
      }
    }
  });

  test('caller, callee and mixed layouts are the stereo channels, and their saturating sum', async () => {
    const { dir, query } = await spoolCorpus('basic-caller-bye-pcma.pcap');
    const stereo = (await wavOf(dir, query, { layout: 'stereo' })).pcm;
    const caller = (await wavOf(dir, query, { layout: 'caller' })).pcm;
    const callee = (await wavOf(dir, query, { layout: 'callee' })).pcm;
    const mixed = (await wavOf(dir, query, { layout: 'mixed' })).pcm;
    expect(caller).toEqual(channel(stereo, 2, 0));
    expect(callee).toEqual(channel(stereo, 2, 1));
    expect(caller.some((x) => x !== 0) && callee.some((x) => x !== 0)).toBe(true);
    expect(mixed).toEqual(caller.map((x, i) => Math.max(-32768, Math.min(32767, x + callee[i]!))));
  });
});

describe('every one-call corpus capture', () => {
  const oneCall = corpusCaptures()
    .map((c) => c.truth)
    .filter((t) => t.calls.length === 1);
  test.each(oneCall.map((t) => [t.file, t] as const))('%s: duration = media span, each stream on its side, or NO_AUDIO without RTP', async (file, truth) => {
    const { dir, query } = await spoolCorpus(file);
    const call = truth.calls[0]!;
    if (truth.rtp_streams.length === 0) {
      await expect(openCallAudio(dir, query, { layout: 'stereo' })).rejects.toMatchObject({ code: 'NO_AUDIO', reason: NoCallAudioReason.NoRtpFile });
      return;
    }
    let frames = 0;
    const r = await readCallAudio(dir, query, {
      layout: 'caller',
      onChunk: (c) => {
        frames += c.length / 2;
      },
    });
    frames -= 22; // the header's 44 bytes
    const spanS = Math.max(...truth.rtp_streams.map((t) => t.end_time)) - Math.min(...truth.rtp_streams.map((t) => t.start_time)) + 0.02;
    expect(Math.abs(frames / 8000 - spanS)).toBeLessThan(0.02);
    expect(r.streams.map((s) => `${s.ssrc} ${s.side} ${s.payloadTypes.join('/')}`).sort()).toEqual(
      truth.rtp_streams.map((t) => `${t.ssrc} ${t.src === call.caller_ip ? 'caller' : 'callee'} ${t.payload_types.join('/')}`).sort(),
    );
    // Every RTP packet reached its leg; none played out late or undecodable.
    expect(r.caller.packets + r.callee.packets).toBe(truth.rtp_streams.reduce((a, t) => a + t.packets, 0));
    expect([r.caller.late, r.callee.late, r.caller.unsupported, r.callee.unsupported]).toEqual([0, 0, 0, 0]);
  });
});

describe('delivery: Readable and back-pressure give the same bytes', () => {
  test('readable() and a slow sink (a promise per chunk) equal the plain render', async () => {
    const { dir, query } = await spoolCorpus('basic-callee-bye-pcmu.pcap');
    const plain = (await wavOf(dir, query, { layout: 'stereo' })).bytes;
    const fromReadable: Buffer[] = [];
    const audio = await openCallAudio(dir, query, { layout: 'stereo' });
    for await (const c of audio.readable()) fromReadable.push(c as Buffer);
    expect(Buffer.concat(fromReadable).equals(plain)).toBe(true);
    expect(() => audio.readable()).toThrow(/twice/);
    const slow: Uint8Array[] = [];
    const again = await openCallAudio(dir, query, { layout: 'stereo' });
    await again.render(
      (c) =>
        new Promise<void>((res) => {
          setImmediate(() => {
            slow.push(c);
            res();
          });
        }),
    );
    expect(Buffer.concat(slow).equals(plain)).toBe(true);
  });

  test('a reader that goes away stops the render with an error, not a hang', async () => {
    const { dir, query } = await spoolCorpus('basic-callee-bye-pcmu.pcap');
    const audio = await openCallAudio(dir, query, { layout: 'stereo', reorderWindowMs: 20 });
    const r = audio.readable();
    const closed = new Promise<void>((res) => r.on('close', () => {
        res();
      }));
    r.once('data', () => {
      r.destroy();
    });
    await closed;
    expect(r.destroyed).toBe(true);
    // The walk was paused on the full stream's buffer: it ends, failed, instead of waiting forever.
    expect(await audio.done).toBeNull();
  });
});

describe('malformed input and refusals', () => {
  test('G.729 (fixtures/synth/synth-ipip-g729, IP-in-IP) -> UnsupportedCodecError naming G729, before any byte', async () => {
    const { dir, query } = await spool(join(corpusPath('basic-caller-bye-pcma.pcap'), '../../synth/synth-ipip-g729.pcap.gz'), 'synth-12-000000@192.0.2.1', 1_700_000_000_000_000);
    const chunks: Uint8Array[] = [];
    const err = await readCallAudio(dir, query, { layout: 'stereo', onChunk: (c) => void chunks.push(c) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedCodecError);
    expect(err).toMatchObject({ code: 'UNSUPPORTED_CODEC', codecName: 'G729', payloadType: 18 });
    expect(chunks).toHaveLength(0);
  });

  test('a call without RTP (cancel-487) and an unknown call -> NoCallAudioError NO_AUDIO', async () => {
    const { dir, query } = await spoolCorpus('cancel-487.pcap');
    await expect(openCallAudio(dir, query, { layout: 'stereo' })).rejects.toMatchObject({ code: 'NO_AUDIO', reason: NoCallAudioReason.NoRtpFile });
    await expect(openCallAudio(dir, { ...query, callId: 'nope' }, { layout: 'mixed' })).rejects.toBeInstanceOf(NoCallAudioError);
  });

  test('RTP without the SIP archive: no stream has a side -> NO_AUDIO no-placed-stream', async () => {
    const call = corpusCaptures().find((c) => c.truth.file === 'basic-caller-bye-pcma.pcap')!.truth.calls[0]!;
    const dir = join(work, `spool-${dirCount++}`);
    const us = Math.round(call.invite_time * 1e6);
    const query = { callId: call.call_id, startSec: Math.floor(us / 1e6), startUsec: us % 1e6 };
    // one archive per group: seg.0.tar holds the SIP, seg.1.tar the RTP
    await spoolFromCapture(corpusPath('basic-caller-bye-pcma.pcap'), dir, query, 'none', undefined, { segmentPerGroup: true });
    unlinkSync(join(dir, spoolMinuteDir(query.startSec), 'seg.0.tar'));
    await expect(openCallAudio(dir, query, { layout: 'stereo' })).rejects.toMatchObject({ code: 'NO_AUDIO', reason: NoCallAudioReason.NoPlacedStream });
  });

  test('a hostile spool (last RTP packet 10 h after the rest) gives 4 h, flagged, not 10 h of silence', async () => {
    const truth = corpusCaptures().find((c) => c.truth.file === 'basic-caller-bye-pcma.pcap')!.truth;
    const last = truth.rtp_streams.reduce((a, s) => a + s.packets, 0) - 1;
    const { dir, query } = await spoolCorpus('basic-caller-bye-pcma.pcap', (kind, i, sec) => (kind === 'rtp' && i === last ? sec + 36_000 : sec));
    const audio = await openCallAudio(dir, query, { layout: 'caller' });
    expect(audio.plan).toMatchObject({ durationCapped: true, frames: (MAX_CALL_AUDIO_MS / 1000) * 8000, wavBytes: 44 + (MAX_CALL_AUDIO_MS / 1000) * 16000 });
    let bytes = 0;
    const summary = await audio.render((c) => {
      bytes += c.length;
    });
    expect(bytes).toBe(audio.plan.wavBytes);
    expect(summary.bytes).toBe(bytes);
  });

  test('readable() of a capped timeline: the silence after the last packet is paced by the reader (bounded buffer)', async () => {
    const truth = corpusCaptures().find((c) => c.truth.file === 'basic-caller-bye-pcma.pcap')!.truth;
    const last = truth.rtp_streams.reduce((a, s) => a + s.packets, 0) - 1;
    const { dir, query } = await spoolCorpus('basic-caller-bye-pcma.pcap', (kind, i, sec) => (kind === 'rtp' && i === last ? sec + 36_000 : sec));
    // 10 minutes: about 9.5 of them are silence released at the end, before pacing in one go.
    const audio = await openCallAudio(dir, query, { layout: 'caller', maxDurationMs: 600_000 });
    expect(audio.plan.durationCapped).toBe(true);
    let bytes = 0;
    for await (const c of audio.readable()) {
      bytes += (c as Buffer).length;
      // A slow reader: the render must wait for it rather than fill the buffer.
      await new Promise((r) => setImmediate(r));
    }
    expect(bytes).toBe(audio.plan.wavBytes);
    expect((await audio.done)!.bytes).toBe(bytes);
    // One 250 ms mono chunk (4000 bytes) past the high-water mark at most (was the whole 9.5 minutes, 9 MB).
    expect(audio.peakBufferedBytes).toBeGreaterThan(0);
    expect(audio.peakBufferedBytes).toBeLessThanOrEqual(CALL_AUDIO_READABLE_HIGH_WATER_MARK + 4000);
  });

  test('the timeline is capped (maxDurationMs): exact smaller WAV, flagged; options checked', async () => {
    const { dir, query } = await spoolCorpus('basic-caller-bye-pcma.pcap');
    const audio = await openCallAudio(dir, query, { layout: 'mixed', maxDurationMs: 1000 });
    expect(audio.plan).toMatchObject({ durationCapped: true, frames: 8000, wavBytes: 44 + 16000, channels: 1 });
    const { pcm } = await wavOf(dir, query, { layout: 'mixed', maxDurationMs: 1000 });
    expect(pcm.length).toBe(8000);
    expect((await openCallAudio(dir, query, { layout: 'mixed' })).plan.durationCapped).toBe(false);
    await expect(openCallAudio(dir, query, { layout: 'mixed', maxDurationMs: MAX_CALL_AUDIO_MS + 1 })).rejects.toThrow(RangeError);
    await expect(openCallAudio(dir, query, { layout: 'quad' as 'mixed' })).rejects.toThrow(RangeError);
  });
});
