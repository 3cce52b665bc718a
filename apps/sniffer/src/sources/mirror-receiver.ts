import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createServer as createTlsServer } from 'node:tls';
import { DecompressStatus, createDecompressedBatch, decompressBatch, maxZstdFrames } from '@callscope/mirror-codec';
import {
  AuthFailure,
  BatchStatus,
  Compression,
  DEFAULT_MAX_FRAME_LENGTH,
  FlowBlockDecoder,
  FlowBlockStatus,
  FrameDecoder,
  FrameStatus,
  HelloStatus,
  MAC_LENGTH,
  MIN_PROTOCOL_VERSION,
  MalformedReason,
  PROTOCOL_VERSION,
  PacketListDecoder,
  PacketListStatus,
  PacketStatus,
  ReceiveStatus,
  ReceiveWindow,
  authTranscript,
  checkBatch,
  checkHello,
  checkPacket,
  createDecodedFrame,
  createRawBatch,
  encodeFrame,
  negotiateVersion,
  type Challenge,
  type Envelope,
  type EnvelopeInit,
  type Hello,
  type Packet,
  type PacketBatch,
  type PacketList,
  type RawBatch,
} from '@callscope/mirror-protocol';
import { createPacketRecord, type PacketRecord } from '@callscope/pcap-format';
import type { Logger } from '@callscope/runtime';
import { RateLimitedLog } from './rate-limited-log.js';
import type { PacketSink, PacketSource, SourceStats } from './packet-source.js';

/** Identity of a mirrored sensor, from its authenticated Hello. */
export interface MirrorSensor {
  /** `Hello.sensorId` (checked by `checkHello`: 1..64 UTF-8 bytes, no control characters). */
  id: string;
  /** `Hello.sensorName`, or the id when the sender gave no name: the `sensor` of its CDRs. */
  name: string;
}

/** Builds the packet path of one mirrored sensor, once, when it first authenticates. */
export type MirrorSinkFactory = (sensor: MirrorSensor) => PacketSink;

/** Options of a {@link MirrorReceiver}. */
export interface MirrorReceiverOptions {
  /** Address to bind (`0.0.0.0` / `::` for all). */
  host: string;
  /** TCP port, 0..65535 (0: a free one, tests). */
  port: number;
  /** The shared secret of the senders (the bytes of the secret file). */
  secret: Uint8Array;
  /** TLS certificate chain and key (PEM); absent: plain TCP. */
  tls?: { cert: Uint8Array | string; key: Uint8Array | string } | null;
  /** Concurrent connections, authenticated or not; more are closed at accept (`connections_refused`). Default 64. */
  maxConnections?: number;
  /** Distinct sensor ids remembered (their acked sequence and counters); a new one beyond is refused. Default 1024. */
  maxSensors?: number;
  /** Hello and Auth must arrive within this long of the connect (`handshake_timeout_closed`). Default 10 s. */
  handshakeTimeoutMs?: number;
  /**
   * An authenticated connection silent this long is closed (`idle_closed`; senders heartbeat far
   * more often), and so is one whose frame takes longer than this to arrive (`slow_closed`).
   * Default 60 s.
   */
  idleTimeoutMs?: number;
  /** Heartbeat sent to each authenticated sender this often. Default 15 s. */
  heartbeatMs?: number;
  /** Largest frame accepted (bytes); a larger length prefix ends the connection. Default 16 MiB. */
  maxFrameBytes?: number;
  /** Largest decompressed packet list of one batch (bytes): the decompression-bomb bound. Default 64 MiB. */
  maxBatchBytes?: number;
  logger?: Logger;
}

/** Per-sensor entry of `sniffer stats` (kind `mirror`, one per sender that authenticated). */
export interface MirrorSensorStats extends SourceStats {
  kind: 'mirror';
  role: 'sender';
  sensor_id: string;
  sensor_name: string;
  state: 'connected' | 'disconnected';
  remote: string | null;
  connections: number;
  /** Batches accepted as new. */
  batches: number;
  /** Resent batches dropped because they had been received already. */
  duplicates_dropped: number;
  /** Batch sequences that never came (the sender's buffer overflowed): counted, not waited for. */
  lost: number;
  /** Highest contiguous sequence received (what the last Ack carried). */
  acked_sequence: number;
  /** Times the sender came back as a new process (a new stream id; sequences began again at 1). */
  restarts: number;
  /** Bytes of batch frames as received (compressed, framing included; duplicates too). */
  bytes_compressed: number;
  /** Captured packet bytes of the new batches (what a local capture would have read; the sender's `bytes_raw`). */
  bytes_raw: number;
  /** Packets of accepted batches refused by `checkPacket` (empty, longer than original, bad ns). */
  bad_packets: number;
  /** Handshakes for this sensor id refused for a wrong MAC. */
  auth_failures: number;
  /** Sender clock minus ours at its last Hello, ms (positive: the sender is ahead). */
  clock_offset_ms: number;
  connected_since: string | null;
}

/** The listener's own entry of `sniffer stats` (kind `mirror`, role `listener`). */
export interface MirrorListenerStats extends SourceStats {
  kind: 'mirror';
  role: 'listener';
  tls: boolean;
  connections_open: number;
  connections_total: number;
  connections_refused: number;
  sensors: number;
  sensors_refused: number;
  /** Every refused handshake (the reasons below add up to it). */
  auth_failures: number;
  auth_bad_mac: number;
  auth_bad_version: number;
  auth_bad_hello: number;
  auth_protocol_error: number;
  handshake_timeout_closed: number;
  /** Pre-authentication bytes above the handshake bound (a peer that talks before it is known). */
  handshake_oversize: number;
  idle_closed: number;
  slow_closed: number;
  /** Replaced by a newer authenticated connection of the same sensor. */
  replaced_closed: number;
  bad_too_large: number;
  bad_malformed: number;
  bad_batch: number;
  bad_decompress: number;
  /** Batches whose decompressed size exceeded `maxBatchBytes` (a decompression bomb). */
  bad_decompress_oversize: number;
  bad_packet_list: number;
  /** Version 2 batches whose flow block does not decode (corrupt, hostile, or out of step): connection closed. */
  bad_flow_block: number;
  bad_sequence: number;
  bad_truncated_at_close: number;
  unknown_messages: number;
  tls_errors: number;
  socket_errors: number;
  sink_errors: number;
  internal_errors: number;
}

/** Whatever a handshake may be before it is known: Hello and Auth are well under 1 KiB. */
const HANDSHAKE_MAX_BYTES = 64 * 1024;
/** One log line per reason at most this often (ms); the count of suppressed ones goes with it. */
const LOG_EVERY_MS = 10_000;

type ConnState = 'hello' | 'auth' | 'streaming' | 'closed';

/** Per-sensor state, kept across reconnects: the receive window is what makes a resend exact. */
interface SensorState {
  sensor: MirrorSensor;
  /** The sender process's stream (Hello.stream_id, copied): a new one means the sender restarted. */
  streamId: Buffer;
  window: ReceiveWindow;
  sink: PacketSink;
  conn: Conn | null;
  c: {
    received: number;
    connections: number;
    bytes_compressed: number;
    bytes_raw: number;
    bad_packets: number;
    auth_failures: number;
    clock_offset_ms: number;
    connected_since: string | null;
    /** Times the sender came back as a new process (a new stream id). */
    restarts: number;
    /** The window figures of the streams before the last restart (the window is per stream). */
    earlier: { accepted: number; duplicates: number; lost: number };
  };
}

interface Conn {
  socket: Socket;
  remote: string;
  state: ConnState;
  decoder: FrameDecoder;
  hello: Hello | null;
  challenge: Challenge | null;
  sensor: SensorState | null;
  handshakeTimer: NodeJS.Timeout | null;
  heartbeatTimer: NodeJS.Timeout | null;
  /** performance.now() when the frame now pending began; 0 when none is. */
  partialSinceMs: number;
  /** Ack last sent, to send one only when it moved. */
  ackSent: number;
  /** The protocol version the Challenge chose (min(ours, the Hello's)); 0 before the Hello. */
  version: number;
  /**
   * Version 2: this connection's flow context, created empty when its handshake succeeds (the
   * sender resets its own then). Every batch frame of the connection is decoded through it, in
   * order, duplicates included, or the two contexts would drift apart.
   */
  flow: FlowBlockDecoder | null;
}

/**
 * The receiving end of the mirror stream (DESIGN.md "Mirror stream"): a TCP (optionally TLS)
 * listener that authenticates mirror-senders with the HMAC handshake of
 * `@callscope/mirror-protocol` and hands their packets to the sensor's packet path as if captured
 * here, with their capture times and link types.
 *
 * Per connection: Hello (checkHello) -> Challenge (fresh 32-byte nonce, our clock and version) ->
 * Auth (HMAC-SHA256 over `authTranscript`, compared with `timingSafeEqual`) -> AuthResult (ok with
 * the sensor's acked sequence, or a refusal with its reason), then PacketBatch frames answered by
 * cumulative Acks. The Challenge answers the highest protocol version both ends speak: in version
 * 2 each connection has its own flow context (a FlowBlockDecoder created at its handshake) through
 * which every batch frame of that connection is decoded in order, duplicates too; version 1
 * batches are PacketLists. Each sensor id keeps one {@link ReceiveWindow} across reconnects: a resumed
 * stream's resent batches are dropped as duplicates, batches the sender's buffer dropped are
 * counted lost.
 *
 * Hostile input ends that connection only, counted and logged (rate-limited): bad handshakes,
 * unknown messages before authentication, a frame length above the bound (refused before it is
 * buffered), malformed frames, bad batches, decompression beyond `maxBatchBytes` (mirror-codec
 * refuses it before decoding: zstd/lz4 declared sizes, zlib/Brotli output caps), a handshake not
 * done in time, silence, a frame trickled slower than the idle timeout, connections above the cap. A batch that fails to decompress is not acknowledged, so the sender
 * sends it again on its next connection.
 */
export class MirrorReceiver implements PacketSource {
  readonly kind = 'mirror' as const;
  private readonly secret: Buffer;
  private readonly maxConnections: number;
  private readonly maxSensors: number;
  private readonly handshakeTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly maxFrameBytes: number;
  private readonly maxBatchBytes: number;
  private readonly log: Logger | undefined;
  /** Warnings about peers, at most one per reason and LOG_EVERY_MS. */
  private readonly limited: RateLimitedLog;
  private server: Server | null = null;
  private readonly conns = new Set<Conn>();
  /** Every accepted TCP socket until it closes, TLS handshakes in progress included: what the cap counts. */
  private readonly sockets = new Set<Socket>();
  private readonly sensors = new Map<string, SensorState>();
  private boundPort: number;
  private started = false;
  private stopping: Promise<void> | null = null;
  private readonly frame = createDecodedFrame();
  private readonly listDecoder = new PacketListDecoder();
  private readonly decodedList: { list: PacketList | null } = { list: null };
  private readonly decompressed = createDecompressedBatch();
  private readonly rec: PacketRecord = createPacketRecord();
  /** The packets of the version 2 batch being handled (its `data` is fresh per batch). */
  private readonly rawBatch: RawBatch = createRawBatch(1024, 0);

  private readonly c = {
    connections_total: 0,
    connections_refused: 0,
    sensors_refused: 0,
    auth_bad_mac: 0,
    auth_bad_version: 0,
    auth_bad_hello: 0,
    auth_protocol_error: 0,
    handshake_timeout_closed: 0,
    handshake_oversize: 0,
    idle_closed: 0,
    slow_closed: 0,
    replaced_closed: 0,
    bad_too_large: 0,
    bad_malformed: 0,
    bad_batch: 0,
    bad_decompress: 0,
    bad_decompress_oversize: 0,
    bad_packet_list: 0,
    bad_flow_block: 0,
    bad_sequence: 0,
    bad_truncated_at_close: 0,
    unknown_messages: 0,
    tls_errors: 0,
    socket_errors: 0,
    sink_errors: 0,
    internal_errors: 0,
  };

  /** @throws RangeError on options out of range (the config schema checks them first). */
  constructor(
    private readonly options: MirrorReceiverOptions,
    private readonly sinkFor: MirrorSinkFactory,
  ) {
    const { host, port } = options;
    if (typeof host !== 'string' || host.length === 0) throw new RangeError('mirror receiver: host must be a non-empty string');
    if (!(Number.isInteger(port) && port >= 0 && port <= 0xffff)) throw new RangeError(`mirror receiver: port must be 0..65535, not ${port}`);
    if (options.secret.length === 0) throw new RangeError('mirror receiver: the shared secret is empty');
    this.secret = Buffer.from(options.secret);
    this.maxConnections = positiveInt('maxConnections', options.maxConnections ?? 64);
    this.maxSensors = positiveInt('maxSensors', options.maxSensors ?? 1024);
    this.handshakeTimeoutMs = positiveInt('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 10_000);
    this.idleTimeoutMs = positiveInt('idleTimeoutMs', options.idleTimeoutMs ?? 60_000);
    this.heartbeatMs = positiveInt('heartbeatMs', options.heartbeatMs ?? 15_000);
    this.maxFrameBytes = positiveInt('maxFrameBytes', options.maxFrameBytes ?? DEFAULT_MAX_FRAME_LENGTH);
    this.maxBatchBytes = positiveInt('maxBatchBytes', options.maxBatchBytes ?? 64 * 1024 * 1024);
    this.log = options.logger;
    this.limited = new RateLimitedLog(this.log, LOG_EVERY_MS);
    this.boundPort = port;
  }

  /** `mirror HOST:PORT` as configured (the port bound once started). */
  get name(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `${host}:${this.boundPort}`;
  }

  /** The TCP port bound (the one picked when 0 was asked). */
  get port(): number {
    return this.boundPort;
  }

  /** Binds the listener; rejects with a message fit for the operator. */
  async start(): Promise<void> {
    if (this.started) throw new Error('mirror receiver: started twice');
    this.started = true;
    const tls = this.options.tls ?? null;
    const server =
      tls === null
        ? createServer({ noDelay: true })
        : createTlsServer({ cert: tls.cert as string | Buffer, key: tls.key as string | Buffer, handshakeTimeout: this.handshakeTimeoutMs });
    this.server = server;
    // The cap is checked on the raw TCP connection, before any TLS work is spent on it.
    server.on('connection', (socket: Socket) => {
      if (this.sockets.size >= this.maxConnections || this.stopping !== null) {
        this.c.connections_refused++;
        this.limited.warn('connections_refused', { from: socket.remoteAddress, max_connections: this.maxConnections }, 'mirror: connection refused, too many open');
        socket.on('error', () => undefined); // the reset of a connection we are refusing is expected
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
      });
      if (tls === null) this.guard(() => {
          this.onConnection(socket);
        });
    });
    if (tls !== null) {
      server.on('secureConnection', (socket: Socket) => {
        this.guard(() => {
          this.onConnection(socket);
        });
      });
      server.on('tlsClientError', (err: Error, socket: Socket) => {
        this.c.tls_errors++;
        this.limited.warn('tls_error', { from: socket.remoteAddress, err: err.message }, 'mirror: TLS handshake failed (connection closed)');
      });
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        reject(new Error(`mirror listener ${this.name}: ${bindProblem(err)}`));
      };
      server.once('error', onError);
      server.listen({ host: this.options.host, port: this.options.port, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (err: Error) => {
          this.limited.warn('server_error', { err: err.message }, 'mirror: server error');
        });
        const a = server.address();
        if (typeof a === 'object' && a !== null) this.boundPort = a.port;
        resolve();
      });
    });
    this.log?.info({ listen: this.name, tls: tls !== null }, 'mirror receiver listening');
  }

  /** Closes the listener and every connection; what was delivered stays delivered. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const server = this.server;
      this.server = null;
      for (const conn of [...this.conns]) this.endConn(conn, null);
      for (const socket of this.sockets) socket.destroy(); // TLS handshakes still in progress
      if (server !== null) await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    })();
    return this.stopping;
  }

  /**
   * None for the daemon's local pipeline: each sender's packets carry the sender's capture clock
   * and go into that sensor's own pipeline, which the daemon moves on from its own packet times
   * (the wall clock here would time out calls of a sender whose clock is behind ours).
   */
  clockUs(): number | null {
    return null;
  }

  /** The listener's counters, with `received` the packets of every sensor. */
  stats(): MirrorListenerStats {
    let received = 0;
    for (const s of this.sensors.values()) received += s.c.received;
    const c = this.c;
    return {
      kind: 'mirror',
      role: 'listener',
      name: this.name,
      received,
      kernel_drops: 0,
      if_drops: 0,
      queue_drops: 0,
      tls: (this.options.tls ?? null) !== null,
      connections_open: this.conns.size,
      sensors: this.sensors.size,
      auth_failures: c.auth_bad_mac + c.auth_bad_version + c.auth_bad_hello + c.auth_protocol_error,
      ...c,
    };
  }

  /** One entry per sensor that has authenticated (connected or not), then the listener's. */
  sourceStats(): SourceStats[] {
    const out: SourceStats[] = [];
    for (const s of this.sensors.values()) out.push(this.sensorStats(s));
    const listener = this.stats();
    // The listener's `received` is the sum of the sensors' entries: counted there, not twice.
    out.push({ ...listener, received: 0 });
    return out;
  }

  private sensorStats(st: SensorState): MirrorSensorStats {
    const w = st.window.stats;
    return {
      kind: 'mirror',
      role: 'sender',
      name: st.sensor.id,
      received: st.c.received,
      kernel_drops: 0,
      if_drops: 0,
      queue_drops: 0,
      sensor_id: st.sensor.id,
      sensor_name: st.sensor.name,
      state: st.conn === null ? 'disconnected' : 'connected',
      remote: st.conn?.remote ?? null,
      connections: st.c.connections,
      batches: w.accepted + st.c.earlier.accepted,
      duplicates_dropped: w.duplicates + st.c.earlier.duplicates,
      lost: w.lost + st.c.earlier.lost,
      acked_sequence: st.window.ackSequence,
      restarts: st.c.restarts,
      bytes_compressed: st.c.bytes_compressed,
      bytes_raw: st.c.bytes_raw,
      bad_packets: st.c.bad_packets,
      auth_failures: st.c.auth_failures,
      clock_offset_ms: st.c.clock_offset_ms,
      connected_since: st.c.connected_since,
    };
  }

  // ---- connections ----

  private onConnection(socket: Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    const conn: Conn = {
      socket,
      remote,
      state: 'hello',
      // Frames are bounded from the first byte: a 4 GiB length prefix is refused before it is buffered.
      decoder: new FrameDecoder({ maxFrameLength: this.maxFrameBytes, initialCapacity: 4096 }),
      hello: null,
      challenge: null,
      sensor: null,
      handshakeTimer: null,
      heartbeatTimer: null,
      partialSinceMs: 0,
      ackSent: -1,
      version: 0,
      flow: null,
    };
    this.conns.add(conn);
    this.c.connections_total++;
    socket.setNoDelay(true);
    conn.handshakeTimer = setTimeout(() => {
      this.c.handshake_timeout_closed++;
      this.limited.warn('handshake_timeout', { from: remote, state: conn.state, timeout_ms: this.handshakeTimeoutMs }, 'mirror: handshake not done in time (slow or silent peer): connection closed');
      this.endConn(conn, null);
    }, this.handshakeTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      this.guard(() => { this.onData(conn, chunk); }, conn);
    });
    socket.on('timeout', () => {
      this.c.idle_closed++;
      this.limited.warn('idle_closed', { from: remote, sensor: conn.sensor?.sensor.id, idle_ms: this.idleTimeoutMs }, 'mirror: sender silent for too long: connection closed');
      this.endConn(conn, null);
    });
    socket.on('error', (err) => {
      this.c.socket_errors++;
      this.limited.warn('socket_error', { from: remote, err: err.message }, 'mirror: connection error');
    });
    socket.on('close', () => {
      this.endConn(conn, null);
    });
  }

  private onData(conn: Conn, chunk: Buffer): void {
    if (conn.state === 'closed') return;
    if (conn.state !== 'streaming' && conn.decoder.stats.bytes + chunk.length > HANDSHAKE_MAX_BYTES) {
      // Before authentication nobody gets to make us buffer much.
      this.c.handshake_oversize++;
      this.refuse(conn, AuthFailure.AUTH_FAILURE_PROTOCOL_ERROR, 'handshake_oversize', `more than ${HANDSHAKE_MAX_BYTES} bytes before authentication`);
      return;
    }
    const decoder = conn.decoder;
    const frame = this.frame;
    decoder.push(chunk);
    const framesBefore = decoder.stats.frames;
    for (;;) {
      const st = decoder.next(frame);
      if (st === FrameStatus.NeedMore) break;
      if (st === FrameStatus.TooLarge) {
        this.c.bad_too_large++;
        this.fault(conn, 'bad_too_large', { length_field: frame.length, max: this.maxFrameBytes }, `frame length ${frame.length} above the ${this.maxFrameBytes}-byte bound`);
        return;
      }
      if (st === FrameStatus.Malformed) {
        this.c.bad_malformed++;
        const why = frame.reason === MalformedReason.EmptyFrame ? 'an empty frame' : 'a frame that is not a protobuf Envelope';
        this.fault(conn, 'bad_malformed', { length: frame.length }, why);
        return;
      }
      this.onEnvelope(conn, frame.envelope!, frame.length);
      // The handler may have closed the connection (TS cannot see the mutation through the call).
      if ((conn.state as ConnState) === 'closed') return;
    }
    if (conn.state === 'streaming') {
      this.sendAck(conn);
      this.checkSlowFrame(conn, decoder.stats.frames !== framesBefore);
    }
  }

  /** A frame begun must be complete within the idle timeout (a peer trickling bytes is never idle). */
  private checkSlowFrame(conn: Conn, completedOne: boolean): void {
    if (conn.decoder.pendingBytes === 0) {
      conn.partialSinceMs = 0;
      return;
    }
    const now = performance.now();
    if (conn.partialSinceMs === 0 || completedOne) {
      conn.partialSinceMs = now;
      return;
    }
    if (now - conn.partialSinceMs <= this.idleTimeoutMs) return;
    this.c.slow_closed++;
    this.limited.warn('slow_closed', { from: conn.remote, sensor: conn.sensor?.sensor.id, pending_bytes: conn.decoder.pendingBytes, limit_ms: this.idleTimeoutMs }, 'mirror: frame not complete within the idle timeout (slow sender): connection closed');
    this.endConn(conn, null);
  }

  private onEnvelope(conn: Conn, env: Envelope, length: number): void {
    const body = env.body;
    switch (conn.state) {
      case 'hello':
        if (body !== 'hello' || env.hello == null) {
          this.c.auth_protocol_error++;
          this.refuse(conn, AuthFailure.AUTH_FAILURE_PROTOCOL_ERROR, 'auth_protocol_error', `expected Hello, got ${body ?? 'an unknown message'}`);
          return;
        }
        this.onHello(conn, env.hello);
        return;
      case 'auth':
        if (body !== 'auth' || env.auth == null) {
          this.c.auth_protocol_error++;
          this.refuse(conn, AuthFailure.AUTH_FAILURE_PROTOCOL_ERROR, 'auth_protocol_error', `expected Auth, got ${body ?? 'an unknown message'}`);
          return;
        }
        this.onAuth(conn, env.auth.mac ?? new Uint8Array(0));
        return;
      case 'streaming':
        if (body === 'batch' && env.batch != null) this.onBatch(conn, env.batch, length);
        else if (body === 'heartbeat') return; // its arrival reset the idle timer already
        else if (body === undefined) this.c.unknown_messages++; // a newer sender's message: counted, not fatal
        else {
          this.c.auth_protocol_error++;
          this.fault(conn, 'unexpected_message', { message: body }, `a ${body} message while streaming`);
        }
        return;
      case 'closed':
        return;
    }
  }

  private onHello(conn: Conn, hello: Hello): void {
    const st = checkHello(hello);
    if (st !== HelloStatus.Ok) {
      if (st === HelloStatus.UnsupportedVersion) {
        this.c.auth_bad_version++;
        this.refuse(conn, AuthFailure.AUTH_FAILURE_UNSUPPORTED_VERSION, 'auth_bad_version', `protocol version ${hello.protocolVersion ?? 0}; this receiver speaks ${MIN_PROTOCOL_VERSION} to ${PROTOCOL_VERSION}`, hello.sensorId);
      } else {
        this.c.auth_bad_hello++;
        this.refuse(conn, AuthFailure.AUTH_FAILURE_PROTOCOL_ERROR, 'auth_bad_hello', `invalid Hello (${helloStatusName(st)})`, hello.sensorId);
      }
      return;
    }
    // The nonce aliases the decoder's buffer: keep copies of what the transcript needs later. Absent
    // uint64 fields decode as the number 0 (mirror-protocol's generated defaults), spread or not.
    conn.hello = { ...hello, clockSec: hello.clockSec ?? 0, nextSequence: hello.nextSequence ?? 0, clientNonce: Uint8Array.from(hello.clientNonce!) };
    const nowMs = Date.now();
    const challenge: Challenge = {
      serverNonce: randomBytes(32),
      clockSec: Math.floor(nowMs / 1000),
      clockNsec: (nowMs % 1000) * 1_000_000,
      protocolVersion: negotiateVersion(hello.protocolVersion ?? 0),
    };
    conn.version = challenge.protocolVersion!;
    conn.challenge = challenge;
    conn.state = 'auth';
    this.send(conn, { challenge });
  }

  private onAuth(conn: Conn, mac: Uint8Array): void {
    const hello = conn.hello!;
    const sensorId = hello.sensorId ?? '';
    const expected = createHmac('sha256', this.secret).update(authTranscript(hello, conn.challenge!)).digest();
    if (mac.length !== MAC_LENGTH || !timingSafeEqual(expected, mac)) {
      this.c.auth_bad_mac++;
      const known = this.sensors.get(sensorId);
      if (known !== undefined) known.c.auth_failures++;
      this.refuse(conn, AuthFailure.AUTH_FAILURE_BAD_MAC, 'auth_bad_mac', 'the MAC does not match: wrong shared secret', sensorId);
      return;
    }
    let sensor = this.sensors.get(sensorId);
    if (sensor === undefined) {
      if (this.sensors.size >= this.maxSensors) {
        this.c.sensors_refused++;
        this.refuse(conn, AuthFailure.AUTH_FAILURE_UNKNOWN_SENSOR, 'sensors_refused', `already ${this.maxSensors} sensors known (mirror.maxSensors)`, sensorId);
        return;
      }
      const name = hello.sensorName !== undefined && hello.sensorName !== null && hello.sensorName !== '' ? hello.sensorName : sensorId;
      const identity = { id: sensorId, name };
      sensor = {
        sensor: identity,
        streamId: Buffer.from(hello.streamId!),
        window: new ReceiveWindow(),
        sink: this.sinkFor(identity),
        conn: null,
        c: { received: 0, connections: 0, bytes_compressed: 0, bytes_raw: 0, bad_packets: 0, auth_failures: 0, clock_offset_ms: 0, connected_since: null, restarts: 0, earlier: { accepted: 0, duplicates: 0, lost: 0 } },
      };
      this.sensors.set(sensorId, sensor);
    }
    if (sensor.conn !== null) {
      // One stream per sensor: the newer connection is the live one (the old is usually half-open).
      this.c.replaced_closed++;
      this.limited.warn('replaced', { sensor: sensorId, old: sensor.conn.remote, new: conn.remote }, 'mirror: sensor connected again: its older connection is closed');
      this.endConn(sensor.conn, null);
    }
    if (!sensor.streamId.equals(hello.streamId!)) {
      // The sender restarted: its sequences begin again at 1. Whatever it had not got acknowledged
      // before was lost with its memory (its own log says how much); the new stream starts afresh.
      sensor.c.restarts++;
      const w = sensor.window.stats;
      sensor.c.earlier.accepted += w.accepted;
      sensor.c.earlier.duplicates += w.duplicates;
      sensor.c.earlier.lost += w.lost;
      this.log?.warn({ sensor: sensorId, acked_sequence: sensor.window.ackSequence }, 'mirror: sender restarted (new stream): batches it had not got acknowledged before the restart are lost with it');
      sensor.streamId = Buffer.from(hello.streamId!);
      sensor.window = new ReceiveWindow();
    }
    const lost = sensor.window.resume(hello.nextSequence ?? 0);
    if (lost > 0) {
      this.log?.warn({ sensor: sensorId, lost_batches: lost, next_sequence: hello.nextSequence }, 'mirror: the sender dropped batches it could not keep (its buffer overflowed): counted lost');
    }
    const nowMs = Date.now();
    sensor.c.clock_offset_ms = (hello.clockSec ?? 0) * 1000 + Math.floor((hello.clockNsec ?? 0) / 1e6) - nowMs;
    sensor.c.connections++;
    sensor.c.connected_since = new Date(nowMs).toISOString();
    sensor.conn = conn;
    conn.sensor = sensor;
    conn.state = 'streaming';
    conn.flow = conn.version >= 2 ? new FlowBlockDecoder() : null;
    if (conn.handshakeTimer !== null) clearTimeout(conn.handshakeTimer);
    conn.handshakeTimer = null;
    conn.socket.setTimeout(this.idleTimeoutMs);
    const acked = sensor.window.ackSequence;
    conn.ackSent = acked;
    this.send(conn, { authResult: { ok: true, reason: AuthFailure.AUTH_FAILURE_NONE, ackedSequence: acked } });
    conn.heartbeatTimer = setInterval(() => {
      const ms = Date.now();
      this.send(conn, { heartbeat: { clockSec: Math.floor(ms / 1000), clockNsec: (ms % 1000) * 1_000_000 } });
    }, this.heartbeatMs);
    this.log?.info(
      { sensor: sensorId, sensor_name: sensor.sensor.name, from: conn.remote, acked_sequence: acked, next_sequence: hello.nextSequence, clock_offset_ms: sensor.c.clock_offset_ms },
      'mirror: sender authenticated',
    );
  }

  private onBatch(conn: Conn, batch: PacketBatch, frameLength: number): void {
    const sensor = conn.sensor!;
    const bst = checkBatch(batch, conn.version);
    if (bst !== BatchStatus.Ok) {
      this.c.bad_batch++;
      this.fault(conn, 'bad_batch', { sequence: batch.sequence, status: bst }, `an invalid batch (${batchStatusName(bst)})`);
      return;
    }
    const sequence = batch.sequence!;
    sensor.c.bytes_compressed += frameLength;
    const window = sensor.window;
    if (conn.flow !== null) {
      this.onFlowBatch(conn, sensor, batch, sequence);
      return;
    }
    if (sequence <= window.ackSequence) {
      window.receive(sequence); // counted as a duplicate
      return;
    }
    // Decode everything before the window records the batch: a batch we cannot read is not
    // acknowledged, so the sender still holds it and resends it on its next connection.
    let packets: Packet[];
    if ((batch.compression ?? Compression.COMPRESSION_NONE) === Compression.COMPRESSION_NONE) {
      packets = batch.packets ?? [];
    } else {
      const raw = this.decompress(conn, batch);
      if (raw === null) return;
      if (this.listDecoder.decode(raw, this.decodedList) !== PacketListStatus.Ok) {
        this.c.bad_packet_list++;
        this.fault(conn, 'bad_packet_list', { sequence }, 'a batch whose decompressed bytes are not a PacketList');
        return;
      }
      packets = this.decodedList.list!.packets ?? [];
    }
    const rst = window.receive(sequence);
    if (rst === ReceiveStatus.Invalid) {
      this.c.bad_sequence++;
      this.fault(conn, 'bad_sequence', { sequence }, 'an invalid batch sequence');
      return;
    }
    if (rst === ReceiveStatus.Duplicate) return;
    this.deliver(sensor, packets);
  }

  /**
   * A version 2 batch: decompressed and decoded through the connection's flow context BEFORE the
   * window looks at its sequence, duplicates included (the sender's context advanced with every
   * frame it wrote); then delivered when new. A block that does not decode ends the connection:
   * the context is out of step, and the sender re-encodes what is unacknowledged on the next one.
   */
  private onFlowBatch(conn: Conn, sensor: SensorState, batch: PacketBatch, sequence: number): void {
    const compression = batch.compression ?? Compression.COMPRESSION_NONE;
    const block = compression === Compression.COMPRESSION_NONE ? batch.block! : this.decompress(conn, batch, batch.block!);
    if (block === null) return;
    const raw = this.rawBatch;
    const st = conn.flow!.decode(block, this.maxBatchBytes, raw);
    if (st !== FlowBlockStatus.Ok) {
      this.c.bad_flow_block++;
      this.fault(conn, 'bad_flow_block', { sequence, status: flowStatusName(st) }, `a version 2 batch whose flow block does not decode (${flowStatusName(st)}; the flow context is lost)`);
      return;
    }
    const rst = sensor.window.receive(sequence);
    if (rst === ReceiveStatus.Invalid) {
      this.c.bad_sequence++;
      this.fault(conn, 'bad_sequence', { sequence }, 'an invalid batch sequence');
      return;
    }
    if (rst === ReceiveStatus.Duplicate) return;
    this.deliverRaw(sensor, raw);
  }

  /** The batch's decompressed bytes (a PacketList, or a flow block), or null (counted, connection closed). */
  private decompress(conn: Conn, batch: PacketBatch, input: Uint8Array = batch.compressedPackets!): Uint8Array | null {
    // mirror-codec (shared with the mirror-sender) bounds the output before the decoder allocates:
    // a bomb costs at most maxBatchBytes of memory, never what it expands to or claims.
    const out = this.decompressed;
    // Version 3: a zstd flow block may come as two frames (header sections, payload section); the
    // sum of their declared sizes is bounded like one frame's.
    const st = decompressBatch(batch.compression ?? Compression.COMPRESSION_NONE, input, this.maxBatchBytes, out, maxZstdFrames(conn.version));
    if (st === DecompressStatus.Ok) return out.bytes;
    if (st === DecompressStatus.TooLarge) {
      this.c.bad_decompress_oversize++;
      this.fault(conn, 'bad_decompress_oversize', { sequence: batch.sequence, max_bytes: this.maxBatchBytes, err: out.detail }, `a batch that decompresses to more than ${this.maxBatchBytes} bytes (decompression bomb?)`);
    } else {
      this.c.bad_decompress++;
      this.fault(conn, 'bad_decompress', { sequence: batch.sequence, err: out.detail }, 'a batch that does not decompress');
    }
    return null;
  }

  private deliver(sensor: SensorState, packets: Packet[]): void {
    const rec = this.rec;
    const sink = sensor.sink;
    for (const p of packets) {
      sensor.c.bytes_raw += p.data?.length ?? 0;
      if (checkPacket(p) !== PacketStatus.Ok) {
        sensor.c.bad_packets++;
        continue;
      }
      const data = p.data!;
      rec.linkType = p.linkType ?? 0;
      rec.tsSec = p.tsSec ?? 0;
      rec.tsNsec = p.tsNsec ?? 0;
      rec.capLen = data.length;
      rec.origLen = p.origLen === undefined || p.origLen === null || p.origLen === 0 ? data.length : p.origLen;
      rec.data = data;
      rec.index = sensor.c.received;
      sensor.c.received++;
      try {
        sink(rec);
      } catch (err) {
        this.c.sink_errors++;
        this.limited.warn('sink_error', { sensor: sensor.sensor.id, err: (err as Error).message }, 'mirror: the packet path threw on a packet (counted; receiver goes on)');
      }
    }
  }

  /** Hands a decoded version 2 batch to the sensor's packet path (same checks as {@link deliver}). */
  private deliverRaw(sensor: SensorState, raw: RawBatch): void {
    const rec = this.rec;
    const sink = sensor.sink;
    const data = raw.data;
    let start = 0;
    for (let i = 0; i < raw.count; i++) {
      const end = raw.end[i]!;
      const capLen = end - start;
      const origLen = raw.origLen[i]!;
      const tsNsec = raw.tsNsec[i]!;
      sensor.c.bytes_raw += capLen;
      // checkPacket's rules on the flat form: not empty, not longer than the original, ns < 1e9.
      if (capLen === 0 || (origLen !== 0 && capLen > origLen) || tsNsec >= 1e9) {
        sensor.c.bad_packets++;
        start = end;
        continue;
      }
      rec.linkType = raw.linkType[i]!;
      rec.tsSec = raw.tsSec[i]!;
      rec.tsNsec = tsNsec;
      rec.capLen = capLen;
      rec.origLen = origLen === 0 ? capLen : origLen;
      // A view of the batch's own fresh array (as a v1 batch's packets view its decompressed bytes).
      rec.data = data.subarray(start, end);
      rec.index = sensor.c.received;
      sensor.c.received++;
      start = end;
      try {
        sink(rec);
      } catch (err) {
        this.c.sink_errors++;
        this.limited.warn('sink_error', { sensor: sensor.sensor.id, err: (err as Error).message }, 'mirror: the packet path threw on a packet (counted; receiver goes on)');
      }
    }
  }

  private sendAck(conn: Conn): void {
    const acked = conn.sensor!.window.ackSequence;
    if (acked === conn.ackSent) return;
    conn.ackSent = acked;
    this.send(conn, { ack: { sequence: acked } });
  }

  private send(conn: Conn, env: EnvelopeInit): void {
    if (conn.state === 'closed' || conn.socket.destroyed) return;
    conn.socket.write(encodeFrame(env, this.maxFrameBytes));
  }

  /** Refuses a handshake: AuthResult with the reason, one log line, connection closed. */
  private refuse(conn: Conn, reason: AuthFailure, key: string, detail: string, sensorId?: string | null): void {
    this.limited.warn(key, { from: conn.remote, sensor: sensorId ?? conn.hello?.sensorId ?? null, detail }, `mirror: handshake refused: ${detail}`);
    this.send(conn, { authResult: { ok: false, reason, detail } });
    this.endConn(conn, 'end');
  }

  /** Ends a connection for what its peer sent: one log line (rate-limited per reason), counted by the caller. */
  private fault(conn: Conn, key: string, fields: Record<string, unknown>, what: string): void {
    this.limited.warn(key, { from: conn.remote, sensor: conn.sensor?.sensor.id ?? conn.hello?.sensorId ?? null, ...fields }, `mirror: ${what}: connection closed`);
    this.endConn(conn, null);
  }

  /** Closes a connection once; `end` flushes what was written (a refusal) before closing. */
  private endConn(conn: Conn, how: 'end' | null): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    if (conn.decoder.pendingBytes > 0) this.c.bad_truncated_at_close++;
    if (conn.handshakeTimer !== null) clearTimeout(conn.handshakeTimer);
    if (conn.heartbeatTimer !== null) clearInterval(conn.heartbeatTimer);
    conn.handshakeTimer = conn.heartbeatTimer = null;
    this.conns.delete(conn);
    const sensor = conn.sensor;
    if (sensor !== null && sensor.conn === conn) {
      sensor.conn = null;
      sensor.c.connected_since = null;
      this.log?.info({ sensor: sensor.sensor.id, from: conn.remote, acked_sequence: sensor.window.ackSequence }, 'mirror: sender disconnected');
    }
    if (how === 'end') {
      conn.socket.end();
      // A peer that does not close its side must not hold the socket.
      setTimeout(() => conn.socket.destroy(), 1000).unref();
    } else conn.socket.destroy();
  }

  /** Runs a handler; a bug in it costs that connection, never the process. */
  private guard(fn: () => void, conn?: Conn): void {
    try {
      fn();
    } catch (err) {
      this.c.internal_errors++;
      this.log?.error({ err, from: conn?.remote }, 'mirror: internal error (connection closed)');
      if (conn !== undefined) this.endConn(conn, null);
    }
  }

}

/** Whether a source reports several entries for `sniffer stats` (the mirror receiver: one per sender). */
export function hasSourceStats(source: PacketSource): source is PacketSource & { sourceStats(): SourceStats[] } {
  return typeof (source as { sourceStats?: unknown }).sourceStats === 'function';
}

function positiveInt(name: string, v: number): number {
  if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`mirror receiver: ${name} must be an integer >= 1, not ${v}`);
  return v;
}

function helloStatusName(st: HelloStatus): string {
  return Object.entries(HelloStatus).find(([, v]) => v === st)?.[0] ?? String(st);
}

function flowStatusName(st: FlowBlockStatus): string {
  return Object.entries(FlowBlockStatus).find(([, v]) => v === st)?.[0] ?? String(st);
}

function batchStatusName(st: BatchStatus): string {
  return Object.entries(BatchStatus).find(([, v]) => v === st)?.[0] ?? String(st);
}

/** What a bind failure means for the operator. */
function bindProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return 'the port is in use (EADDRINUSE): another process listens on it (ss -lntp to see which)';
    case 'EADDRNOTAVAIL':
      return "the address is not one of this host's (EADDRNOTAVAIL)";
    case 'EACCES':
      return 'permission denied (EACCES): ports below 1024 need CAP_NET_BIND_SERVICE';
    default:
      return `cannot listen: ${err instanceof Error ? err.message : String(err)}`;
  }
}
