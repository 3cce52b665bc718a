/**
 * `rtp_headers` mode with the cut point from the caller (issue 11: the spool no longer re-decodes
 * every frame; the sniffer passes the RTP header end it found while decoding).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpoolMode, SpoolWriter } from '../src/index.js';
import type { SpoolWriterOptions } from '../src/index.js';
import { loadFrames, retrieve, tempSpool } from './spool-fixtures.js';
import type { Frame } from './spool-fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let rtp: Frame;
let sip: Frame;
beforeAll(async () => {
  const frames = await loadFrames('basic-caller-bye-pcma.pcap');
  rtp = frames.find((f) => f.kind === 'rtp')!;
  sip = frames.find((f) => f.kind === 'sip')!;
});

const ref = () => ({ callId: 'cut@192.0.2.10', startSec: rtp.tsSec, startUsec: 0 });

/** Writes one packet and reads the call back: stored captured length, or null when nothing was stored. */
async function storeOne(options: Partial<SpoolWriterOptions>, kind: 'sip' | 'rtp' | 'rtcp', f: Frame, rtpHeaderEnd?: number) {
  const dir = tempSpool('cut');
  dirs.push(dir);
  const writer = new SpoolWriter({ spoolDir: dir, ...options });
  const call = ref();
  if (rtpHeaderEnd === undefined) writer.write(call, kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
  else writer.write(call, kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType, rtpHeaderEnd);
  await writer.close();
  const stats = writer.stats();
  if (stats.packetsWritten === 0) return { capLen: null, stats };
  const got = await retrieve(dir, { callId: call.callId, startSec: call.startSec, startUsec: call.startUsec });
  const r = got.records[0]!;
  expect(r.origLen).toBe(f.origLen);
  expect(Buffer.from(r.data).equals(Buffer.from(f.data.subarray(0, r.capLen)))).toBe(true);
  return { capLen: r.capLen, stats };
}

describe('SpoolWriter rtp_headers cut from the caller', () => {
  it('the fixture frame is Ethernet + IPv4 + UDP + a 12-byte RTP header + payload', () => {
    expect([rtp.rtpHeaderEnd, rtp.data.length]).toEqual([54, 214]);
  });

  it.each([
    ['rtp_headers, rtp, header end given', SpoolMode.RTP_HEADERS, 'rtp', 54, 54, 1],
    ['rtp_headers, rtp, a deeper header end (CSRC/extension) is taken as given', SpoolMode.RTP_HEADERS, 'rtp', 70, 70, 1],
    ['rtp_headers, rtp, 0 = not known: whole', SpoolMode.RTP_HEADERS, 'rtp', 0, 214, 0],
    ['rtp_headers, rtp, omitted: whole', SpoolMode.RTP_HEADERS, 'rtp', undefined, 214, 0],
    ['rtp_headers, rtp, header end = frame length: whole, not counted as cut', SpoolMode.RTP_HEADERS, 'rtp', 214, 214, 0],
    ['rtp_headers, rtcp is never cut', SpoolMode.RTP_HEADERS, 'rtcp', 54, 214, 0],
    ['sip_rtp never cuts', SpoolMode.SIP_RTP, 'rtp', 54, 214, 0],
  ] as const)('%s', async (_name, mode, kind, end, capLen, cut) => {
    const got = await storeOne({ mode }, kind, rtp, end);
    expect([got.capLen, got.stats.packetsCut]).toEqual([capLen, cut]);
  });

  it('SIP is kept whole in rtp_headers mode even with a header end', async () => {
    const got = await storeOne({ mode: SpoolMode.RTP_HEADERS }, 'sip', sip, 54);
    expect([got.capLen, got.stats.packetsCut]).toEqual([sip.data.length, 0]);
  });

  it.each([
    ['past the frame', 215],
    ['negative', -1],
    ['fractional', 54.5],
    ['NaN', Number.NaN],
  ])('a header end %s is a bad packet (dropped, counted)', async (_name, end) => {
    const got = await storeOne({ mode: SpoolMode.RTP_HEADERS }, 'rtp', rtp, end);
    expect([got.capLen, got.stats.packetsDropped.bad_packet]).toEqual([null, 1]);
  });
});
