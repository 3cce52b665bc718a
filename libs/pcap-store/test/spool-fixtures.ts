import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDecodedPacket, DecodeStatus, PacketDecoder, Transport } from '@callscope/packet';
import { readCallPcap, readCaptureFile } from '../src/index.js';
import type { CallPcapQuery, CallPcapSummary, SpoolCallRef, SpoolSink } from '../src/index.js';
import type { PacketRecord } from '@callscope/pcap-format';
import { parseCapture } from './parse-capture.js';

export const CORPUS = fileURLToPath(new URL('../../../fixtures/corpus/', import.meta.url));

/** A corpus packet with its bytes copied and its group decided by UDP port (5060 = SIP). */
export interface Frame {
  kind: 'sip' | 'rtp';
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  origLen: number;
  linkType: number;
  /**
   * End of the RTP header in `data` (what the sniffer's decode hands `SpoolWriter.write` for the
   * `rtp_headers` cut), 0 when the frame is not RTP version 2 with a whole header.
   */
  rtpHeaderEnd: number;
}

/** Test-side RTP header length (RFC 3550 5.1, 5.3.1): 12 + 4·CC (+ 4 + 4·extension words); 0 when not provable. */
function rtpHeaderLength(b: Uint8Array, at: number, len: number): number {
  if (len < 12 || b[at]! >> 6 !== 2) return 0;
  let header = 12 + 4 * (b[at]! & 0x0f);
  if ((b[at]! & 0x10) !== 0) {
    if (header + 4 > len) return 0;
    header += 4 + 4 * ((b[at + header + 2]! << 8) | b[at + header + 3]!);
  }
  return header > len ? 0 : header;
}

/** UDP packets of a corpus capture, split into SIP (port 5060) and RTP (other UDP ports). */
export async function loadFrames(name: string): Promise<Frame[]> {
  const decoder = new PacketDecoder({ reassemble: false });
  const out = createDecodedPacket();
  const frames: Frame[] = [];
  await readCaptureFile(join(CORPUS, name), (r) => {
    if (decoder.decode(r.data, 0, r.data.length, r.linkType, r.tsSec, r.tsNsec, out) !== DecodeStatus.Ok) return;
    if (out.transport !== Transport.Udp) return;
    const kind = out.srcPort === 5060 || out.dstPort === 5060 ? 'sip' : 'rtp';
    const rtpHeader = kind === 'rtp' && out.payload === r.data ? rtpHeaderLength(r.data, out.payloadOffset, out.payloadLength) : 0;
    const rtpHeaderEnd = rtpHeader === 0 ? 0 : out.payloadOffset + rtpHeader;
    frames.push({ kind, tsSec: r.tsSec, tsNsec: r.tsNsec, data: r.data.slice(), origLen: r.origLen, linkType: r.linkType, rtpHeaderEnd });
  });
  return frames;
}

/** The frames shifted by `ms` milliseconds and `ns` extra nanoseconds (to prove ns survive). */
export function shift(frames: Frame[], ms: number, ns: number): Frame[] {
  return frames.map((f) => {
    const total = f.tsNsec + ms * 1_000_000 + ns;
    return { ...f, tsSec: f.tsSec + Math.floor(total / 1e9), tsNsec: total % 1e9 };
  });
}

/** A call: the sniffer's ref and its frames. */
export interface TestCall {
  ref: SpoolCallRef;
  frames: Frame[];
}

/** Writes every frame of every call in global time order (what a sniffer does). */
export function writeInterleaved(writer: SpoolSink, calls: TestCall[]): void {
  const all = calls.flatMap((c) => c.frames.map((f) => ({ c, f })));
  all.sort((a, b) => a.f.tsSec - b.f.tsSec || a.f.tsNsec - b.f.tsNsec);
  for (const { c, f } of all) writer.write(c.ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType, f.rtpHeaderEnd);
}

/** Retrieves a call through `readCallPcap` and parses the output with the lib's own parser. */
export async function retrieve(spoolDir: string, query: CallPcapQuery): Promise<{ summary: CallPcapSummary; records: PacketRecord[]; status: number; bytes: Buffer }> {
  const chunks: Buffer[] = [];
  const summary = await readCallPcap(spoolDir, query, (chunk) => {
    chunks.push(Buffer.from(chunk));
  });
  const bytes = Buffer.concat(chunks);
  const parsed = parseCapture(bytes, 7001);
  return { summary, records: parsed.records, status: parsed.status, bytes };
}

export function tempSpool(tag: string): string {
  return mkdtempSync(join(tmpdir(), `callscope-spool-${tag}-`));
}

/** Every regular file under `dir` with its size (test-side scan, independent of the lib). */
export function walk(dir: string, prefix = ''): { rel: string; size: number }[] {
  const out: { rel: string; size: number }[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const s = statSync(full);
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    if (s.isDirectory()) out.push(...walk(full, rel));
    else out.push({ rel, size: s.size });
  }
  return out;
}

/** Compares retrieved records with the frames written (exact bytes, timestamps, lengths, link type). */
export function sameRecords(records: PacketRecord[], frames: Frame[]): string | null {
  if (records.length !== frames.length) return `count ${records.length} != ${frames.length}`;
  for (let i = 0; i < frames.length; i++) {
    const r = records[i]!;
    const f = frames[i]!;
    if (r.tsSec !== f.tsSec || r.tsNsec !== f.tsNsec) return `#${i} ts ${r.tsSec}.${r.tsNsec} != ${f.tsSec}.${f.tsNsec}`;
    if (r.origLen !== f.origLen) return `#${i} origLen ${r.origLen} != ${f.origLen}`;
    if (r.linkType !== f.linkType) return `#${i} linkType ${r.linkType} != ${f.linkType}`;
    if (!Buffer.from(r.data).equals(Buffer.from(f.data))) return `#${i} bytes differ`;
  }
  return null;
}
