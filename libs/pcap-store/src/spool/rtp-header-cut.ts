import { DecodeStatus, Transport } from '@callscope/packet';
import type { DecodedPacket, PacketDecoder } from '@callscope/packet';

/**
 * Length of a frame kept in `rtp_headers` mode: everything up to the end of the RTP header
 * (link + tunnels + IP + UDP + RTP fixed header + CSRC list + header extension).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers (CC words)  |
 * |  defined by profile           |           length (words)      |  if X
 * |                        header extension                       |
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc3550#section-5.1
 * @see https://www.rfc-editor.org/rfc/rfc3550#section-5.3.1
 *
 * Returns the whole length (no cut) whenever the cut point cannot be proven: decode failure,
 * not UDP, payload not in the frame (never the case with reassembly off), not RTP version 2,
 * or CSRC/extension lengths running past the packet. Storing too much is safe; cutting at a
 * guessed offset would corrupt the headers analysts need.
 *
 * @param frame - whole captured frame
 * @param linkType - its LINKTYPE_*
 * @param decoder - a decoder with reassembly off, owned by the spool writer
 * @param out - reused decode result
 * @returns bytes of `frame` to keep, 1..frame.length
 */
export function rtpHeaderCutLength(frame: Uint8Array, linkType: number, decoder: PacketDecoder, out: DecodedPacket): number {
  const whole = frame.length;
  if (decoder.decode(frame, 0, whole, linkType, 0, 0, out) !== DecodeStatus.Ok) return whole;
  if (out.transport !== Transport.Udp || out.payload !== frame) return whole;
  const at = out.payloadOffset;
  const len = out.payloadLength;
  if (len < 12 || (frame[at]! & 0xc0) !== 0x80) return whole;
  let header = 12 + 4 * (frame[at]! & 0x0f);
  if ((frame[at]! & 0x10) !== 0) {
    if (header + 4 > len) return whole;
    header += 4 + 4 * ((frame[at + header + 2]! << 8) | frame[at + header + 3]!);
  }
  return header > len ? whole : at + header;
}
