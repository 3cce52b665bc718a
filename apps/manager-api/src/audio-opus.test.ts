/**
 * calls/{callId}/audio of an Opus call (dynamic PT 111, `a=rtpmap:111 opus/48000`): the route
 * answers a WAV of the announced length whose legs match `opusdec --rate 8000` of the Opus files
 * the packets came from (opusenc, two different signals; SNR > 30 dB: two builds of libopus,
 * aligned by the Ogg pre-skip that RTP does not carry). G.711 is covered by the oracle tests.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { oggPackets, runTool, snrDb } from '@callscope/testing';
import { loadManagerApiConfig } from './config.js';
import { buildServer } from './server.js';
import { MANAGER_API_VERSION } from './version.js';
import { CALLEE_LAG_US, spoolSyntheticCall } from '../test/synthetic-call.js';

const work = mkdtempSync(join(tmpdir(), 'hA-audio-opus-api-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('calls/{callId}/audio of an Opus call', () => {
  it('200, the announced length, each leg = opusdec --rate 8000 (SNR > 30 dB)', async () => {
    const legs = ['sine 250-2800', 'sine 1800-300'].map((synth, i) => {
      const wav = join(work, `${i}.wav`);
      const opus = join(work, `${i}.opus`);
      const dec = join(work, `${i}.8k.wav`);
      runTool('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', wav, 'synth', '2', ...synth.split(' '), 'vol', '0.4']);
      runTool('opusenc', ['--quiet', '--framesize', '20', '--bitrate', '64', wav, opus]);
      runTool('opusdec', ['--quiet', '--no-dither', '--rate', '8000', opus, dec]);
      const all = oggPackets(readFileSync(opus));
      const raw = runTool('sox', [dec, '-t', 's16', '-L', '-']);
      return { packets: all.slice(2), preSkip8k: all[0]!.readUInt16LE(10) / 6, reference: new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)) };
    });
    const n = Math.min(legs[0]!.packets.length, legs[1]!.packets.length);
    const startSec = Date.parse('2026-11-29T19:00:00Z') / 1000;
    const callId = 'opus-call@192.0.2.30';
    const spool = join(work, 'spool');
    await spoolSyntheticCall(spool, { callId, startSec, payloadType: 111, rtpmap: 'opus/48000/2', payloadBytes: 0, packetsBefore: n, packetsAfter: 0, gapS: 0, clockRate: 48_000, payload: (leg, k) => legs[leg]!.packets[k]! });

    const app = buildServer(loadManagerApiConfig([], { CALLSCOPE_MANAGER_API_SPOOL_DIR: spool, CALLSCOPE_MANAGER_API_CONTROL: join(work, 'no.sock') }).config, { version: MANAGER_API_VERSION });
    const res = await app.inject({ method: 'GET', url: `/api/v1/calls/${encodeURIComponent(callId)}/audio?start=2026-11-29T19:00:00Z` });
    await app.close();
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
    expect(res.headers['content-type']).toBe('audio/wav');
    const wav = res.rawPayload;
    expect(wav.length).toBe(Number(res.headers['content-length']));
    expect([wav.readUInt16LE(22), wav.readUInt32LE(24)]).toEqual([2, 8000]);
    const frames = (wav.length - 44) / 4;
    // First caller packet to the last callee packet plus its 20 ms.
    expect(frames).toBe(((n - 1) * 20_000 + CALLEE_LAG_US + 20_000) / 125);
    const pcm = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length));
    for (const [i, l] of legs.entries()) {
      const channel = pcm.filter((_, j) => j % 2 === i);
      const lag = (i === 1 ? CALLEE_LAG_US / 125 : 0) + l.preSkip8k;
      const reference = l.reference.subarray(0, n * 160 - l.preSkip8k - 8);
      const snr = snrDb(reference, channel, lag);
      expect(snr, `leg ${i} SNR ${snr.toFixed(1)} dB`).toBeGreaterThan(30);
      // The other leg's signal is not this one (legs not swapped).
      expect(snrDb(reference, pcm.filter((_, j) => j % 2 === 1 - i), lag)).toBeLessThan(10);
    }
  }, 60_000);
});
