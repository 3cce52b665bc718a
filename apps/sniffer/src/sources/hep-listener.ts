import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { HEP3_MAGIC, Transport, buildIpFrame, ipFrameHeaderLength, parseIpv4Text, parseIpv6Text, type IpFrameFields } from '@callscope/packet';
import { LinkType, createPacketRecord, readU16BE, readU32BE, type PacketRecord } from '@callscope/pcap-format';
import { parseHostPort, type Logger } from '@callscope/runtime';
import { HEP3_HEADER_LENGTH, HepFramingStatus, HepStreamFramer } from './hep-stream-framer.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { PacketSink, PacketSource, SourceStats } from './packet-source.js';

/** Options of a {@link HepListener}. */
export interface HepListenerOptions {
  /** Address to bind (IPv4, IPv6 or a host name resolved once at start); `0.0.0.0` / `::` for all. */
  host: string;
  /** UDP and TCP port, 1..65535; 0 picks a free port that is free for both (tests). */
  port: number;
  /** Concurrent TCP connections; more are closed at once and counted (`connections_refused`). Default 256. */
  maxConnections?: number;
  /**
   * Largest HEP message accepted, bytes (64..65535, default 65535). A larger one is counted
   * (`bad_oversize`) and dropped; on TCP it also ends the connection (a peer that sends one is
   * broken or hostile). Messages enter the pipeline in a UDP frame, so above 65,507 bytes (IPv4)
   * or 65,527 (IPv6) they are oversize whatever this says.
   */
  maxMessageBytes?: number;
  /**
   * A TCP connection silent for this long is closed (`idle_closed`), and so is one whose message
   * takes longer than this to arrive (`slow_closed`: a sender trickling bytes). Default 300 s.
   */
  idleTimeoutMs?: number;
  /** Receive buffer asked for the UDP socket (the kernel caps it at net.core.rmem_max). Default 4 MiB. */
  udpReceiveBufferBytes?: number;
  logger?: Logger;
}

/** The `hep` entry of `sniffer stats` (every {@link SourceStats} key plus the listener's own). */
export interface HepListenerStats extends SourceStats {
  kind: 'hep';
  /** UDP datagrams the kernel dropped on the listener's socket (full receive buffer), from /proc/net/udp; 0 when unknown. */
  kernel_drops: number;
  udp_datagrams: number;
  udp_bytes: number;
  udp_messages: number;
  tcp_connections_open: number;
  tcp_connections_total: number;
  tcp_bytes: number;
  tcp_messages: number;
  /** Neither "HEP3" nor a HEP v1/v2 version byte at a message start (UDP datagram dropped, TCP connection closed). */
  bad_not_hep: number;
  /** A HEP3 length field below 6 (the header alone) or above the datagram. */
  bad_length: number;
  /** A message larger than `maxMessageBytes` (or the frame it enters the pipeline in). */
  bad_oversize: number;
  /** HEP v1/v2 on TCP: it has no length field, so the stream cannot be framed; the connection is closed. */
  bad_v2_on_tcp: number;
  /** Bytes of a message still incomplete when its TCP connection ended (peer close, reset, idle timeout, stop). */
  bad_truncated_at_close: number;
  /** UDP datagrams with bytes after their HEP3 message (the message is delivered, the rest dropped). */
  udp_trailing_dropped: number;
  /** TCP connections over `maxConnections`, closed at accept. */
  connections_refused: number;
  /** TCP connections closed for silence (`idleTimeoutMs`). */
  idle_closed: number;
  /** TCP connections closed because a message took longer than the idle timeout to arrive (a trickling sender). */
  slow_closed: number;
  /** Socket errors (resets...): the connection ends, the listener goes on. */
  socket_errors: number;
  /** The sink threw: a bug downstream, counted and logged (rate-limited), the listener goes on. */
  sink_errors: number;
  /** A bug in the listener itself (the datagram or connection is dropped, the process goes on). */
  internal_errors: number;
  /** The UDP receive buffer the kernel granted, bytes. */
  udp_receive_buffer: number;
}

const HEP3_HEADER = HEP3_HEADER_LENGTH;
/** IPv4 + UDP header bytes in front of a message (the IPv4 total length bounds the message). */
const V4_OVERHEAD = 28;
const V6_OVERHEAD = 48;
const MAX_U16 = 0xffff;
/** Largest message a UDP frame can carry: IPv4 total length, IPv6 UDP length (both 16-bit). */
const MAX_V4_MESSAGE = MAX_U16 - V4_OVERHEAD;
const MAX_V6_MESSAGE = MAX_U16 - 8;
/** Wall-clock anchor refresh (ms): receive times follow clock steps within this. */
const CLOCK_REANCHOR_MS = 1000;
/** One log line per reason at most this often (ms); the count of suppressed ones goes with it. */
const LOG_EVERY_MS = 10_000;
/** The counter of each framing fault that closes a TCP connection. */
const FRAMING_FAULT = {
  [HepFramingStatus.NotHep]: 'bad_not_hep',
  [HepFramingStatus.HepV2]: 'bad_v2_on_tcp',
  [HepFramingStatus.BadLength]: 'bad_length',
  [HepFramingStatus.Oversize]: 'bad_oversize',
} as const;
type FramingFault = (typeof FRAMING_FAULT)[keyof typeof FRAMING_FAULT];
const FRAMING_FAULT_TEXT: Record<FramingFault, string> = {
  bad_not_hep: 'not HEP3 at a message start',
  bad_v2_on_tcp: 'HEP v1/v2, which TCP cannot frame (no length field)',
  bad_length: 'a HEP3 length below its 6-byte header',
  bad_oversize: 'a HEP3 message over the size limit',
};

/** The outer addresses of the frames built for one peer (parsed once per peer, not per message). */
interface Endpoints {
  ipVersion: 4 | 6;
  src4: number;
  dst4: number;
  src6: Uint32Array;
  dst6: Uint32Array;
  srcPort: number;
}

/** Reassembly state of one TCP connection. */
interface Conn {
  socket: Socket;
  ends: Endpoints;
  framer: HepStreamFramer;
  /** performance.now() when the message now pending began; 0 when none is. */
  partialSinceMs: number;
  closed: boolean;
}

/**
 * The port a `--hep-listen HOST:PORT` text listens on, or null when it is not HOST:PORT. Whoever
 * builds the pipeline adds it to the decoder's `hepPorts`: the listener's messages enter as UDP
 * datagrams to this port, and only a HEP port is decoded as HEP.
 */
export function hepListenerPort(listen: string): number | null {
  return parseHostPort(listen)?.port ?? null;
}

/**
 * HEP v2/v3 collector (Homer encapsulation, as Kamailio, OpenSIPS, FreeSWITCH, Asterisk and
 * heplify send it) on UDP and TCP of one HOST:PORT: a source of the sensor daemon.
 *
 * How a message enters the pipeline: each HEP message is wrapped in a synthesized IP + UDP frame
 * (LinkType RAW, IPv4 or IPv6 after the sender's address) from the sender's address and port to
 * the listener's address and port, stamped with the receive time (wall clock). The decoder's HEP
 * path, with the listener's port among `decode.hepPorts` ({@link hepListenerPort}), unwraps it
 * exactly as HEP found in captured traffic: the HEP addresses, ports and protocol become the
 * packet's, the HEP timestamp becomes its time (`tsOverridden`), SIP over TCP goes on as whole
 * messages (`fromHep`), decode faults inside the message are counted by the pipeline's decode
 * statuses (BadHep, TruncatedHep), and the spool rebuilds the inner packet for Wireshark. A path of
 * its own (calling decodeHep and feeding a decoded packet) would bypass the pipeline's one entry
 * point, its fates and its spool rules; the frame costs one copy of the message into a reused
 * buffer and the checksums. Messages from TCP go in UDP frames too: each is whole, and the
 * decoder's TCP path would see only the first HEP message of a segment.
 *
 * Framing: UDP carries one message per datagram (v1, v2 or v3; HEP3 bytes after the message's
 * length are dropped and counted). A TCP stream carries HEP3 messages back to back, framed by
 * the length field (bytes 4-5): every message of a segment is delivered, and a message split
 * across segments is reassembled in the connection's buffer. A stream that is not HEP3 (bad
 * magic, HEP v2, a length below 6 or above `maxMessageBytes`) cannot be framed past that point:
 * counted, logged (rate-limited) and the connection closed; other connections and UDP go on.
 *
 * Bounds: `maxConnections` concurrent connections, one buffer of at most the largest message per
 * connection, an idle timeout per connection. The delivered record and its frame are reused: the
 * sink copies what it keeps (the pipeline and the spool do).
 */
export class HepListener implements PacketSource {
  readonly kind = 'hep' as const;
  private readonly maxConnections: number;
  private readonly maxMessageBytes: number;
  private readonly idleTimeoutMs: number;
  private readonly udpReceiveBufferBytes: number;
  private readonly log: Logger | undefined;
  /** Warnings about peers, at most one per reason and LOG_EVERY_MS. */
  private readonly limited: RateLimitedLog;
  private udp: UdpSocket | null = null;
  private server: Server | null = null;
  private readonly conns = new Set<Conn>();
  private boundHost: string;
  private boundPort: number;
  /** The listener's own address as frames carry it (destination). */
  private local: Endpoints | null = null;
  private stopping: Promise<void> | null = null;
  private started = false;

  /** Reused for every delivery: the record, its frame buffer, the frame's header fields. */
  private readonly rec: PacketRecord = createPacketRecord();
  private readonly frame = new Uint8Array(V6_OVERHEAD + MAX_U16);
  private readonly fields = {
    ipVersion: 4,
    src4: 0,
    dst4: 0,
    src6: new Uint32Array(4),
    dst6: new Uint32Array(4),
    transport: Transport.Udp,
    srcPort: 0,
    dstPort: 0,
    tcpSeq: 0,
    tcpAck: 0,
    tcpFlags: 0,
    tcpWindow: 0,
  } satisfies IpFrameFields;
  /** Last UDP sender, so a steady sender's address is parsed once. */
  private lastUdpAddress = '';
  private lastUdpFamily = '';
  private readonly udpEnds: Endpoints = { ipVersion: 4, src4: 0, dst4: 0, src6: new Uint32Array(4), dst6: new Uint32Array(4), srcPort: 0 };
  private readonly v6scratch = new Uint16Array(8);
  /** Wall clock = anchorWallMs + (performance.now() - anchorPerfMs): µs resolution, re-anchored every second. */
  private anchorWallMs = 0;
  private anchorPerfMs = -Infinity;

  private readonly c = {
    received: 0,
    udp_datagrams: 0,
    udp_bytes: 0,
    udp_messages: 0,
    tcp_connections_total: 0,
    tcp_bytes: 0,
    tcp_messages: 0,
    bad_not_hep: 0,
    bad_length: 0,
    bad_oversize: 0,
    bad_v2_on_tcp: 0,
    bad_truncated_at_close: 0,
    udp_trailing_dropped: 0,
    connections_refused: 0,
    idle_closed: 0,
    slow_closed: 0,
    socket_errors: 0,
    sink_errors: 0,
    internal_errors: 0,
  };

  /**
   * @throws RangeError when an option is out of range (programmer or config error; the config
   *   schema checks them first).
   */
  constructor(
    options: HepListenerOptions,
    private readonly sink: PacketSink,
  ) {
    const { host, port } = options;
    if (typeof host !== 'string' || host.length === 0) throw new RangeError('HEP listener: host must be a non-empty string');
    if (!(Number.isInteger(port) && port >= 0 && port <= MAX_U16)) throw new RangeError(`HEP listener: port must be 0..65535, not ${port}`);
    this.maxConnections = options.maxConnections ?? 256;
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_U16;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    this.udpReceiveBufferBytes = options.udpReceiveBufferBytes ?? 4 * 1024 * 1024;
    if (!(Number.isInteger(this.maxConnections) && this.maxConnections >= 1)) throw new RangeError(`HEP listener: maxConnections must be an integer >= 1, not ${this.maxConnections}`);
    if (!(Number.isInteger(this.maxMessageBytes) && this.maxMessageBytes >= 64 && this.maxMessageBytes <= MAX_U16)) {
      throw new RangeError(`HEP listener: maxMessageBytes must be 64..65535, not ${this.maxMessageBytes}`);
    }
    if (!(this.idleTimeoutMs > 0 && Number.isFinite(this.idleTimeoutMs))) throw new RangeError(`HEP listener: idleTimeoutMs must be > 0, not ${this.idleTimeoutMs}`);
    if (!(Number.isInteger(this.udpReceiveBufferBytes) && this.udpReceiveBufferBytes >= 0)) throw new RangeError(`HEP listener: udpReceiveBufferBytes must be >= 0`);
    this.log = options.logger;
    this.limited = new RateLimitedLog(this.log, LOG_EVERY_MS);
    this.boundHost = host;
    this.boundPort = port;
    this.rec.linkType = LinkType.Raw;
  }

  /** `host:port` (IPv6 in brackets); the bound port once started with port 0. */
  get name(): string {
    return this.boundHost.includes(':') ? `[${this.boundHost}]:${this.boundPort}` : `${this.boundHost}:${this.boundPort}`;
  }

  /** The bound address and port (after {@link start}). */
  address(): { host: string; port: number } {
    return { host: this.boundHost, port: this.boundPort };
  }

  /**
   * Binds TCP, then UDP on the same port. Rejects with a message for the operator (and nothing
   * left open) when the host does not resolve, the address is not local, or the port is taken.
   */
  async start(): Promise<void> {
    if (this.started) return;
    if (this.stopping !== null) throw new Error('HEP listener: stopped, cannot start again');
    this.started = true;
    const requested = this.name;
    let address: string;
    let family: 4 | 6;
    if (isIP(this.boundHost) !== 0) {
      address = this.boundHost;
      family = isIP(address) === 6 ? 6 : 4;
    } else {
      try {
        const found = await lookup(this.boundHost);
        address = found.address;
        family = found.family === 6 ? 6 : 4;
      } catch (err) {
        this.started = false;
        throw new Error(`HEP listener ${requested}: cannot resolve host "${this.boundHost}" (${errText(err)})`);
      }
    }
    // Port 0: the TCP port the kernel picks may be taken for UDP; try a few.
    const attempts = this.boundPort === 0 ? 8 : 1;
    for (let i = 1; ; i++) {
      try {
        const port = await this.listenTcp(address, this.boundPort);
        await this.bindUdp(address, family, port);
        this.boundHost = address;
        this.boundPort = port;
        break;
      } catch (err) {
        await this.closeSockets();
        if (i < attempts && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
        this.started = false;
        throw new Error(`HEP listener ${requested}: ${bindProblem(err)}`);
      }
    }
    this.local = endpointsOf(address, family, 0, this.v6scratch);
    this.log?.info({ listen: this.name, max_connections: this.maxConnections, max_message_bytes: this.maxMessageBytes, idle_timeout_ms: this.idleTimeoutMs, udp_receive_buffer: this.udpReceiveBuffer() }, `HEP listener on ${this.name} (UDP and TCP)`);
  }

  /** Closes the sockets and every connection (a message still incomplete is counted as truncated); idempotent. */
  /**
   * The wall clock: HEP senders stamp messages with their own capture time, which is close to it
   * (a sender whose clock is far off is what the pipeline's clock-outlier counter catches).
   */
  clockUs(): number {
    return Date.now() * 1000;
  }

  stop(): Promise<void> {
    this.stopping ??= this.closeSockets();
    return this.stopping;
  }

  stats(): HepListenerStats {
    const c = this.c;
    return {
      kind: this.kind,
      name: this.name,
      received: c.received,
      kernel_drops: this.udpKernelDrops(),
      if_drops: 0,
      queue_drops: 0,
      udp_datagrams: c.udp_datagrams,
      udp_bytes: c.udp_bytes,
      udp_messages: c.udp_messages,
      tcp_connections_open: this.conns.size,
      tcp_connections_total: c.tcp_connections_total,
      tcp_bytes: c.tcp_bytes,
      tcp_messages: c.tcp_messages,
      bad_not_hep: c.bad_not_hep,
      bad_length: c.bad_length,
      bad_oversize: c.bad_oversize,
      bad_v2_on_tcp: c.bad_v2_on_tcp,
      bad_truncated_at_close: c.bad_truncated_at_close,
      udp_trailing_dropped: c.udp_trailing_dropped,
      connections_refused: c.connections_refused,
      idle_closed: c.idle_closed,
      slow_closed: c.slow_closed,
      socket_errors: c.socket_errors,
      sink_errors: c.sink_errors,
      internal_errors: c.internal_errors,
      udp_receive_buffer: this.udpReceiveBuffer(),
    };
  }

  // ---- sockets ----

  private listenTcp(address: string, port: number): Promise<number> {
    const server = createServer({ noDelay: true });
    this.server = server;
    server.on('connection', (socket) => {
      this.onConnection(socket);
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (err) => {
          this.limited.warn('server_error', { err: errText(err) }, 'HEP listener: TCP server error');
        });
        const a = server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : port);
      });
    });
  }

  private bindUdp(address: string, family: 4 | 6, port: number): Promise<void> {
    const udp = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    this.udp = udp;
    udp.on('message', (msg, rinfo) => {
      try {
        this.onDatagram(msg, rinfo);
      } catch (err) {
        // A bug here must cost one datagram, not the sensor.
        this.c.internal_errors++;
        this.limited.warn('internal_error', { err: errText(err) }, 'HEP listener: internal error on a UDP datagram (dropped)');
      }
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        reject(err);
      };
      udp.once('error', onError);
      udp.bind({ address, port, exclusive: true }, () => {
        udp.off('error', onError);
        udp.on('error', (err) => {
          this.c.socket_errors++;
          this.limited.warn('udp_error', { err: errText(err) }, 'HEP listener: UDP socket error');
        });
        if (this.udpReceiveBufferBytes > 0) {
          try {
            udp.setRecvBufferSize(this.udpReceiveBufferBytes);
          } catch (err) {
            this.log?.warn({ err: errText(err), wanted: this.udpReceiveBufferBytes }, 'HEP listener: UDP receive buffer not enlarged (raise net.core.rmem_max)');
          }
        }
        resolve();
      });
    });
  }

  private async closeSockets(): Promise<void> {
    const udp = this.udp;
    const server = this.server;
    this.udp = null;
    this.server = null;
    for (const conn of [...this.conns]) this.endConn(conn);
    const waits: Promise<void>[] = [];
    if (udp !== null) {
      waits.push(
        new Promise((resolve) => {
          try {
            udp.close(() => {
              resolve();
            });
          } catch {
            resolve(); // not bound yet or already closed: nothing to wait for
          }
        }),
      );
    }
    if (server !== null) {
      waits.push(
        new Promise((resolve) => {
          server.close(() => {
            resolve();
          });
        }),
      );
    }
    await Promise.all(waits);
  }

  private udpReceiveBuffer(): number {
    try {
      return this.udp?.getRecvBufferSize() ?? 0;
    } catch {
      return 0; // socket closed: no buffer
    }
  }

  /**
   * Drops on the UDP socket (`drops` column of /proc/net/udp{,6} for our local port): what the
   * kernel discarded because the receive buffer was full. Linux only; 0 elsewhere. Read on stats
   * calls (every few seconds), not per packet.
   */
  private udpKernelDrops(): number {
    if (this.udp === null || process.platform !== 'linux') return 0;
    const portHex = `:${this.boundPort.toString(16).toUpperCase().padStart(4, '0')} `;
    let drops = 0;
    for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
      let text: string;
      try {
        text = readFileSync(file, 'latin1');
      } catch {
        continue; // no IPv6 or no procfs: no figure from this file
      }
      for (const line of text.split('\n')) {
        const cols = line.trim().split(/\s+/);
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
        if (cols.length >= 13 && `${cols[1]} `.endsWith(portHex) && cols[2]?.match(/^0+:0000$/) !== null) drops += Number(cols[12]) || 0;
      }
    }
    return drops;
  }

  // ---- UDP ----

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    const c = this.c;
    c.udp_datagrams++;
    c.udp_bytes += msg.length;
    const ends = this.udpEndpoints(rinfo);
    if (ends === null) return;
    const len = msg.length;
    let msgLen = len;
    if (len >= 4 && readU32BE(msg, 0) === HEP3_MAGIC) {
      const total = len >= HEP3_HEADER ? readU16BE(msg, 4) : 0;
      if (total < HEP3_HEADER || total > len) {
        c.bad_length++;
        this.limited.warn('bad_length', { from: rinfo.address, length_field: total, datagram: len }, 'HEP listener: UDP datagram with a HEP3 length that does not fit it (dropped)');
        return;
      }
      if (total < len) c.udp_trailing_dropped++;
      msgLen = total;
    } else if (len === 0 || (msg[0] !== 1 && msg[0] !== 2)) {
      c.bad_not_hep++;
      this.limited.warn('bad_not_hep', { from: rinfo.address, bytes: len }, 'HEP listener: UDP datagram that is not HEP (dropped)');
      return;
    }
    if (msgLen > this.maxMessageBytes || msgLen > this.frameCap(ends)) {
      c.bad_oversize++;
      this.limited.warn('bad_oversize', { from: rinfo.address, bytes: msgLen }, 'HEP listener: HEP message over the size limit (dropped)');
      return;
    }
    this.stampNow();
    c.udp_messages++;
    this.deliver(ends, msg, 0, msgLen);
  }

  /** The frame endpoints of a UDP sender; null (counted) if its address does not parse. */
  private udpEndpoints(rinfo: RemoteInfo): Endpoints | null {
    const e = this.udpEnds;
    if (rinfo.address !== this.lastUdpAddress || rinfo.family !== this.lastUdpFamily) {
      const parsed = endpointsOf(rinfo.address, rinfo.family === 'IPv6' ? 6 : 4, rinfo.port, this.v6scratch);
      if (parsed === null) {
        this.c.socket_errors++;
        return null;
      }
      this.withLocal(parsed);
      e.ipVersion = parsed.ipVersion;
      e.src4 = parsed.src4;
      e.dst4 = parsed.dst4;
      e.src6.set(parsed.src6);
      e.dst6.set(parsed.dst6);
      this.lastUdpAddress = rinfo.address;
      this.lastUdpFamily = rinfo.family;
    }
    e.srcPort = rinfo.port;
    return e;
  }

  // ---- TCP ----

  private onConnection(socket: Socket): void {
    if (this.conns.size >= this.maxConnections || this.stopping !== null) {
      this.c.connections_refused++;
      this.limited.warn('connections_refused', { from: socket.remoteAddress, max_connections: this.maxConnections }, 'HEP listener: TCP connection refused, too many open');
      socket.on('error', () => undefined); // the reset of a connection we are refusing is expected
      socket.destroy();
      return;
    }
    const remote = socket.remoteAddress;
    const ends = remote === undefined ? null : endpointsOf(remote, socket.remoteFamily === 'IPv6' ? 6 : 4, socket.remotePort ?? 0, new Uint16Array(8));
    if (ends === null) {
      // A socket already closed by the peer before we looked has no address: nothing to read from it.
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    // The address the peer reached (on a wildcard listener, the one interface address it used).
    const local = socket.localAddress === undefined ? null : endpointsOf(socket.localAddress, socket.localFamily === 'IPv6' ? 6 : 4, 0, new Uint16Array(8));
    if (local !== null && local.ipVersion === ends.ipVersion) {
      ends.dst4 = local.src4;
      ends.dst6.set(local.src6);
    } else this.withLocal(ends);
    const maxMessage = Math.min(this.maxMessageBytes, this.frameCap(ends));
    const conn: Conn = {
      socket,
      ends,
      closed: false,
      partialSinceMs: 0,
      framer: new HepStreamFramer(maxMessage, (buf, off, len) => {
        this.c.tcp_messages++;
        this.deliver(ends, buf, off, len);
        if (conn.closed) conn.framer.stop(); // the sink stopped the listener: nothing more from this chunk
      }),
    };
    this.conns.add(conn);
    this.c.tcp_connections_total++;
    socket.setTimeout(this.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.onTcpData(conn, chunk);
      } catch (err) {
        // A bug in the framing must cost one connection, not the sensor.
        this.c.internal_errors++;
        this.log?.error({ err, from: remote }, 'HEP listener: internal error on a TCP connection (closed)');
        this.endConn(conn);
      }
    });
    socket.on('timeout', () => {
      this.c.idle_closed++;
      this.limited.warn('idle_closed', { from: remote, idle_ms: this.idleTimeoutMs }, 'HEP listener: TCP connection idle, closed');
      this.endConn(conn);
    });
    socket.on('error', (err) => {
      this.c.socket_errors++;
      this.limited.warn('socket_error', { from: remote, err: errText(err) }, 'HEP listener: TCP connection error');
    });
    socket.on('close', () => {
      this.endConn(conn);
    });
  }

  /** Frames the chunk's messages; a stream that cannot be framed is counted, logged and closed. */
  private onTcpData(conn: Conn, chunk: Buffer): void {
    if (conn.closed) return;
    this.c.tcp_bytes += chunk.length;
    this.stampNow();
    const messagesBefore = this.c.tcp_messages;
    const st = conn.framer.push(chunk);
    if (st === HepFramingStatus.Ok) {
      this.checkSlowMessage(conn, messagesBefore);
      return;
    }
    if (st === HepFramingStatus.Stopped) return;
    const reason = FRAMING_FAULT[st];
    this.c[reason]++;
    const lengthField = st === HepFramingStatus.BadLength || st === HepFramingStatus.Oversize ? { length_field: conn.framer.badLengthField } : {};
    this.limited.warn(reason, { from: conn.socket.remoteAddress, ...lengthField }, `HEP listener: TCP stream with ${FRAMING_FAULT_TEXT[reason]}: connection closed`);
    this.endConn(conn);
  }

  /**
   * Slowloris defence beyond the idle timeout: a peer that trickles a byte now and then is never
   * idle, so a message begun must also be complete within `idleTimeoutMs` (checked as bytes arrive).
   */
  private checkSlowMessage(conn: Conn, messagesBefore: number): void {
    if (conn.framer.pending === 0) {
      conn.partialSinceMs = 0;
      return;
    }
    const now = performance.now();
    // A message was completed by this chunk: the pending bytes start a new one.
    if (conn.partialSinceMs === 0 || this.c.tcp_messages !== messagesBefore) {
      conn.partialSinceMs = now;
      return;
    }
    if (now - conn.partialSinceMs <= this.idleTimeoutMs) return;
    this.c.slow_closed++;
    this.limited.warn('slow_closed', { from: conn.socket.remoteAddress, pending_bytes: conn.framer.pending, limit_ms: this.idleTimeoutMs }, 'HEP listener: TCP message not complete within the idle timeout (slow sender): connection closed');
    this.endConn(conn);
  }

  private endConn(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    if (conn.framer.pending > 0) this.c.bad_truncated_at_close++;
    conn.framer.stop();
    this.conns.delete(conn);
    conn.socket.destroy();
  }

  // ---- delivery ----

  /** Largest message the UDP frame for these endpoints can carry. */
  private frameCap(ends: Endpoints): number {
    return ends.ipVersion === 4 ? MAX_V4_MESSAGE : MAX_V6_MESSAGE;
  }

  /** Fills in the listener's address as the frame destination (same family as the sender). */
  private withLocal(e: Endpoints): void {
    const l = this.local;
    if (l === null || l.ipVersion !== e.ipVersion) {
      // A v4 sender on a dual-stack "::" listener: no v4 address of ours is known; unspecified.
      e.dst4 = 0;
      e.dst6.fill(0);
      return;
    }
    e.dst4 = l.src4;
    e.dst6.set(l.src6);
  }

  /** Sets the record's capture time to now (wall clock, µs resolution). */
  private stampNow(): void {
    const perf = performance.now();
    if (perf - this.anchorPerfMs > CLOCK_REANCHOR_MS) {
      this.anchorPerfMs = perf;
      this.anchorWallMs = Date.now();
    }
    const ms = this.anchorWallMs + (perf - this.anchorPerfMs);
    const sec = Math.floor(ms / 1000);
    this.rec.tsSec = sec;
    this.rec.tsNsec = Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6));
  }

  /** One HEP message `buf[off, off+len)` to the sink, in the reused frame and record. */
  private deliver(ends: Endpoints, buf: Uint8Array, off: number, len: number): void {
    const f = this.fields;
    f.ipVersion = ends.ipVersion;
    f.src4 = ends.src4;
    f.dst4 = ends.dst4;
    f.src6.set(ends.src6);
    f.dst6.set(ends.dst6);
    f.srcPort = ends.srcPort;
    f.dstPort = this.boundPort;
    // Sizes were checked against frameCap: the header length is never 0 here.
    if (ipFrameHeaderLength(f, len) === 0) {
      this.c.bad_oversize++;
      return;
    }
    const n = buildIpFrame(f, buf, off, len, this.frame, 0);
    const rec = this.rec;
    rec.capLen = n;
    rec.origLen = n;
    rec.data = this.frame.subarray(0, n);
    rec.index = this.c.received;
    this.c.received++;
    try {
      this.sink(rec);
    } catch (err) {
      this.c.sink_errors++;
      this.limited.warn('sink_error', { err: errText(err) }, 'HEP listener: the packet path threw on a message (counted; listener goes on)');
    }
  }

}

/** Frame endpoints of a peer address (v4-mapped IPv6 taken as IPv4); null if the text does not parse. */
function endpointsOf(address: string, family: 4 | 6, port: number, scratch: Uint16Array): Endpoints | null {
  const e: Endpoints = { ipVersion: 4, src4: 0, dst4: 0, src6: new Uint32Array(4), dst6: new Uint32Array(4), srcPort: port };
  const mapped = family === 6 && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address);
  if (family === 4 || mapped) {
    const v4 = parseIpv4Text(mapped ? address.slice(7) : address);
    if (v4 < 0) return null;
    e.src4 = v4;
    return e;
  }
  if (!parseIpv6Text(address, scratch)) return null;
  e.ipVersion = 6;
  for (let i = 0; i < 4; i++) e.src6[i] = ((scratch[2 * i]! << 16) | scratch[2 * i + 1]!) >>> 0;
  return e;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What a bind failure means for the operator. */
function bindProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return `the port is in use (EADDRINUSE): another process listens on it (ss -lntup to see which)`;
    case 'EADDRNOTAVAIL':
      return `the address is not one of this host's (EADDRNOTAVAIL)`;
    case 'EACCES':
      return `permission denied (EACCES): ports below 1024 need CAP_NET_BIND_SERVICE`;
    case 'EAFNOSUPPORT':
      return `address family not supported here (EAFNOSUPPORT)`;
    default:
      return `cannot bind: ${errText(err)}`;
  }
}
