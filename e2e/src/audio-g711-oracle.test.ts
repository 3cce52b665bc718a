/**
 * Issue 14 "Done when", audio: for EVERY G.711 call of the corpus (fixtures/corpus, each capture
 * with its truth file), the sniffer's own spool (`analyze --spool`, the built bundle) rendered by
 * libs/call-artifacts as stereo equals an independent decode, sample for sample over the whole
 * call: tshark's RTP payload export of each stream (seq, timestamp, arrival, payload) decoded by
 * sox (`-t al` / `-t ul`), placed at the stream's first G.711 arrival plus its timestamp offset.
 * Everything else on a leg must be silence: before and after the streams, inside lost packets'
 * spans, and where RFC 4733 events replaced the voice. The call's duration is its media span
 * within one packet time (20 ms). Calls whose media is not G.711 (busy-hour-a's G.729) must be
 * refused with UNSUPPORTED_CODEC, calls without RTP with NO_AUDIO.
 *
 * tshark and sox share no code with ours; one tshark run and one sox run per law per capture.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { corpusCaptures, corpusPath, type CorpusTruth } from '@callscope/testing';
import { openCallAudio, type CallArtifactQuery } from '@callscope/call-artifacts';

const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
const work = mkdtempSync(join(tmpdir(), 'hA-audio-oracle-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** G.711 payload types and the sox file type of each; every other PT carries no voice here (events, CN) or is refused. */
const LAW: Readonly<Record<number, 'ul' | 'al'>> = { 0: 'ul', 8: 'al' };
/** Payload types the renderer skips without refusing the call (the corpus uses 101 for telephone-event). */
const SKIPPED_PTS = new Set([13, 101]);

function tool(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args, { maxBuffer: 1024 * 1024 * 1024 });
  if (r.error !== undefined) throw new Error(`${cmd} is needed by this oracle test (${r.error.message}); apt-get install -y ${cmd} (scripts/ensure.mjs installs it)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return r.stdout;
}

/** One RTP packet as tshark dissected it, with its samples decoded by sox (null for non-G.711). */
interface OraclePacket {
  /** Index in the capture (arrival order across streams). */
  index: number;
  arrivalUs: number;
  ssrc: number;
  seq: number;
  timestamp: number;
  pt: number;
  samples: Int16Array | null;
}

/**
 * Every RTP packet of the capture, per stream key `ssrc srcPort dstPort` (the innermost UDP
 * header: `occurrence=l` skips tunnel headers), in capture order. G.711 payloads of each law are
 * decoded by one sox run.
 */
function oracleStreams(pcap: string, tag: string): Map<string, OraclePacket[]> {
  const fields = ['frame.time_epoch', 'rtp.ssrc', 'udp.srcport', 'udp.dstport', 'rtp.seq', 'rtp.timestamp', 'rtp.p_type', 'rtp.payload'];
  const text = tool('tshark', ['-r', pcap, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp && !rtcp', '-T', 'fields', '-E', 'occurrence=l', ...fields.flatMap((f) => ['-e', f])]).toString();
  const rows = text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
  const payloads: Record<'ul' | 'al', Buffer[]> = { ul: [], al: [] };
  const streams = new Map<string, OraclePacket[]>();
  const pending: { p: OraclePacket; law: 'ul' | 'al'; n: number }[] = [];
  let rowIndex = 0;
  for (const r of rows) {
    const [epoch, ssrc, srcPort, dstPort, seq, ts, pt, payload = ''] = r as [string, string, string, string, string, string, string, string?];
    // frame.time_epoch has 9 decimals: µs from the text, no float rounding.
    const [s, frac = ''] = epoch.split('.');
    const p: OraclePacket = { index: rowIndex++, arrivalUs: Number(s) * 1e6 + Number(frac.padEnd(9, '0').slice(0, 6)), ssrc: Number(ssrc), seq: Number(seq), timestamp: Number(ts), pt: Number(pt), samples: null };
    const key = `0x${Number(ssrc).toString(16).padStart(8, '0')} ${srcPort} ${dstPort}`;
    let list = streams.get(key);
    if (list === undefined) streams.set(key, (list = []));
    list.push(p);
    const law = LAW[p.pt];
    if (law !== undefined && payload !== '') {
      const bytes = Buffer.from(payload.replaceAll(':', ''), 'hex');
      payloads[law].push(bytes);
      pending.push({ p, law, n: bytes.length });
    }
  }
  const decoded: Record<'ul' | 'al', Int16Array> = { ul: new Int16Array(0), al: new Int16Array(0) };
  for (const law of ['ul', 'al'] as const) {
    if (payloads[law].length === 0) continue;
    const raw = join(work, `${tag}.${law}`);
    const out = join(work, `${tag}.${law}.s16`);
    writeFileSync(raw, Buffer.concat(payloads[law]));
    tool('sox', ['-t', law, '-r', '8000', '-c', '1', raw, '-t', 's16', '-L', out]);
    const b = readFileSync(out);
    decoded[law] = new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  }
  const at = { ul: 0, al: 0 };
  for (const { p, law, n } of pending) {
    p.samples = decoded[law].subarray(at[law], at[law] + n);
    at[law] += n;
  }
  expect(at.ul).toBe(decoded.ul.length);
  expect(at.al).toBe(decoded.al.length);
  return streams;
}

interface CdrLine {
  type: string;
  call_id: string;
  start: string;
}

/** The sniffer's spool of the capture and each call's spool key (from its CDR). */
function spoolCapture(file: string): { spool: string; queries: Map<string, CallArtifactQuery> } {
  const spool = mkdtempSync(join(work, 'spool-'));
  const analyzed = spawnSync(process.execPath, [sniffer, 'analyze', corpusPath(file), '--spool', spool, '--format', 'jsonl'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  expect(analyzed.status, analyzed.stderr).toBe(0);
  const queries = new Map<string, CallArtifactQuery>();
  for (const line of analyzed.stdout.trim().split('\n')) {
    const r = JSON.parse(line) as CdrLine;
    if (r.type !== 'call') continue;
    // `start` is ISO with µs (YYYY-MM-DDTHH:MM:SS.uuuuuuZ): the spool's key, as the CDR stores it.
    queries.set(r.call_id, { callId: r.call_id, startSec: Date.parse(`${r.start.slice(0, 19)}Z`) / 1000, startUsec: Number(r.start.slice(20, 26)) });
  }
  return { spool, queries };
}

type CallKind = 'g711' | 'no-rtp' | 'other-codec';
function kindOf(truth: CorpusTruth, callId: string): CallKind {
  const media = truth.rtp_streams.filter((s) => s.call_id === callId);
  if (media.length === 0) return 'no-rtp';
  return media.every((s) => s.payload_types.every((pt) => LAW[pt] !== undefined || SKIPPED_PTS.has(pt))) ? 'g711' : 'other-codec';
}

const captures = corpusCaptures()
  .map((c) => c.truth)
  .filter((t) => t.calls.length > 0);

/** What the whole run compared, for the summary test at the end. */
const tally = { calls: 0, streams: 0, packets: 0, samples: 0, silentLostSamples: 0, refused: 0, noAudio: 0 };

describe('call audio of every G.711 corpus call equals tshark + sox, sample for sample', () => {
  test('the sniffer bundle is built', () => {
    expect(existsSync(sniffer)).toBe(true);
  });

  test.each(captures.map((t) => [t.file, t] as const))('%s', async (file, truth) => {
    const { spool, queries } = spoolCapture(file);
    const needsOracle = truth.calls.some((c) => kindOf(truth, c.call_id) === 'g711');
    const oracle = needsOracle ? oracleStreams(corpusPath(file), file.replace(/\W/g, '_')) : new Map<string, OraclePacket[]>();
    for (const call of truth.calls) {
      const query = queries.get(call.call_id);
      expect(query, `CDR of ${call.call_id}`).toBeDefined();
      const kind = kindOf(truth, call.call_id);
      if (kind === 'no-rtp') {
        await expect(openCallAudio(spool, query!, { layout: 'stereo' }), `audio of ${call.call_id}`).rejects.toMatchObject({ code: 'NO_AUDIO' });
        tally.noAudio++;
        continue;
      }
      if (kind === 'other-codec') {
        await expect(openCallAudio(spool, query!, { layout: 'stereo' }), `audio of ${call.call_id}`).rejects.toMatchObject({ code: 'UNSUPPORTED_CODEC' });
        tally.refused++;
        continue;
      }
      const audio = await openCallAudio(spool, query!, { layout: 'stereo' });
      const chunks: Uint8Array[] = [];
      const summary = await audio.render((c) => void chunks.push(c));
      const wav = Buffer.concat(chunks);
      expect(wav.length).toBe(audio.plan.wavBytes);
      expect(summary.bytes).toBe(wav.length);
      const frames = audio.plan.frames;
      const pcm = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length));
      expect(pcm.length).toBe(frames * 2);

      const media = truth.rtp_streams.filter((s) => s.call_id === call.call_id);
      // Duration: the media span (first to last RTP arrival plus one 20 ms packet), within one packet time.
      const spanS = Math.max(...media.map((s) => s.end_time)) - Math.min(...media.map((s) => s.start_time)) + 0.02;
      expect(Math.abs(frames / 8000 - spanS), `duration of ${call.call_id}`).toBeLessThan(0.02);

      // The expected legs: silence, with the G.711 packets at their place. The documented mapping
      // (libs/rtp README, "Call audio"), applied per leg in arrival order: a packet of a new SSRC
      // anchors at its own arrival; later packets of that SSRC at anchor + (timestamp − anchor
      // timestamp), so an SSRC that carries on across a re-INVITE's port change keeps its
      // timestamp continuity. A position keeps the first packet that covers it.
      const expected = [new Int16Array(frames), new Int16Array(frames)] as const;
      const written = [new Uint8Array(frames), new Uint8Array(frames)] as const;
      const posOf = new Map<OraclePacket, number>();
      const legPackets: [OraclePacket[], OraclePacket[]] = [[], []];
      const streamsOf: { key: string; leg: 0 | 1; voice: OraclePacket[] }[] = [];
      for (const s of media) {
        const key = `${s.ssrc} ${s.src_port} ${s.dst_port}`;
        const packets = oracle.get(key);
        expect(packets, `tshark found stream ${key} of ${call.call_id}`).toBeDefined();
        expect(packets!.length, `packets of ${key}`).toBe(s.packets);
        const leg = s.src === call.caller_ip ? 0 : 1;
        const voice = packets!.filter((p) => p.samples !== null);
        legPackets[leg].push(...voice);
        streamsOf.push({ key, leg, voice });
      }
      for (const leg of [0, 1] as const) {
        let anchor: OraclePacket | null = null;
        let anchorPos = 0;
        for (const p of legPackets[leg].sort((a, b) => a.index - b.index)) {
          if (anchor === null || p.ssrc !== anchor.ssrc) {
            anchor = p;
            anchorPos = Math.round((p.arrivalUs - audio.plan.originUs) / 125);
          }
          const pos = anchorPos + ((p.timestamp - anchor.timestamp) | 0);
          posOf.set(p, pos);
          for (let i = 0; i < p.samples!.length; i++) {
            const at = pos + i;
            if (at < 0 || at >= frames || written[leg][at] !== 0) continue;
            expected[leg][at] = p.samples![i]!;
            written[leg][at] = 1;
          }
          tally.packets++;
          tally.samples += p.samples!.length;
        }
      }
      let lostSpans = 0;
      for (const { key, leg, voice } of streamsOf) {
        // Lost packets: sequence gaps between consecutive packets in sequence order; their spans stay silent.
        const first = voice[0]!;
        const bySeq = [...voice].sort((a, b) => ((a.seq - first.seq) & 0xffff) - ((b.seq - first.seq) & 0xffff));
        for (let k = 1; k < bySeq.length; k++) {
          const missing = ((bySeq[k]!.seq - bySeq[k - 1]!.seq) & 0xffff) - 1;
          if (missing <= 0) continue;
          lostSpans++;
          const from = posOf.get(bySeq[k - 1]!)! + bySeq[k - 1]!.samples!.length;
          const to = posOf.get(bySeq[k]!)!;
          expect(to - from, `lost span before seq ${bySeq[k]!.seq} of ${key}`).toBe(missing * 160);
          for (let at = from; at < to; at++) expect(pcm[2 * at + leg], `lost span of ${key} at ${at}`).toBe(0);
          tally.silentLostSamples += to - from;
        }
        tally.streams++;
      }
      if (media.some((s) => s.lost > 0)) expect(lostSpans, `lost spans of ${call.call_id}`).toBeGreaterThan(0);
      // Whole-leg comparison: one mismatch reports its leg, position and both values.
      for (const leg of [0, 1] as const) {
        let mismatch = -1;
        for (let at = 0; at < frames && mismatch < 0; at++) if (pcm[2 * at + leg] !== expected[leg][at]) mismatch = at;
        const got = mismatch < 0 ? null : { at: mismatch, ours: pcm[2 * mismatch + leg], sox: expected[leg][mismatch], written: written[leg][mismatch] };
        expect(got, `${file} ${call.call_id} leg ${leg === 0 ? 'caller' : 'callee'}`).toBeNull();
      }
      expect([summary.caller.late, summary.callee.late, summary.caller.unsupported, summary.callee.unsupported], `late / unsupported of ${call.call_id}`).toEqual([0, 0, 0, 0]);
      tally.calls++;
    }
  });

  test('covered every G.711 call of the corpus', () => {
    const g711 = captures.flatMap((t) => t.calls.filter((c) => kindOf(t, c.call_id) === 'g711'));
    expect(tally.calls).toBe(g711.length);
    expect(tally.calls).toBeGreaterThanOrEqual(15);
    expect(tally.silentLostSamples).toBeGreaterThan(0);
    expect(tally.refused).toBeGreaterThan(0);
    expect(tally.noAudio).toBeGreaterThan(0);
  });
});
