import { MAX_TUNNEL_LAYERS } from './decoded-packet.js';

/**
 * Settings of a {@link PacketDecoder}, given once to its constructor. The lib reads no env and no
 * config file: the application validates its own config and passes the values here.
 */
export interface PacketDecoderOptions {
  /** Remove tunnels (IP-in-IP, GRE, VXLAN, TZSP, HEP). When false the outer packet is the result. Default true. */
  decodeTunnels?: boolean;
  /** Nested tunnels allowed before `TunnelDepthExceeded`. Default 4, at most 8. */
  maxTunnelDepth?: number;
  /** UDP destination ports decoded as VXLAN (1..65535); empty disables. Default [4789] (RFC 7348 section 5). */
  vxlanPorts?: readonly number[];
  /** UDP destination ports decoded as TZSP (1..65535); empty disables. Default [37008]. */
  tzspPorts?: readonly number[];
  /** UDP/TCP destination ports decoded as HEP (1..65535); empty disables. Default [9060]. */
  hepPorts?: readonly number[];
  /** After an MPLS stack, a first nibble of 0 means a pseudowire control word followed by Ethernet (RFC 4385/4448). Default true. */
  mplsPseudowireEthernet?: boolean;
  /** Reassemble IPv4/IPv6 fragments. When false, fragments return `Fragment` and are not kept. Default true. */
  reassemble?: boolean;
  /**
   * Most datagrams under reassembly at once (1..65536); the oldest is evicted beyond it. Default 256.
   * Each fragment scans the slots, so keep it in the hundreds or low thousands.
   */
  maxReassemblyDatagrams?: number;
  /** Most bytes held by datagrams under reassembly; oldest evicted beyond it. Default 4 MiB. */
  maxReassemblyBytes?: number;
  /** Largest reassembled payload accepted, bytes (IPv4 cannot exceed 65515). Default 65535. */
  maxDatagramBytes?: number;
  /** Most fragments per datagram. Default 64. */
  maxFragmentsPerDatagram?: number;
  /** Seconds of packet time after the first fragment before an incomplete datagram is dropped. Default 30. */
  reassemblyTimeoutSec?: number;
}

/** Options with every default filled in. */
export type ResolvedPacketDecoderOptions = Readonly<Required<PacketDecoderOptions>>;

/** Default settings (see each field of {@link PacketDecoderOptions}). */
export const DEFAULT_DECODER_OPTIONS: ResolvedPacketDecoderOptions = Object.freeze({
  decodeTunnels: true,
  maxTunnelDepth: 4,
  vxlanPorts: Object.freeze([4789]),
  tzspPorts: Object.freeze([37008]),
  hepPorts: Object.freeze([9060]),
  mplsPseudowireEthernet: true,
  reassemble: true,
  maxReassemblyDatagrams: 256,
  maxReassemblyBytes: 4 * 1024 * 1024,
  maxDatagramBytes: 65535,
  maxFragmentsPerDatagram: 64,
  reassemblyTimeoutSec: 30,
});

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`PacketDecoder option ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/** The tunnel port lists, in the order their names appear in messages. */
const TUNNEL_PORT_OPTIONS = ['vxlanPorts', 'tzspPorts', 'hepPorts'] as const;

/**
 * Checks every tunnel port list (integers 1..65535) and that no port is in two lists: a port
 * decodes as exactly one tunnel.
 */
function checkTunnelPorts(o: Required<PacketDecoderOptions>): void {
  const owner = new Map<number, string>();
  for (const name of TUNNEL_PORT_OPTIONS) {
    const given: unknown = o[name];
    if (!Array.isArray(given)) throw new TypeError(`PacketDecoder option ${name} must be an array of ports, got ${String(given)}`);
    const ports: readonly number[] = o[name];
    ports.forEach((port, i) => {
      checkInt(`${name}[${i}]`, port, 1, 65535);
      const first = owner.get(port);
      if (first !== undefined && first !== name) throw new RangeError(`PacketDecoder port ${port} is in both ${first} and ${name}`);
      owner.set(port, name);
    });
  }
}

/**
 * Fill defaults and validate; a bad option is a programmer error and throws a `RangeError`.
 */
export function resolveDecoderOptions(options: PacketDecoderOptions = {}): ResolvedPacketDecoderOptions {
  const o: Required<PacketDecoderOptions> = { ...DEFAULT_DECODER_OPTIONS, ...options };
  checkInt('maxTunnelDepth', o.maxTunnelDepth, 0, MAX_TUNNEL_LAYERS);
  checkTunnelPorts(o);
  checkInt('maxReassemblyDatagrams', o.maxReassemblyDatagrams, 1, 65536);
  checkInt('maxReassemblyBytes', o.maxReassemblyBytes, 1024, 2 ** 31 - 1);
  checkInt('maxDatagramBytes', o.maxDatagramBytes, 8, 65535);
  checkInt('maxFragmentsPerDatagram', o.maxFragmentsPerDatagram, 2, 8192);
  if (!(o.reassemblyTimeoutSec > 0) || !Number.isFinite(o.reassemblyTimeoutSec)) {
    throw new RangeError(`PacketDecoder option reassemblyTimeoutSec must be > 0, got ${o.reassemblyTimeoutSec}`);
  }
  for (const name of TUNNEL_PORT_OPTIONS) o[name] = Object.freeze([...o[name]]);
  return Object.freeze(o);
}
