/**
 * A receiver for tests, built from @callscope/mirror-protocol only: it plays the sniffer's role
 * as the protocol README describes it (checkHello, a fresh 32-byte server nonce, the HMAC of the
 * transcript compared in constant time, AuthResult with the acked sequence, one ReceiveWindow per
 * sensor across connections, checkBatch + mirror-codec + PacketListDecoder (version 1) or a
 * FlowBlockDecoder per connection that decodes every batch frame in order (version 2), cumulative Acks). Like
 * the sniffer, a sensor's new connection closes its older one (nothing more is read from it).
 * Hooks let a test drop batches in flight, cut a connection, withhold Acks, stop reading a
 * connection, or refuse every connection (the link down).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { DecompressStatus, createDecompressedBatch, decompressBatch, maxZstdFrames } from '@callscope/mirror-codec';
import {
  AuthFailure,
  BatchStatus,
  Compression,
  FlowBlockDecoder,
  FlowBlockStatus,
  FrameDecoder,
  FrameStatus,
  HelloStatus,
  PROTOCOL_VERSION,
  PacketListDecoder,
  PacketListStatus,
  ReceiveStatus,
  ReceiveWindow,
  authTranscript,
  checkBatch,
  checkHello,
  createDecodedFrame,
  createRawBatch,
  encodeFrame,
  negotiateVersion,
  rawPacketData,
  type Challenge,
  type DecodedPacketList,
  type Hello,
  type Packet,
} from '@callscope/mirror-protocol';

/** What the peer does with a batch: process it, lose it (as if cut in flight), or cut the connection before it. */
export type BatchVerdict = 'accept' | 'lose' | 'cut';

/** One packet as received, copied. */
export interface ReceivedPacket {
  linkType: number;
  tsSec: number;
  tsNsec: number;
  origLen: number;
  data: Buffer;
}

export interface PeerConnectionLog {
  hello: Hello | null;
  /** Sequences of every batch frame that arrived on this connection, in order. */
  sequences: number[];
  refused: boolean;
  heartbeats: number;
  /** AuthResult.acked_sequence sent (null: no handshake done). */
  ackedAtAuth: number | null;
  /** The version the Challenge chose. */
  version: number;
}

export class MirrorPeer {
  readonly connections: PeerConnectionLog[] = [];
  /** Packets of New batches, in arrival order. */
  readonly packets: ReceivedPacket[] = [];
  readonly windows = new Map<string, ReceiveWindow>();
  readonly counters = { refused: 0, duplicates: 0, badBatches: 0 };
  /** Decides per batch (default: accept). */
  verdict: (sequence: number, connection: number) => BatchVerdict = () => 'accept';
  /** False: batches are processed but no Ack goes out (as if the link swallowed them). */
  acks = true;
  /** True: every new connection is closed at once and no byte is read (the link down). */
  down = false;
  /** False: batches are decoded, checked and acked, but their packets are not kept in {@link packets} (benches). */
  keepPackets = true;
  /**
   * False: batches are checked (checkBatch) and acked, never decompressed or decoded, and their
   * packets not kept: a receiver so light that a bench can run the sender at a rate the full
   * receiver could not take on the same 2 cores (the sender does the same work either way).
   */
  decodeBatches = true;
  /** Highest protocol version this peer answers with (1: a version 1 receiver). */
  maxVersion = PROTOCOL_VERSION;
  private server: Server;
  private readonly byIndex: Socket[] = [];
  private readonly current = new Map<string, Socket>();
  private sockets = new Set<Socket>();

  /** @param tls - key and certificate (PEM) to serve TLS instead of plain TCP. */
  constructor(
    private readonly secret: Uint8Array,
    tls?: { key: Buffer; cert: Buffer },
  ) {
    const onSocket = (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      this.serve(socket);
    };
    this.server = tls === undefined ? createServer(onSocket) : createTlsServer(tls, onSocket);
  }

  /** Listens on 127.0.0.1 (`port` 0: any free port); resolves with the port. */
  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops reading connection `index` (the kernel buffers fill, then the sender's writes block). */
  pause(index: number): void {
    this.byIndex[index]?.pause();
  }

  /** Destroys every open connection (with {@link down}: the link cut both ways). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Closes every connection and the listener; idempotent. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => { resolve(); }));
  }

  private serve(socket: Socket): void {
    if (this.down) {
      socket.destroy();
      return;
    }
    const log: PeerConnectionLog = { hello: null, sequences: [], refused: false, heartbeats: 0, ackedAtAuth: null, version: 0 };
    const index = this.connections.push(log) - 1;
    this.byIndex[index] = socket;
    const decoder = new FrameDecoder();
    const out = createDecodedFrame();
    const lists = new PacketListDecoder();
    // Version 2: this connection's flow context, from an empty one at the handshake.
    const flows = new FlowBlockDecoder();
    const raw = createRawBatch(1, 0);
    let challenge: Challenge | null = null;
    let window: ReceiveWindow | null = null;
    const refuse = (reason: AuthFailure, detail: string) => {
      log.refused = true;
      this.counters.refused++;
      socket.end(encodeFrame({ authResult: { ok: false, reason, detail } }));
    };
    socket.on('data', (chunk: Buffer) => {
      if (socket.destroyed) return;
      decoder.push(chunk);
      for (;;) {
        const status = decoder.next(out);
        if (status === FrameStatus.NeedMore) return;
        if (status !== FrameStatus.Frame) {
          socket.destroy();
          return;
        }
        const env = out.envelope!;
        if (log.hello === null) {
          if (env.body !== 'hello' || checkHello(env.hello!) !== HelloStatus.Ok) {
            refuse(AuthFailure.AUTH_FAILURE_PROTOCOL_ERROR, 'bad hello');
            return;
          }
          // Copy: decoded bytes alias the decoder's buffer until the next push.
          log.hello = { ...env.hello!, clientNonce: Buffer.from(env.hello!.clientNonce!) };
          const now = Date.now();
          log.version = negotiateVersion(log.hello.protocolVersion ?? 0, this.maxVersion);
          challenge = { serverNonce: randomBytes(32), clockSec: Math.floor(now / 1000), clockNsec: (now % 1000) * 1e6, protocolVersion: log.version };
          socket.write(encodeFrame({ challenge }));
        } else if (window === null) {
          if (env.body !== 'auth') {
            refuse(AuthFailure.AUTH_FAILURE_PROTOCOL_ERROR, 'expected auth');
            return;
          }
          const expected = createHmac('sha256', this.secret).update(authTranscript(log.hello, challenge!)).digest();
          const mac = env.auth!.mac ?? new Uint8Array(0);
          if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
            refuse(AuthFailure.AUTH_FAILURE_BAD_MAC, 'MAC does not match');
            return;
          }
          const sensor = log.hello.sensorId!;
          // One stream per sensor: the newer connection is the live one (as the sniffer does).
          const older = this.current.get(sensor);
          if (older !== undefined && older !== socket) older.destroy();
          this.current.set(sensor, socket);
          window = this.windows.get(sensor) ?? new ReceiveWindow();
          this.windows.set(sensor, window);
          window.resume(log.hello.nextSequence ?? 1);
          log.ackedAtAuth = window.ackSequence;
          socket.write(encodeFrame({ authResult: { ok: true, ackedSequence: window.ackSequence } }));
        } else if (env.body === 'heartbeat') {
          log.heartbeats++;
        } else if (env.body === 'batch') {
          const batch = env.batch!;
          const sequence = batch.sequence ?? 0;
          log.sequences.push(sequence);
          const verdict = this.verdict(sequence, index);
          if (verdict === 'cut') {
            socket.destroy();
            return;
          }
          if (checkBatch(batch, log.version) !== BatchStatus.Ok) {
            this.counters.badBatches++;
            continue;
          }
          let packets: Packet[] = batch.packets ?? [];
          if (!this.decodeBatches) {
            if (verdict === 'lose') continue;
            packets = [];
          } else if (log.version >= 2) {
            // Every frame of the connection advances the flow context, a 'lost' one too (TCP
            // delivered it; the test only pretends it did not arrive).
            const compression = batch.compression ?? Compression.COMPRESSION_NONE;
            const block = compression === Compression.COMPRESSION_NONE ? batch.block! : decompressed(compression, batch.block!, maxZstdFrames(log.version));
            if (flows.decode(block, 64 * 1024 * 1024, raw) !== FlowBlockStatus.Ok) {
              this.counters.badBatches++;
              socket.destroy();
              return;
            }
            if (this.keepPackets) packets = Array.from({ length: raw.count }, (_, i) => ({ linkType: raw.linkType[i], tsSec: raw.tsSec[i], tsNsec: raw.tsNsec[i], origLen: raw.origLen[i], data: rawPacketData(raw, i) }));
            if (verdict === 'lose') continue;
          } else if (verdict === 'lose') {
            continue;
          } else if (batch.compression !== Compression.COMPRESSION_NONE) {
            const raw = decompressed(batch.compression ?? Compression.COMPRESSION_NONE, batch.compressedPackets!);
            const decoded: DecodedPacketList = { list: null };
            if (lists.decode(raw, decoded) !== PacketListStatus.Ok) {
              this.counters.badBatches++;
              continue;
            }
            packets = decoded.list!.packets ?? [];
          }
          if (window.receive(sequence) === ReceiveStatus.Duplicate) {
            this.counters.duplicates++;
          } else if (this.keepPackets) {
            for (const p of packets) {
              this.packets.push({ linkType: p.linkType ?? 0, tsSec: p.tsSec ?? 0, tsNsec: p.tsNsec ?? 0, origLen: p.origLen ?? 0, data: Buffer.from(p.data!) });
            }
          }
          if (this.acks) socket.write(encodeFrame({ ack: { sequence: window.ackSequence } }));
        }
      }
    });
    socket.on('error', () => undefined);
  }
}

/** The PacketList bytes of a compressed batch (mirror-codec, bounded like the sniffer's receiver). */
function decompressed(wire: Compression, input: Uint8Array, zstdFrames = 1): Uint8Array {
  const out = createDecompressedBatch();
  const st = decompressBatch(wire, input, 64 * 1024 * 1024, out, zstdFrames);
  if (st !== DecompressStatus.Ok) throw new Error(`test receiver: batch does not decompress (${out.detail})`);
  return out.bytes!;
}
