import type { CallSide } from '@callscope/cdr-schema';
import { Codec, DtmfDetector, RtpStreamStats, type PayloadTypeMap, type RtpHeader } from '@callscope/rtp';
import type { Call } from './call.js';

/**
 * One RTP stream of a call: (src, dst, ports, SSRC) as in Wireshark's RTP stream analysis. It *is*
 * its @callscope/rtp statistics (a subclass, not a member): one object less to reach per packet,
 * which matters at tens of thousands of streams. The addresses are kept as numbers (IPv4) or four
 * words (IPv6) so matching a packet to its stream compares numbers and allocates nothing.
 */
export class MediaStream extends RtpStreamStats {
  // Field order is memory order: what every packet reads (the match, then `onPacket`) comes first,
  // right after the statistics' own fields. Addresses and the SSRC are kept as signed 32-bit bit
  // patterns (`x | 0`) because V8 stores a number field above 2^31 - 1 as a separate heap box: a
  // uint32 field would cost one more cache miss per packet at 20,000 streams.
  private readonly ssrcBits: number;
  private readonly src4Bits: number;
  private readonly dst4Bits: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly ipVersion: number;
  /** RFC 4733 events of this stream, created on its first telephone-event packet. */
  dtmf: DtmfDetector | null = null;
  /** Payload type of the first audio packet (telephone-event and CN do not define the stream); -1 until one. */
  audioPayloadType = -1;
  /** The call whose stream list holds this stream (set by the call table when it adds it). */
  call: Call | null = null;
  /** SSRC (RFC 3550 §5.1), unsigned. */
  readonly ssrc: number;
  readonly side: CallSide;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly src6 = new Uint32Array(4);
  readonly dst6 = new Uint32Array(4);

  constructor(
    ssrc: number,
    side: CallSide,
    ipVersion: number,
    src4: number,
    dst4: number,
    src6: Uint32Array,
    dst6: Uint32Array,
    srcPort: number,
    dstPort: number,
    srcIp: string,
    dstIp: string,
    /** Payload types of the SDP this stream was matched through (static table + rtpmap). */
    payloadTypes: PayloadTypeMap,
  ) {
    super({ payloadTypes });
    this.ssrcBits = ssrc | 0;
    this.src4Bits = src4 | 0;
    this.dst4Bits = dst4 | 0;
    this.srcPort = srcPort;
    this.dstPort = dstPort;
    this.ipVersion = ipVersion;
    this.ssrc = ssrc;
    this.side = side;
    this.srcIp = srcIp;
    this.dstIp = dstIp;
    if (ipVersion === 6) {
      this.src6.set(src6);
      this.dst6.set(dst6);
    }
  }

  /**
   * Whether a packet with these addresses, ports and SSRC belongs to this stream. `ssrc`, `src4`
   * and `dst4` are unsigned 32-bit values; `| 0` maps them one-to-one onto the stored patterns.
   */
  matches(ssrc: number, ipVersion: number, src4: number, dst4: number, src6: Uint32Array, dst6: Uint32Array, srcPort: number, dstPort: number): boolean {
    if ((ssrc | 0) !== this.ssrcBits || srcPort !== this.srcPort || dstPort !== this.dstPort || ipVersion !== this.ipVersion) return false;
    if (ipVersion === 4) return (src4 | 0) === this.src4Bits && (dst4 | 0) === this.dst4Bits;
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
