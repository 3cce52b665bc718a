/**
 * Issue 14 (libs/call-artifacts): every corpus capture analysed by the built sniffer
 * (`analyze --spool`, the real spool writer), then each call read back with the lib: the SIP ladder has exactly the truth's SIP message
 * count, each stream's series adds up to the CDR's packets and lost, and the call's audio (WAV)
 * lasts its media span within one packet time with every stream on the CDR's side (calls without
 * RTP: NO_AUDIO; codecs other than G.711: UNSUPPORTED_CODEC). Sample-exact audio against tshark +
 * sox is libs/call-artifacts/src/call-audio.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { corpusCaptures, corpusPath } from '@callscope/testing';
import { openCallAudio, readCallSip, readCallStreamSeries } from '@callscope/call-artifacts';

const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
/** busy-hour-a has 200 calls; a sample keeps the suite fast. */
const MAX_CALLS_PER_CAPTURE = 8;

interface CdrStream { ssrc: string; src_ip: string; src_port: number; dst_ip: string; dst_port: number; side: string; codec: string | null; packets: number; lost: number }
interface Cdr { type: string; call_id: string; start: string; streams: CdrStream[] }

const truths = corpusCaptures()
  .map((c) => c.truth)
  .filter((t) => t.calls.length > 0);
const spools: string[] = [];
afterAll(() => {
  for (const s of spools) rmSync(s, { recursive: true, force: true });
});

describe('call artifacts (ladder, stream series) read back from the spool the sniffer wrote', () => {
  test('the sniffer bundle is built', () => {
    expect(existsSync(sniffer)).toBe(true);
  });

  test.each(truths.map((t) => [t.file, t] as const))('%s', async (file, truth) => {
    const spool = mkdtempSync(join(tmpdir(), 'hE-call-artifacts-'));
    spools.push(spool);
    const analyzed = spawnSync(process.execPath, [sniffer, 'analyze', corpusPath(file), '--spool', spool, '--format', 'jsonl'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const cdrs = analyzed.stdout.trim().split('\n').map((l) => JSON.parse(l) as Cdr).filter((r) => r.type === 'call');
    for (const t of truth.calls.slice(0, MAX_CALLS_PER_CAPTURE)) {
      const cdr = cdrs.find((r) => r.call_id === t.call_id)!;
      expect(cdr, t.call_id).toBeDefined();
      // `start` is ISO with µs (YYYY-MM-DDTHH:MM:SS.uuuuuuZ): the spool's key, as the CDR stores it.
      const query = { callId: cdr.call_id, startSec: Date.parse(`${cdr.start.slice(0, 19)}Z`) / 1000, startUsec: Number(cdr.start.slice(20, 26)) };

      const ladder = (await readCallSip(spool, query))!;
      expect(ladder.count, `SIP messages of ${t.call_id}`).toBe(t.sip_messages);
      expect(ladder.truncated).toBe(false);
      expect(ladder.messages.map((m) => m.time)).toEqual([...ladder.messages.map((m) => m.time)].sort());
      expect(ladder.messages[0]!.firstLine).toMatch(/^INVITE /);
      for (const m of ladder.messages) expect(m.raw.startsWith(m.firstLine)).toBe(true);
      // A retransmission repeats an earlier message; the first INVITE is never one.
      expect(ladder.messages[0]!.retransmission).toBe(false);
      expect(ladder.messages.filter((m) => m.firstLine.startsWith('INVITE ') && m.cseq === ladder.messages[0]!.cseq).length).toBe(t.invite_requests);

      const series = await readCallStreamSeries(spool, query);
      expect(series.sipMissing).toBe(false);
      const key = (s: { ssrc: string; src_port: number; dst_port: number }): string => `${s.ssrc} ${s.src_port} ${s.dst_port}`;
      const got = series.streams.map((s) => ({
        key: key({ ssrc: s.ssrc, src_port: s.src.port, dst_port: s.dst.port }),
        side: s.side,
        codec: s.codec,
        packets: s.buckets.reduce((a, b) => a + b.packets, 0),
        lost: s.buckets.reduce((a, b) => a + b.lost, 0),
      }));
      const want = cdr.streams.map((s) => ({ key: key(s), side: s.side, codec: s.codec, packets: s.packets, lost: s.lost }));
      expect(got.sort((a, b) => a.key.localeCompare(b.key)), `streams of ${t.call_id}`).toEqual(want.sort((a, b) => a.key.localeCompare(b.key)));

      const media = truth.rtp_streams.filter((r) => r.call_id === t.call_id);
      const audio = openCallAudio(spool, query, { layout: 'stereo' });
      if (media.length === 0) {
        await expect(audio, `audio of ${t.call_id}`).rejects.toMatchObject({ code: 'NO_AUDIO' });
      } else if (media.some((r) => r.payload_types.some((pt) => pt !== 0 && pt !== 8 && pt !== 13 && pt < 96))) {
        await expect(audio, `audio of ${t.call_id}`).rejects.toMatchObject({ code: 'UNSUPPORTED_CODEC' });
      } else {
        const a = await audio;
        expect(a.plan.streams.map((x) => `${key({ ssrc: x.ssrc, src_port: x.src.port, dst_port: x.dst.port })} ${x.side}`).sort()).toEqual(want.map((x) => `${x.key} ${x.side}`).sort());
        let bytes = 0;
        await a.render((c) => {
          bytes += c.length;
        });
        expect(bytes).toBe(a.plan.wavBytes);
        const spanS = Math.max(...media.map((r) => r.end_time)) - Math.min(...media.map((r) => r.start_time)) + 0.02;
        expect(Math.abs(a.plan.frames / 8000 - spanS), `audio duration of ${t.call_id}`).toBeLessThan(0.02);
      }
    }
  });
});
