import type { CallSide } from '@callscope/cdr-schema';
import type { SdpPayload } from './sip-event.js';

/**
 * One RTP stream of a call: (src, dst, ports, SSRC) as in Wireshark's RTP stream analysis. The
 * addresses are kept as numbers (IPv4) or four words (IPv6) so matching a packet to its stream
 * compares numbers and allocates nothing.
 */
export class MediaStream {
  readonly ipVersion: number;
  readonly src4: number;
  readonly dst4: number;
  readonly src6 = new Uint32Array(4);
  readonly dst6 = new Uint32Array(4);
  packets = 0;
  /** Payload type of the first packet (telephone-event and CN do not define the stream). */
  payloadType = -1;
  firstUs = 0;
  lastUs = 0;

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
    /** Payload types announced in the SDP of the side this stream was matched through. */
    readonly payloads: readonly SdpPayload[],
  ) {
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
}
