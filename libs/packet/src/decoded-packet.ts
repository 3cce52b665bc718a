import { Transport } from './transport.js';

/** Most VLAN tags recorded per packet (outermost first); deeper tags are skipped but counted. */
export const MAX_VLAN_TAGS = 4;
/** Most tunnel layers recorded per packet; also the hard ceiling for `maxTunnelDepth`. */
export const MAX_TUNNEL_LAYERS = 8;

/**
 * Caller-owned, reused result of {@link PacketDecoder.decode}. Create one per consumer with
 * {@link createDecodedPacket} and pass it to every call: the decoder overwrites it in place and
 * never allocates. Each `decode` call resets the summary fields (counts, depths, versions,
 * transport) and overwrites the fields of every layer it reaches; transport fields (ports, TCP
 * fields, payload) are meaningful only when the status is `Ok`.
 *
 * Addresses: IPv4 as unsigned 32-bit numbers (`src4`), IPv6 as four big-endian 32-bit words
 * (`src6[0]` holds the first four bytes). `ipVersion` tells which pair is valid.
 *
 * Payload location: `payload.subarray(payloadOffset, payloadOffset + payloadLength)`. `payload` is
 * either the caller's frame or a decoder-owned reassembly buffer that the next `decode` call may
 * overwrite: copy what you keep.
 */
export class DecodedPacket {
  /** Link type given to `decode`. */
  linkType = 0;
  /** Capture time, seconds; HEP replaces it with the sender's timestamp (see `tsOverridden`). */
  tsSec = 0;
  /** Capture time, nanoseconds within the second. */
  tsNsec = 0;
  /** True when a HEP header supplied the timestamp instead of the capture. */
  tsOverridden = false;

  /** Number of 802.1Q/802.1ad tags seen (all layers). */
  vlanCount = 0;
  /** VLAN ids, outermost first, `vlanCount` of them up to {@link MAX_VLAN_TAGS}. */
  readonly vlanIds = new Uint16Array(MAX_VLAN_TAGS);
  /** Number of MPLS label stack entries seen. */
  mplsCount = 0;
  /** Top (first) MPLS label, valid when `mplsCount > 0`. */
  mplsLabel = 0;

  /** Number of tunnel layers removed. */
  tunnelDepth = 0;
  /** {@link TunnelType} per layer, outermost first. */
  readonly tunnelTypes = new Uint8Array(MAX_TUNNEL_LAYERS);
  /** Per layer: GRE key, ERSPAN session id, VXLAN VNI, HEP capture id; 0 when absent. */
  readonly tunnelIds = new Uint32Array(MAX_TUNNEL_LAYERS);

  /** 4 or 6: the first (outermost) IP header; 0 when none was reached. */
  outerIpVersion = 0;
  /** Outermost IPv4 source. */
  outerSrc4 = 0;
  /** Outermost IPv4 destination. */
  outerDst4 = 0;
  /** Outermost IPv6 source, four words. */
  readonly outerSrc6 = new Uint32Array(4);
  /** Outermost IPv6 destination, four words. */
  readonly outerDst6 = new Uint32Array(4);

  /** 4 or 6: the innermost IP header (equal to the outer one without tunnels; HEP sets it). */
  ipVersion = 0;
  /** Innermost IPv4 source. */
  src4 = 0;
  /** Innermost IPv4 destination. */
  dst4 = 0;
  /** Innermost IPv6 source, four words. */
  readonly src6 = new Uint32Array(4);
  /** Innermost IPv6 destination, four words. */
  readonly dst6 = new Uint32Array(4);
  /** Innermost IP protocol / IPv6 final next header (17 UDP, 6 TCP, ...). */
  ipProtocol = 0;
  /** Innermost IPv4 TTL or IPv6 hop limit. */
  ttl = 0;
  /** True when the innermost datagram was rebuilt from fragments. */
  reassembled = false;

  /** Which transport result is present. */
  transport: Transport = Transport.None;
  /** UDP/TCP source port. */
  srcPort = 0;
  /** UDP/TCP destination port. */
  dstPort = 0;
  /**
   * True when HEP (v2/v3) supplied the transport result: addresses, ports, protocol and payload
   * are those the HEP sender reported. For TCP the payload is whole SIP messages as the sender
   * (Kamailio, OpenSIPS, heplify) framed them, not a segment: HEP has no TCP numbers, so the TCP
   * fields (sequence, acknowledgement, flags, window, header length) are 0 and must not drive
   * stream reassembly.
   */
  fromHep = false;
  /** TCP sequence number. */
  tcpSeq = 0;
  /** TCP acknowledgement number. */
  tcpAck = 0;
  /** TCP flags (low 8 bits: CWR ECE URG ACK PSH RST SYN FIN). */
  tcpFlags = 0;
  /** TCP header length in bytes, options included. */
  tcpHeaderLength = 0;
  /** TCP window. */
  tcpWindow = 0;

  /** Buffer holding the payload: the caller's frame or a decoder-owned reassembly buffer. */
  payload: Uint8Array = EMPTY;
  /** Offset of the transport payload in `payload`. */
  payloadOffset = 0;
  /** Length of the transport payload. */
  payloadLength = 0;
}

const EMPTY = new Uint8Array(0);

/** Create a reusable result object for {@link PacketDecoder.decode}. */
export function createDecodedPacket(): DecodedPacket {
  return new DecodedPacket();
}
