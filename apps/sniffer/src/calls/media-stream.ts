import type { CallSide } from '@callscope/cdr-schema';
import { Codec, DtmfDetector, RtpStreamStats, type PayloadTypeMap, type RtpHeader } from '@callscope/rtp';

/**
 * One RTP stream of a call: (src, dst, ports, SSRC) as in Wireshark's RTP stream analysis. It *is*
 * its @callscope/rtp statistics (a subclass, not a member): one object less to reach per packet,
 * which matters at tens of thousands of streams. The addresses are kept as numbers (IPv4) or four
 * words (IPv6) so matching a packet to its stream compares numbers and allocates nothing.
 */
export class MediaStream extends RtpStreamStats {
  readonly ipVersion: number;
  readonly src4: number;
  readonly dst4: number;
  readonly src6 = new Uint32Array(4);
  readonly dst6 = new Uint32Array(4);
  /** RFC 4733 events of this stream, created on its first telephone-event packet. */
  dtmf: DtmfDetector | null = null;
  /** Payload type of the first audio packet (telephone-event and CN do not define the stream); -1 until one. */
  audioPayloadType = -1;

  constructor(
    readonly ssrc: number,
    readonly side: CallSide,
    ipVersion: number,
    src4: number,
    dst4: number,
    src6: Uint32Array,
    dst6: Uint32Array,
    readonly srcPort: number,
    readonly dstPort: number,
    readonly srcIp: string,
    readonly dstIp: string,
    /** Payload types of the SDP this stream was matched through (static table + rtpmap). */
    payloadTypes: PayloadTypeMap,
  ) {
    super({ payloadTypes });
    this.ipVersion = ipVersion;
    this.src4 = src4;
    this.dst4 = dst4;
    if (ipVersion === 6) {
      this.src6.set(src6);
      this.dst6.set(dst6);
    }
  }

  /** Whether a packet with these addresses, ports and SSRC belongs to this stream. */
  matches(ssrc: number, ipVersion: number, src4: number, dst4: number, src6: Uint32Array, dst6: Uint32Array, srcPort: number, dstPort: number): boolean {
    if (ssrc !== this.ssrc || srcPort !== this.srcPort || dstPort !== this.dstPort || ipVersion !== this.ipVersion) return false;
    if (ipVersion === 4) return src4 === this.src4 && dst4 === this.dst4;
    for (let i = 0; i < 4; i++) if (src6[i] !== this.src6[i] || dst6[i] !== this.dst6[i]) return false;
    return true;
  }

  /** Account one RTP packet whose header is parsed; the payload is `buf[off, off + len)`. */
  onPacket(h: RtpHeader, tsSec: number, tsNsec: number, buf: Uint8Array, payloadOffset: number, payloadLength: number): void {
    this.update(h, tsSec, tsNsec, payloadLength);
    const codec = this.payloadTypes.codec[h.payloadType]!;
    if (codec === Codec.TelephoneEvent) {
      this.dtmf ??= new DtmfDetector(this.payloadTypes.clockRate[h.payloadType] || 8000);
      this.dtmf.update(h.timestamp, tsSec, tsNsec, buf, payloadOffset, payloadLength);
    } else if (this.audioPayloadType < 0 && codec !== Codec.CN) this.audioPayloadType = h.payloadType;
  }
}
