/**
 * Test helper: writes every SIP, RTP and RTCP packet of a single-call capture into a spool with
 * pcap-store's `SpoolWriter`, as the sniffer's spool would hold them (SIP-port UDP and TCP and IP
 * fragments to the call's SIP chunks; other RTP-version UDP to its RTP chunks; the rest left out). No call
 * engine: the lib cannot use it (a data lib may not depend on the domain lib), and a one-call
 * capture needs no call matching. The sniffer's own spool is read in e2e/src/call-artifacts.test.ts.
 */
import { DecodeStatus, PacketDecoder, Transport, createDecodedPacket } from '@callscope/packet';
import { SpoolWriter, readCaptureFile, type ChunkCompression, type SpoolCallRef, type SpoolPacketKind } from '@callscope/pcap-store';
import { isRtcp } from '@callscope/rtp';
import type { CallArtifactQuery } from '../src/index.js';

const SIP_PORTS = new Set([5060, 5061, 5080]);

/** Packets written per kind. */
export interface WrittenSpool {
  sip: number;
  rtp: number;
  rtcp: number;
}

/**
 * @param capture - a capture holding one call
 * @param spoolDir - spool root to write
 * @param query - the key to file the call under
 * @param compression - how every chunk is compressed
 * @param retime - moves a packet in time (hostile-spool tests): its kind, index among the
 *   packets of that kind, and capture seconds; returns the seconds to write
 * @param layout - damage tests: `segmentPerGroup` writes SIP through one writer, then RTP/RTCP
 *   through a second one, so the minute holds `seg.0.tar` (SIP only) and `seg.1.tar` (RTP only)
 *   and a test can cut or remove one group's archive; `flushBytes` makes chunks small (several per call)
 */
export async function spoolFromCapture(
  capture: string,
  spoolDir: string,
  query: CallArtifactQuery,
  compression: ChunkCompression = 'none',
  retime?: (kind: SpoolPacketKind, index: number, tsSec: number) => number,
  layout: { segmentPerGroup?: boolean; flushBytes?: number } = {},
): Promise<WrittenSpool> {
  const written: WrittenSpool = { sip: 0, rtp: 0, rtcp: 0 };
  const passes: ((kind: SpoolPacketKind) => boolean)[] = layout.segmentPerGroup === true ? [(k) => k === 'sip', (k) => k !== 'sip'] : [() => true];
  for (const wanted of passes) {
    const writer = new SpoolWriter({ spoolDir, compression, ...(layout.flushBytes === undefined ? {} : { flushBytes: layout.flushBytes }) });
    const call: SpoolCallRef = { callId: query.callId, startSec: query.startSec, startUsec: query.startUsec };
    const decoder = new PacketDecoder({});
    const p = createDecodedPacket();
    await readCaptureFile(capture, (rec) => {
      const status = decoder.decode(rec.data, 0, rec.capLen, rec.linkType, rec.tsSec, rec.tsNsec, p);
      let kind: SpoolPacketKind | null = null;
      if (status === DecodeStatus.Fragment) kind = 'sip';
      else if (status !== DecodeStatus.Ok) kind = null;
      else if (p.transport === Transport.Tcp) kind = SIP_PORTS.has(p.srcPort) || SIP_PORTS.has(p.dstPort) ? 'sip' : null;
      else if (p.transport === Transport.Udp) {
        if (SIP_PORTS.has(p.srcPort) || SIP_PORTS.has(p.dstPort)) kind = 'sip';
        else if (p.payloadLength >= 12 && (p.payload[p.payloadOffset]! & 0xc0) === 0x80) kind = isRtcp(p.payload, p.payloadOffset, p.payloadLength) ? 'rtcp' : 'rtp';
      }
      if (kind === null || !wanted(kind)) return;
      const tsSec = retime === undefined ? rec.tsSec : retime(kind, written[kind], rec.tsSec);
      written[kind]++;
      writer.write(call, kind, tsSec, rec.tsNsec, rec.data.subarray(0, rec.capLen), rec.origLen, rec.linkType);
    });
    await writer.endCall(call);
    await writer.close();
  }
  return written;
}
