/**
 * Issue 11's spool defects, through the pipeline and CallSpool as `analyze --spool` runs them:
 * retention measured on the capture's clock (analysing an old capture kept nothing), HEP-received
 * calls spooled as the rebuilt inner packets (tshark saw UDP to 9060 and not one SIP message), and
 * the `rtp_headers` cut taken from the pipeline's decode. tshark is the independent reader.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline, type CallPacketObserver } from '@callscope/call-engine';
import type { CallRecord } from '@callscope/cdr-model';
import { createDecodedPacket, DecodeStatus, PacketDecoder, Transport } from '@callscope/packet';
import { LinkType, type PacketRecord } from '@callscope/pcap-format';
import { openCallPcap, readCallPcap, SpoolError, SpoolErrorCode, SpoolGroup, spoolMinuteDir } from '@callscope/pcap-store';
import { isoToMicros, readCorpusRecords, readTruth } from '@callscope/testing';
import { runSpool } from '../src/cli/spool.cli.js';
import { CallSpool, type CallSpoolOptions } from '../src/output/call-spool.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `callscope-call-spool-${tag}-`));
  dirs.push(d);
  return d;
}

const SPOOL_DEFAULTS = { mode: 'sip_rtp', compress: 'none', maxSizeBytes: 10 * 1024 ** 3, maxAgeDays: 30, maxOpenFiles: 64 } as const;

/** `analyze --spool`: every record through the pipeline into a CallSpool, then close. */
async function analyzeWithSpool(records: readonly PacketRecord[], options: Partial<CallSpoolOptions> & { dir: string }): Promise<{ calls: CallRecord[]; spool: CallSpool }> {
  const calls: CallRecord[] = [];
  const spool = new CallSpool({ ...SPOOL_DEFAULTS, ...options });
  const pipeline = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: (c) => calls.push(c), onRegister: () => undefined }, spool);
  for (const rec of records) {
    pipeline.onPacket(rec);
    if (spool.needsPause) await spool.drain();
  }
  pipeline.finish();
  await spool.close();
  expect(pipeline.counters.internalErrors, String(pipeline.firstInternalError?.stack)).toBe(0);
  return { calls, spool };
}

function startOf(call: CallRecord): { startSec: number; startUsec: number } {
  const us = isoToMicros(call.start);
  return { startSec: Math.floor(us / 1e6), startUsec: us % 1e6 };
}

/** The call's merged pcap, as `sniffer pcap` retrieves it, written to a file for tshark. */
async function retrieveToFile(dir: string, call: CallRecord): Promise<string> {
  const chunks: Buffer[] = [];
  await readCallPcap(dir, { callId: call.call_id, ...startOf(call) }, (chunk) => {
    chunks.push(Buffer.from(chunk));
  });
  const out = join(dir, `retrieved-${Math.random().toString(36).slice(2)}.pcap`);
  writeFileSync(out, Buffer.concat(chunks));
  return out;
}

/** The groups of the call the spool can give back (its chunks are found through the minute's index). */
async function groupsStored(dir: string, call: CallRecord): Promise<SpoolGroup[]> {
  const found: SpoolGroup[] = [];
  for (const group of [SpoolGroup.RTP, SpoolGroup.SIP]) {
    try {
      const stream = await openCallPcap(dir, { callId: call.call_id, ...startOf(call), kinds: [group] });
      await stream.close();
      found.push(group);
    } catch (err) {
      if (!(err instanceof SpoolError) || err.code !== SpoolErrorCode.CallNotFound) throw err;
    }
  }
  return found;
}

function tshark(args: string[]): string {
  return execFileSync('tshark', ['-n', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** tshark's view of a pcap: SIP Call-IDs (one per message) and RTP streams "ssrc sport dport packets". */
function tsharkView(file: string): { sipCallIds: string[]; streams: string[]; firstSipTime: string } {
  const sip = tshark(['-r', file, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Call-ID', '-e', 'frame.time_epoch']).split('\n').filter((l) => l !== '');
  const rtp = tshark(['-q', '-r', file, '-z', 'rtp,streams']);
  // start end src port dst port SSRC payload(s, may contain spaces) packets lost (pct) ...
  const row = /^\s*[\d.]+\s+[\d.]+\s+\S+\s+(\d+)\s+\S+\s+(\d+)\s+(0x[0-9A-F]+)\s+.*?\s(\d+)\s+-?\d+ \(/i;
  const streams = rtp
    .split('\n')
    .map((l) => row.exec(l))
    .filter((m) => m !== null)
    .map((m) => `${m[3]!.toLowerCase()} ${m[1]} ${m[2]} ${m[4]}`);
  return { sipCallIds: sip.map((l) => l.split('\t')[0]!), streams: streams.sort(), firstSipTime: sip[0]?.split('\t')[1] ?? '' };
}

function truthView(capture: string, callId: string): { sip: number; streams: string[]; inviteTime: number } {
  const truth = readTruth(capture);
  const call = truth.calls.find((c) => c.call_id === callId)!;
  const streams = truth.rtp_streams
    .filter((s) => s.call_id === callId)
    .map((s) => `${s.ssrc} ${s.src_port} ${s.dst_port} ${s.packets}`)
    .sort();
  return { sip: call.sip_messages, streams, inviteTime: call.invite_time };
}

describe('retention measures age on the capture clock (issue 11: analyze --spool deleted what it wrote)', () => {
  // The corpus is dated 2026-11-29; with maxAgeDays 1 every call is "old" by the wall clock.
  const records = readCorpusRecords('basic-caller-bye-pcma.pcap');

  /** A minute directory of an earlier run, 9 days before the capture: old on any clock. */
  function plantOldMinute(dir: string): string {
    const minute = join(dir, '2026-11-20', '10', '00');
    mkdirSync(minute, { recursive: true });
    writeFileSync(join(minute, 'old-call.sip.pcap'), Buffer.alloc(100));
    return minute;
  }

  test('retention on, maxAgeDays 1: the analysed call keeps its files; spool data older than the capture goes', async () => {
    const dir = tempDir('ret');
    const old = plantOldMinute(dir);
    const { calls } = await analyzeWithSpool(records, { dir, maxAgeDays: 1 });
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    const { startSec } = startOf(call);
    expect(Date.now() / 1000 - startSec).toBeGreaterThan(86_400); // the regression's precondition
    expect(await groupsStored(dir, call)).toEqual([SpoolGroup.RTP, SpoolGroup.SIP]);
    expect(existsSync(old)).toBe(false);
    const view = tsharkView(await retrieveToFile(dir, call));
    expect(view.sipCallIds).toHaveLength(call.sip_packets);
  }, 60_000);

  test('a packet stamped in the future does not age out the rest: "now" is capped at the wall clock', async () => {
    const dir = tempDir('future');
    // One more RTP packet after the call, stamped 2100 (a sender with a wrong clock): the spool
    // holds it as possible early media and sees its time. The age limit is a day more than the
    // call's age by the wall clock, so only a clock running in 2100 would find it too old.
    const rtp = records.find((r) => r.capLen === 14 + 20 + 8 + 12 + 160)!;
    const skewed = [...records, { ...rtp, tsSec: Date.UTC(2100, 0, 1) / 1000 }];
    const maxAgeDays = (Date.now() / 1000 - records[0]!.tsSec) / 86_400 + 1;
    const { calls } = await analyzeWithSpool(skewed, { dir, maxAgeDays });
    expect(await groupsStored(dir, calls[0]!)).toEqual([SpoolGroup.RTP, SpoolGroup.SIP]);
  });

  test('retention: false deletes nothing, not even data older than the age limit', async () => {
    const dir = tempDir('noret');
    const old = plantOldMinute(dir);
    const { calls } = await analyzeWithSpool(records, { dir, maxAgeDays: 1, maxSizeBytes: 0, retention: false });
    expect(await groupsStored(dir, calls[0]!)).toEqual([SpoolGroup.RTP, SpoolGroup.SIP]);
    expect(existsSync(join(old, 'old-call.sip.pcap'))).toBe(true);
  });

  test('the size limit still applies on the capture clock: maxSizeBytes 0 leaves no closed call behind', async () => {
    const dir = tempDir('size');
    const { calls } = await analyzeWithSpool(records, { dir, maxAgeDays: 1, maxSizeBytes: 0 });
    expect(await groupsStored(dir, calls[0]!)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// HEP: a corpus call re-sent as a HEP agent would (every UDP/TCP payload in a HEP message to a
// collector on port 9060), received 2.5 s later than captured.

const COLLECTOR_DELAY_NS = 2_500_000_000;

function be16(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}
function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
function words(w: Uint32Array): number[] {
  return Array.from(w).flatMap(be32);
}
/** One HEP3 chunk of vendor 0 (HEP3 spec, "Chunk types"). */
function chunk(type: number, value: number[] | Uint8Array): number[] {
  return [...be16(0), ...be16(type), ...be16(6 + value.length), ...Array.from(value)];
}

interface Inner {
  family: 4 | 6;
  proto: number;
  src: number[];
  dst: number[];
  sport: number;
  dport: number;
  tsSec: number;
  tsUsec: number;
  payload: Uint8Array;
}

function hep3(m: Inner): Uint8Array {
  const body = [
    ...chunk(1, [m.family === 4 ? 2 : 10]),
    ...chunk(2, [m.proto]),
    ...chunk(m.family === 4 ? 3 : 5, m.src),
    ...chunk(m.family === 4 ? 4 : 6, m.dst),
    ...chunk(7, be16(m.sport)),
    ...chunk(8, be16(m.dport)),
    ...chunk(9, be32(m.tsSec)),
    ...chunk(10, be32(m.tsUsec)),
    ...chunk(12, be32(2001)),
    ...chunk(15, m.payload),
  ];
  return Uint8Array.from([0x48, 0x45, 0x50, 0x33, ...be16(6 + body.length), ...body]);
}

/** HEP v2 (Kamailio siptrace): 8-byte header + addresses, then a little-endian time header. */
function hep2(m: Inner): Uint8Array {
  const addr = [...m.src, ...m.dst];
  return Uint8Array.from([2, 8 + addr.length, m.family === 4 ? 2 : 10, m.proto, ...be16(m.sport), ...be16(m.dport), ...addr, ...le32(m.tsSec), ...le32(m.tsUsec), 0xd1, 0x07, 0, 0, ...m.payload]);
}

/** Ethernet + IPv4 (agent 10.99.0.1 -> collector 10.99.0.2) + UDP 9060 around a HEP message. */
function toCollector(hep: Uint8Array): Uint8Array {
  const udpLen = 8 + hep.length;
  return Uint8Array.from([
    ...[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00],
    ...[0x45, 0, ...be16(20 + udpLen), 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 99, 0, 1, 10, 99, 0, 2],
    ...be16(47_000),
    ...be16(9060),
    ...be16(udpLen),
    0,
    0,
    ...hep,
  ]);
}

/** The capture as a HEP agent would have sent it: UDP and non-empty TCP payloads only. */
function asHep(capture: string, version: 2 | 3): PacketRecord[] {
  const decoder = new PacketDecoder();
  const p = createDecodedPacket();
  const out: PacketRecord[] = [];
  for (const r of readCorpusRecords(capture)) {
    if (decoder.decode(r.data, 0, r.capLen, r.linkType, r.tsSec, r.tsNsec, p) !== DecodeStatus.Ok) continue;
    if (p.transport !== Transport.Udp && p.transport !== Transport.Tcp) continue;
    if (p.payloadLength === 0) continue;
    const inner: Inner = {
      family: p.ipVersion === 4 ? 4 : 6,
      proto: p.transport === Transport.Udp ? 17 : 6,
      src: p.ipVersion === 4 ? be32(p.src4) : words(p.src6),
      dst: p.ipVersion === 4 ? be32(p.dst4) : words(p.dst6),
      sport: p.srcPort,
      dport: p.dstPort,
      tsSec: r.tsSec,
      tsUsec: Math.floor(r.tsNsec / 1000),
      payload: p.payload.slice(p.payloadOffset, p.payloadOffset + p.payloadLength),
    };
    const data = toCollector(version === 3 ? hep3(inner) : hep2(inner));
    const ns = r.tsNsec + COLLECTOR_DELAY_NS;
    out.push({ tsSec: r.tsSec + Math.floor(ns / 1e9), tsNsec: ns % 1e9, linkType: LinkType.Ethernet, capLen: data.length, origLen: data.length, data } as PacketRecord);
  }
  return out;
}

describe('a call received as HEP is spooled as its inner packets with the HEP time (issue 11)', () => {
  test.each([
    ['basic-caller-bye-pcma.pcap', 3],
    ['basic-caller-bye-pcma.pcap', 2],
    ['ipv6-call.pcap', 3],
  ] as const)('%s as HEP v%i: tshark finds the SIP messages and RTP streams of the truth file', async (capture, version) => {
    const hep = asHep(capture, version);
    const dir = tempDir('hep');
    const { calls, spool } = await analyzeWithSpool(hep, { dir });
    // HEP times are microseconds: the same capture cut to microseconds is what the agent saw.
    const microseconds = readCorpusRecords(capture).map((r) => ({ ...r, tsNsec: r.tsNsec - (r.tsNsec % 1000) }));
    const direct = await analyzeWithSpool(microseconds, { dir: tempDir('direct') });
    // The HEP copy describes the same calls (HEP time, not the 2.5 s later arrival time).
    expect(calls).toEqual(direct.calls);
    expect(calls.length).toBeGreaterThan(0);
    expect(Object.values(spool.stats().packetsDropped).every((n) => n === 0)).toBe(true);
    for (const call of calls) {
      const file = await retrieveToFile(dir, call);
      // Raw IP frames, not Ethernet to the collector: nothing in the file goes to port 9060.
      expect(tshark(['-r', file, '-T', 'fields', '-e', 'frame.protocols']).split('\n')[0]).toMatch(/^raw:ip(v6)?:(udp|tcp):sip/);
      expect(tshark(['-r', file, '-Y', 'udp.port == 9060 || ip.addr == 10.99.0.2']).trim()).toBe('');
      const view = tsharkView(file);
      const truth = truthView(capture, call.call_id);
      expect(view.sipCallIds.length, `SIP messages of ${call.call_id}`).toBe(truth.sip);
      expect(view.sipCallIds.length).toBe(call.sip_packets);
      expect(new Set(view.sipCallIds)).toEqual(new Set([call.call_id]));
      expect(view.streams, `RTP streams of ${call.call_id}`).toEqual(truth.streams);
      // HEP time to the microsecond: the INVITE at the truth's time, not 2.5 s later on arrival.
      expect(Number(view.firstSipTime)).toBeCloseTo(truth.inviteTime, 5);
      // Checksums tshark verifies when asked: IPv4 header, UDP, TCP.
      const bad = tshark(['-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-Y', 'ip.checksum.status == 0 || udp.checksum.status == 0 || tcp.checksum.status == 0']);
      expect(bad.trim()).toBe('');
    }
  }, 60_000);
});

describe('HEP over TCP: rebuilt segments carry sequence numbers that continue per direction', () => {
  // HEP carries no TCP numbers. Segments all numbered alike would be retransmissions to Wireshark,
  // which then does not dissect them. (The engine is bypassed here to test the spool alone; the
  // engine's records for HEP-delivered TCP are tested in libs/call-engine/test/hep-tcp.test.ts.)
  test('every SIP message of sip-tcp.pcap sent as HEP3/TCP is dissected by tshark, none a retransmission', async () => {
    const dir = tempDir('heptcp');
    const spool = new CallSpool({ ...SPOOL_DEFAULTS, dir });
    const decoder = new PacketDecoder();
    const p = createDecodedPacket();
    const truth = readTruth('sip-tcp.pcap').calls[0]!;
    const call = { callId: truth.call_id, startSec: Math.floor(truth.invite_time), startUsec: 0 };
    let sent = 0;
    for (const rec of asHep('sip-tcp.pcap', 3)) {
      expect(decoder.decode(rec.data, 0, rec.capLen, rec.linkType, rec.tsSec, rec.tsNsec, p)).toBe(DecodeStatus.Ok);
      if (p.transport !== Transport.Tcp) continue;
      spool.onPacket(call, 'sip', rec, p);
      sent++;
    }
    await spool.close();
    expect(sent).toBe(truth.sip_messages);
    const chunks: Buffer[] = [];
    await readCallPcap(dir, call, (chunk) => {
      chunks.push(Buffer.from(chunk));
    });
    const file = join(dir, 'tcp.pcap');
    writeFileSync(file, Buffer.concat(chunks));
    const sip = tshark(['-r', file, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Call-ID']).split('\n').filter((l) => l !== '');
    expect(sip).toEqual(Array<string>(truth.sip_messages).fill(truth.call_id));
    expect(tshark(['-r', file, '-Y', 'tcp.analysis.flags']).trim()).toBe('');
    const bad = tshark(['-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-Y', 'ip.checksum.status == 0 || tcp.checksum.status == 0']);
    expect(bad.trim()).toBe('');
  }, 60_000);
});

describe('rtp_headers: the cut comes from the pipeline decode (no second decode in the spool)', () => {
  test.each([
    ['basic-caller-bye-pcma.pcap', 'direct', 14 + 20 + 8 + 12],
    ['encap-vxlan-reinvite-hold.pcap', 'direct', -1],
    ['basic-caller-bye-pcma.pcap', 'hep', 20 + 8 + 12],
  ] as const)('%s (%s): RTP stored up to the end of its RTP header, SIP whole, tshark still sees every stream', async (capture, how, rtpCut) => {
    const dir = tempDir('cut');
    const records = how === 'hep' ? asHep(capture, 3) : readCorpusRecords(capture);
    const { calls, spool } = await analyzeWithSpool(records, { dir, mode: 'rtp_headers' });
    const call = calls[0]!;
    const truth = truthView(capture, call.call_id);
    const rtpPackets = truth.streams.reduce((n, s) => n + Number(s.split(' ')[3]), 0);
    expect(spool.stats().packetsCut).toBeGreaterThanOrEqual(rtpPackets);
    const file = await retrieveToFile(dir, call);
    const rows = tshark(['-r', file, '-Y', 'rtp', '-T', 'fields', '-E', 'occurrence=l', '-e', 'frame.cap_len', '-e', 'frame.len', '-e', 'udp.length', '-e', 'rtp.p_type'])
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t').map(Number));
    expect(rows.length).toBeGreaterThanOrEqual(rtpPackets);
    for (const [capLen, len, udpLength] of rows) {
      // Cut after the (innermost) UDP (8) + RTP (12, no CSRC or extension in the corpus): the wire length stays.
      expect(len! - capLen!).toBe(udpLength! - 8 - 12);
      if (rtpCut > 0) expect(capLen).toBe(rtpCut);
    }
    const view = tsharkView(file);
    expect(view.sipCallIds).toHaveLength(truth.sip);
    expect(view.streams).toEqual(truth.streams);
  }, 60_000);
});

describe('mirrored sensors (issue 17): the spool key includes the sensor', () => {
  test('the same capture through two sensor pipelines sharing one spool: each sensor\'s call retrieved alone, both without a sensor', async () => {
    const dir = tempDir('sensors');
    const records = readCorpusRecords('basic-caller-bye-pcma.pcap');
    const calls: CallRecord[] = [];
    const spool = new CallSpool({ ...SPOOL_DEFAULTS, dir, sensor: 'central' });
    const pipelines = ['pbx-a', 'pbx-b'].map(
      (sensor) => new PacketPipeline({ ...DEFAULT_PIPELINE_OPTIONS, calls: { ...DEFAULT_PIPELINE_OPTIONS.calls, sensor } }, { onCall: (c) => calls.push(c), onRegister: () => undefined }, spool.forSensor(sensor)),
    );
    for (const rec of records) for (const p of pipelines) p.onPacket(rec);
    for (const p of pipelines) p.finish();
    await spool.close();
    expect(calls.map((c) => c.sensor).sort()).toEqual(['pbx-a', 'pbx-b']);
    expect(calls[0]!.call_id).toBe(calls[1]!.call_id);
    expect(calls[0]!.start).toBe(calls[1]!.start);
    const one = async (sensor?: string): Promise<number> => {
      const summary = await readCallPcap(dir, { callId: calls[0]!.call_id, ...startOf(calls[0]!), ...(sensor === undefined ? {} : { sensor }) }, () => undefined);
      return summary.packets;
    };
    expect(await one('pbx-a')).toBe(819); // the 7 SIP + 812 RTP packets of the capture's call (its other 10 records are no call's)
    expect(await one('pbx-b')).toBe(await one('pbx-a'));
    expect(await one()).toBe(2 * (await one('pbx-a')));
    await expect(one('central')).rejects.toMatchObject({ code: SpoolErrorCode.CallNotFound });
  });
});

describe('the engine\'s call numbers (the spool keeps its state per call number, not on the key object)', () => {
  /**
   * busy-hour-a (200 calls, numbers handed on as calls end) through two sensor pipelines sharing
   * one spool (both number their calls from 0), once as the engine calls the spool and once with
   * the numbers withheld (every packet then reads the writer's state from the call's key, as before
   * the numbers): each call's merged pcap must be the same, byte for byte.
   */
  async function spoolBothSensors(withNumbers: boolean): Promise<{ dir: string; calls: CallRecord[] }> {
    const dir = tempDir(withNumbers ? 'numbered' : 'unnumbered');
    const calls: CallRecord[] = [];
    const spool = new CallSpool({ ...SPOOL_DEFAULTS, dir, sensor: 'central' });
    const pipelines = ['pbx-a', 'pbx-b'].map((sensor) => {
      const view = spool.forSensor(sensor);
      const withheld: CallPacketObserver = {
        ...view,
        onPacket: (call, kind, rec, p) => {
          view.onPacket(call, kind, rec, p, -1);
        },
        onCallEnd: (call) => {
          view.onCallEnd(call, -1);
        },
      };
      const observer = withNumbers ? view : withheld;
      return new PacketPipeline({ ...DEFAULT_PIPELINE_OPTIONS, calls: { ...DEFAULT_PIPELINE_OPTIONS.calls, sensor } }, { onCall: (c) => calls.push(c), onRegister: () => undefined }, observer);
    });
    // The second sensor sees the capture 3 calls behind, so the two pipelines' numbers name different calls.
    const records = readCorpusRecords('busy-hour-a.pcap');
    for (let i = 0; i < records.length; i++) {
      pipelines[0]!.onPacket(records[i]!);
      if (i >= 300) pipelines[1]!.onPacket(records[i - 300]!);
    }
    for (const rec of records.slice(-300)) pipelines[1]!.onPacket(rec);
    for (const p of pipelines) p.finish();
    await spool.close();
    expect(spool.stats().packetsDropped).toEqual(Object.fromEntries(Object.keys(spool.stats().packetsDropped).map((k) => [k, 0])));
    return { dir, calls };
  }

  test('busy-hour-a through two sensors: every call\'s pcap the same with and without the numbers', async () => {
    const numbered = await spoolBothSensors(true);
    const reference = await spoolBothSensors(false);
    expect(numbered.calls.length).toBe(400);
    const pcapOf = async (dir: string, c: CallRecord): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      await readCallPcap(dir, { callId: c.call_id, ...startOf(c), sensor: c.sensor }, (chunk) => {
        chunks.push(Buffer.from(chunk));
      });
      return Buffer.concat(chunks);
    };
    let packets = 0;
    for (const c of numbered.calls) {
      const mine = await pcapOf(numbered.dir, c);
      expect(mine.equals(await pcapOf(reference.dir, c)), `${c.sensor} ${c.call_id}`).toBe(true);
      const summary = await readCallPcap(numbered.dir, { callId: c.call_id, ...startOf(c), sensor: c.sensor }, () => undefined);
      // SIP and RTP of the call as its record counts them (busy-hour-a has no RTCP).
      expect(summary.packets, `${c.sensor} ${c.call_id}`).toBe(c.sip_packets + c.streams.reduce((n, s) => n + s.packets, 0));
      packets += summary.packets;
    }
    expect(packets).toBeGreaterThan(20_000);
  });
});

describe('sniffer spool fsck (issue 17)', () => {
  test('after a torn archive tail: --check reports it (exit 4), fsck cuts it and rewrites the index (exit 0), then --check is clean', async () => {
    const dir = tempDir('fsck');
    const records = readCorpusRecords('basic-caller-bye-pcma.pcap');
    const { calls } = await analyzeWithSpool(records, { dir });
    const minute = join(dir, spoolMinuteDir(startOf(calls[0]!).startSec));
    const tar = join(minute, 'seg.0.tar');
    const size = statSync(tar).size;
    truncateSync(tar, size - 700); // inside the last member's data (the padding is < 512 bytes)
    const run = async (...args: string[]): Promise<{ code: number; out: string }> => {
      let out = '';
      const sink = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
      const code = await runSpool(['fsck', '--spool', dir, ...args], { stdout: sink, stderr: sink, env: {} } as never);
      return { code, out };
    };
    const check = await run('--check', '--json');
    expect(check.code).toBe(4);
    const report = JSON.parse(check.out) as Record<string, number | boolean | string>;
    expect(report).toMatchObject({ spool: dir, repaired: false, minutes: 1, segments: 1, tornSegments: 1, badIndexEntries: 1, indexesWritten: 0 });
    expect(statSync(tar).size).toBe(size - 700); // --check changes nothing
    const fix = await run();
    expect(fix.code).toBe(0);
    expect(fix.out).toMatch(/1 torn archive tails \(\d+ bytes, 1 cut\), 1 bad index entries, 0 torn index bytes; 1 indexes rewritten/);
    expect(execFileSync('tar', ['tf', tar], { encoding: 'utf8' }).trim().split('\n').length).toBe(report.chunks);
    expect((await run('--check')).code).toBe(0);
    // what is left is a valid capture of the call, minus its last chunk
    const view = tsharkView(await retrieveToFile(dir, calls[0]!));
    expect(view.sipCallIds.length).toBeGreaterThan(0);
    expect((await run('repair')).code).toBe(2);
  });
});
