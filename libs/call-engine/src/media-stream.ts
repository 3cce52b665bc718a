import { Codec, DtmfDetector, RtpStreamStats, type PayloadTypeMap, type RtpHeader } from '@callscope/rtp';
import { rtpStreamOwnerIndex, rtpStreamSlab } from '@callscope/rtp/internal';
import type { CallSide } from '@callscope/cdr-model';

// The stream's own per-packet fields, kept in the owner words of its RTP statistics state block
// (the first line of what every packet of the stream updates), so that matching a packet to its
// stream and accounting it read the state block only, never the object first.
const W_SSRC = 0;
/** srcPort * 65536 + dstPort; -1 for IPv6 streams (their match reads the object). */
const W_PORTS = 1;
const W_SRC4 = 2;
const W_DST4 = 3;
const W_AUDIO_PT = 4;
// All 5 of the RTP_STREAM_OWNER_WORDS in use.

/** Stand-in IPv6 addresses of a snapshot (never matched, see {@link MediaStream.snapshot}). */
const NO_IPV6 = new Uint32Array(4);

/**
 * One RTP stream of a call: (src, dst, ports, SSRC) as in Wireshark's RTP stream analysis. It *is*
 * its @callscope/rtp statistics (a subclass, not a member). The packet path of an IPv4 stream
 * reaches it by its state block number ({@link RtpStreamStats.stateBlock}, kept in the endpoint
 * index slot): {@link MediaStream.matchesAt} and {@link MediaStream.onPacketAt} read the match
 * fields and the statistics from the block, and the object only on rarer paths (DTMF, loss,
 * payload-type change) — one dependent cache miss less per packet at 20,000 streams.
 */
export class MediaStream<Owner = unknown> extends RtpStreamStats {
  /** SSRC (RFC 3550 §5.1), unsigned. */
  readonly ssrc: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly ipVersion: number;
  /** RFC 4733 events of this stream, created on its first telephone-event packet. */
  dtmf: DtmfDetector | null = null;
  /**
   * The call whose stream list holds this stream (set by the call table when it adds it). A type
   * parameter rather than `Call`, so that this module and the call's do not import each other.
   */
  call: Owner | null = null;
  readonly side: CallSide;
  readonly srcIp: string;
  readonly dstIp: string;
  /** IPv6 addresses (null for IPv4 streams, matched through the state block). */
  private readonly src6: Uint32Array | null;
  private readonly dst6: Uint32Array | null;

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
    this.ssrc = ssrc;
    this.srcPort = srcPort;
    this.dstPort = dstPort;
    this.ipVersion = ipVersion;
    this.side = side;
    this.srcIp = srcIp;
    this.dstIp = dstIp;
    const block = this.stateBlock;
    const s = rtpStreamSlab(block);
    const w = rtpStreamOwnerIndex(block);
    s[w + W_SSRC] = ssrc | 0;
    s[w + W_AUDIO_PT] = -1;
    if (ipVersion === 6) {
      this.src6 = Uint32Array.from(src6);
      this.dst6 = Uint32Array.from(dst6);
      s[w + W_PORTS] = -1;
    } else {
      this.src6 = null;
      this.dst6 = null;
      s[w + W_PORTS] = srcPort * 65536 + dstPort;
      s[w + W_SRC4] = src4 | 0;
      s[w + W_DST4] = dst4 | 0;
    }
  }

  /**
   * A copy of this stream's statistics and DTMF events, for a live view: finishing the copy (what
   * a record needs) leaves this stream, and so the call's final record, untouched. The copy is
   * never matched against packets (its IPv6 addresses are not copied; IPv4 ones are owner words
   * of the state, which are). Allocates a state block, freed when the copy is collected.
   */
  snapshot(): MediaStream<Owner> {
    const copy = new MediaStream<Owner>(
      this.ssrc, this.side, this.ipVersion, 0, 0, NO_IPV6, NO_IPV6, this.srcPort, this.dstPort, this.srcIp, this.dstIp, this.payloadTypes,
    );
    copy.copyStateFrom(this);
    copy.dtmf = this.dtmf === null ? null : this.dtmf.clone();
    copy.call = this.call;
    return copy;
  }

  /** Payload type of the first audio packet (telephone-event and CN do not define the stream); -1 until one. */
  get audioPayloadType(): number {
    const block = this.stateBlock;
    return rtpStreamSlab(block)[rtpStreamOwnerIndex(block) + W_AUDIO_PT]!;
  }

  /**
   * Whether an IPv4 packet with these addresses, ports and SSRC belongs to the IPv4 stream whose
   * state block is `block`; reads the block only. 32-bit values are compared as their signed bit
   * patterns (`| 0`), so signed or unsigned inputs match alike.
   */
  static matchesAt(block: number, ssrc: number, src4: number, dst4: number, srcPort: number, dstPort: number): boolean {
    const s = rtpStreamSlab(block);
    const w = rtpStreamOwnerIndex(block);
    return s[w + W_SSRC] === (ssrc | 0) && s[w + W_PORTS] === srcPort * 65536 + dstPort && s[w + W_SRC4] === (src4 | 0) && s[w + W_DST4] === (dst4 | 0);
  }

  /** Whether a packet with these addresses (unsigned IPv4 or IPv6 words), ports and SSRC belongs to this stream. */
  matches(ssrc: number, ipVersion: number, src4: number, dst4: number, src6: Uint32Array, dst6: Uint32Array, srcPort: number, dstPort: number): boolean {
    if (ipVersion !== this.ipVersion) return false;
    if (ipVersion === 4) return MediaStream.matchesAt(this.stateBlock, ssrc, src4, dst4, srcPort, dstPort);
    if ((ssrc | 0) !== (this.ssrc | 0) || srcPort !== this.srcPort || dstPort !== this.dstPort) return false;
    for (let i = 0; i < 4; i++) if (src6[i] !== this.src6![i] || dst6[i] !== this.dst6![i]) return false;
    return true;
  }

  /** Account one RTP packet whose header is parsed; the payload is `buf[off, off + len)`. */
  onPacket(h: RtpHeader, tsSec: number, tsNsec: number, buf: Uint8Array, payloadOffset: number, payloadLength: number): void {
    MediaStream.onPacketAt(this, this.stateBlock, h, tsSec, tsNsec, buf, payloadOffset, payloadLength);
  }

  /** {@link MediaStream.onPacket} of `stream`, whose state block is `block`: reads the object only for DTMF. */
  static onPacketAt(stream: MediaStream, block: number, h: RtpHeader, tsSec: number, tsNsec: number, buf: Uint8Array, payloadOffset: number, payloadLength: number): void {
    const codec = RtpStreamStats.updateAt(stream, block, h, tsSec, tsNsec, payloadLength);
    if (codec === Codec.TelephoneEvent) {
      stream.dtmf ??= new DtmfDetector(stream.payloadTypes.clockRate[h.payloadType] || 8000);
      stream.dtmf.update(h.timestamp, tsSec, tsNsec, buf, payloadOffset, payloadLength);
    } else if (codec !== Codec.CN) {
      const s = rtpStreamSlab(block);
      const w = rtpStreamOwnerIndex(block) + W_AUDIO_PT;
      if (s[w]! < 0) s[w] = h.payloadType;
    }
  }
}
