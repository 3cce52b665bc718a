import { DecodeStatus, PacketDecoder, Transport, createDecodedPacket, formatIp, type DecodedPacket } from '@callscope/packet';
import type { PacketRecord } from '@callscope/pcap-format';
import { SpoolGroup } from '@callscope/pcap-store';
import { PayloadTypeMap, RtpHeader, RtpStatus, isRtcp, parseRtpHeader } from '@callscope/rtp';
import { SdpStatus, SessionDescription, type SdpAddress, SipHeader, SipMessageKind, SipMethod, decodeRange, parseSdp } from '@callscope/sip-parser';
import { forEachCallRecord, type CallArtifactQuery, type SpoolReadIssues } from './spool-records.js';
import { SipWalker } from './sip-walker.js';

/**
 * The media of one call as its spool shows it, shared by the stream series and the audio: the
 * media addresses the SDP in the call's SIP announced (side and payload types of each stream),
 * and a walk over the call's RTP records that hands on each RTP packet decoded.
 */

/** Which party sent a stream, from the SDP that announced its addresses; null when no SDP names them. */
export type MediaSide = 'caller' | 'callee' | null;

/** A media address an SDP announced: who announced it and the payload types it receives. */
export interface Announced {
  side: 'caller' | 'callee';
  payloadTypes: PayloadTypeMap;
}

/** Media addresses (`ip:port`, as `formatIp` writes the ip) announced in the call's SDP bodies. */
export type Announcements = Map<string, Announced>;

const words6 = new Uint32Array(4);

/**
 * An SDP connection address as `formatIp` writes packet addresses, so that the two compare as
 * text: IPv6 in SDP may be written in any valid form (leading zeros, no `::`).
 */
function sdpAddressText(sdp: SessionDescription, conn: SdpAddress): string {
  if (conn.family !== 6) return decodeRange(sdp.buf, conn.address);
  for (let i = 0; i < 4; i++) words6[i] = ((conn.ipv6[2 * i]! << 16) | conn.ipv6[2 * i + 1]!) >>> 0;
  return formatIp(6, 0, words6);
}

/**
 * Which side sent each SIP message (the caller is the source of the call's first INVITE) and the
 * media addresses their SDP bodies announced; null when the spool holds no SIP file of the call.
 */
export async function readAnnouncements(spoolDir: string, query: CallArtifactQuery): Promise<Announcements | null> {
  const announced: Announcements = new Map();
  const sdp = new SessionDescription();
  let callerIp: string | null = null;
  const walker = new SipWalker(query.callId, (msg, p) => {
    const src = formatIp(p.ipVersion, p.src4, p.src6);
    if (callerIp === null && msg.kind === SipMessageKind.Request && msg.method === SipMethod.Invite) callerIp = src;
    if (msg.body.length <= 0 || msg.findHeader(SipHeader.ContentType) < 0 || !/sdp/i.test(decodeRange(msg.buf, msg.contentType))) return;
    if (parseSdp(msg.buf, msg.body.offset, msg.body.length, sdp) !== SdpStatus.Ok) return;
    const side = src === callerIp ? 'caller' : 'callee';
    for (let m = 0; m < sdp.mediaCount; m++) {
      const media = sdp.media[m]!;
      if (media.port <= 0) continue;
      const conn = media.connection.present ? media.connection : sdp.connection;
      if (!conn.present) continue;
      const payloadTypes = new PayloadTypeMap();
      for (let r = 0; r < media.rtpmapCount; r++) {
        const map = media.rtpmaps[r]!;
        if (map.payloadType >= 0 && map.payloadType <= 127 && map.clockRate >= 0) payloadTypes.setRtpmap(map.payloadType, decodeRange(sdp.buf, map.encoding), map.clockRate);
      }
      announced.set(`${sdpAddressText(sdp, conn)}:${media.port}`, { side, payloadTypes });
    }
  });
  const issues = await forEachCallRecord(spoolDir, query, [SpoolGroup.SIP], (rec) => {
    walker.onRecord(rec);
  });
  return issues === null ? null : announced;
}

/** Side and payload types of a stream from `srcIp:srcPort` to `dstIp:dstPort`. */
export interface StreamMedia {
  side: MediaSide;
  /** The SDP's map (the receiver's numbering); an empty map (static types only) when no SDP names the stream. */
  payloadTypes: PayloadTypeMap;
}

/**
 * A stream sent to an address the caller's SDP announced is the callee's and uses that SDP's
 * payload types (the receiver's numbering); failing that, one sent from an announced address is
 * the announcer's.
 */
export function streamMedia(announced: Announcements | null, srcIp: string, srcPort: number, dstIp: string, dstPort: number): StreamMedia {
  const to = announced?.get(`${dstIp}:${dstPort}`);
  const from = announced?.get(`${srcIp}:${srcPort}`);
  const side: MediaSide = to !== undefined ? (to.side === 'caller' ? 'callee' : 'caller') : (from?.side ?? null);
  return { side, payloadTypes: to?.payloadTypes ?? from?.payloadTypes ?? new PayloadTypeMap() };
}

/** Counters of a walk over the RTP records. */
export interface RtpWalkCounters {
  /** UDP records of the RTP file that were neither RTP nor RTCP, or did not decode. */
  skippedPackets: number;
}

/**
 * Receives each RTP packet (not RTCP) of the call's RTP file, in time order: the record, the
 * decoded frame and the parsed header, all borrowed for the call. May return a promise to pause
 * the walk (back-pressure); the next record is read once it settles.
 */
export type RtpSink = (rec: PacketRecord, p: DecodedPacket, h: RtpHeader) => void | Promise<void>;

/**
 * Walks the call's spooled RTP records, decoding each frame (@callscope/packet: tunnels, VLANs,
 * IP reassembly) and its RTP header; RTCP is left out, anything else counted as skipped.
 * @returns null when the spool holds no RTP file of the call
 * @throws SpoolError `CorruptFile` when a file is not a readable capture
 */
export async function forEachCallRtp(
  spoolDir: string,
  query: CallArtifactQuery,
  counters: RtpWalkCounters,
  onRtp: RtpSink,
): Promise<SpoolReadIssues | null> {
  const decoder = new PacketDecoder({});
  const p = createDecodedPacket();
  const h = new RtpHeader();
  return forEachCallRecord(spoolDir, query, [SpoolGroup.RTP], (rec) => {
    const status = decoder.decode(rec.data, 0, rec.capLen, rec.linkType, rec.tsSec, rec.tsNsec, p);
    if (status === DecodeStatus.Fragment) return;
    if (status !== DecodeStatus.Ok || p.transport !== Transport.Udp) {
      counters.skippedPackets++;
      return;
    }
    if (isRtcp(p.payload, p.payloadOffset, p.payloadLength)) return;
    if (parseRtpHeader(p.payload, p.payloadOffset, p.payloadLength, h) !== RtpStatus.Ok) {
      counters.skippedPackets++;
      return;
    }
    return onRtp(rec, p, h);
  });
}
