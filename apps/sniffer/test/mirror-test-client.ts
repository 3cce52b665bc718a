/**
 * A minimal mirror sender for the receiver's tests, built only from @callscope/mirror-protocol and
 * node: a real TCP (or TLS) socket, the HMAC handshake, batches by hand (any sequence, any bytes).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { compressBatch } from '@callscope/mirror-codec';
import {
  AuthFailure,
  Compression,
  FlowBlockEncoder,
  FrameDecoder,
  FrameStatus,
  PacketList,
  appendRawPacket,
  createRawBatch,
  authTranscript,
  createDecodedFrame,
  encodeFrame,
  type AuthResult,
  type Challenge,
  type EnvelopeInit,
  type Hello,
  type Packet,
  type PacketBatch,
} from '@callscope/mirror-protocol';

/** A frame the receiver sent, copied. */
export interface Seen {
  body: string;
  challenge?: Challenge;
  authResult?: AuthResult;
}

/** What a test sender says in its Hello. */
export interface TestHello {
  sensorId: string;
  sensorName?: string;
  nextSequence?: number;
  protocolVersion?: number;
  /** Sender clock, seconds (default now; 0 is absent on the wire). */
  clockSec?: number;
  /**
   * The sender process's stream id (16 bytes). Default: one per sensor id for the whole test file,
   * so reconnects of one test sender are one stream; pass a fresh one to play a restarted sender.
   */
  streamId?: Uint8Array;
}

/** The default stream id of a test sender: derived from its sensor id. */
export const testStreamId = (sensorId: string): Uint8Array => createHash('sha256').update(`stream:${sensorId}`).digest().subarray(0, 16);

/** One connection of a test sender. */
export class TestMirrorClient {
  readonly received: Seen[] = [];
  /** Highest Ack seen. */
  acked = 0;
  closed = false;
  private readonly decoder = new FrameDecoder();
  private readonly out = createDecodedFrame();
  /** Version 2: this connection's flow context (empty at the handshake, as the receiver's). */
  readonly flow = new FlowBlockEncoder();
  private waiters: (() => void)[] = [];
  readonly closedPromise: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      while (this.decoder.next(this.out) === FrameStatus.Frame) {
        const env = this.out.envelope!;
        // Keep plain copies: decoded bytes alias the decoder's buffer.
        const seen: Seen = { body: env.body ?? 'unknown' };
        if (env.challenge != null) seen.challenge = { ...env.challenge, serverNonce: Uint8Array.from(env.challenge.serverNonce ?? []) };
        if (env.authResult != null) seen.authResult = { ok: env.authResult.ok ?? false, reason: env.authResult.reason ?? AuthFailure.AUTH_FAILURE_NONE, detail: env.authResult.detail ?? '', ackedSequence: env.authResult.ackedSequence ?? 0 };
        if (env.ack != null) this.acked = Math.max(this.acked, env.ack.sequence ?? 0);
        this.received.push(seen);
      }
      this.wake();
    });
    socket.on('error', () => undefined); // the receiver closing on us is what several tests expect
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
  }

  /** Connects over TCP, or TLS when `ca` is given. */
  static async connect(port: number, ca?: string): Promise<TestMirrorClient> {
    const socket =
      ca === undefined ? connectTcp({ host: '127.0.0.1', port }) : connectTls({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      socket.once(ca === undefined ? 'connect' : 'secureConnect', () => {
        resolve();
      });
      socket.once('error', reject);
    });
    return new TestMirrorClient(socket);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `pred` holds (checked on every frame and at close), or rejects after `ms`. */
  async until(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  send(env: EnvelopeInit): void {
    this.socket.write(encodeFrame(env));
  }

  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Hello -> Challenge -> Auth -> AuthResult; `secret` decides whether it is accepted. */
  async handshake(secret: Uint8Array, h: TestHello): Promise<AuthResult> {
    const nowMs = Date.now();
    const hello: Hello = {
      // Version 1 unless asked: the batches below are PacketLists (a version 1 sender).
      protocolVersion: h.protocolVersion ?? 1,
      sensorId: h.sensorId,
      sensorName: h.sensorName ?? '',
      clockSec: h.clockSec ?? Math.floor(nowMs / 1000),
      clockNsec: (nowMs % 1000) * 1e6,
      clientNonce: randomBytes(32),
      nextSequence: h.nextSequence ?? 1,
      streamId: h.streamId ?? testStreamId(h.sensorId),
    };
    this.send({ hello });
    await this.until(() => this.closed || this.received.some((e) => e.body === 'challenge' || e.body === 'authResult'), 5000, 'challenge');
    const refused = this.received.find((e) => e.body === 'authResult');
    if (refused !== undefined) return refused.authResult!;
    const challenge = this.received.find((e) => e.body === 'challenge')!.challenge!;
    const mac = createHmac('sha256', secret).update(authTranscript(hello, challenge)).digest();
    this.send({ auth: { mac } });
    await this.until(() => this.closed || this.received.some((e) => e.body === 'authResult'), 5000, 'auth result');
    const result = this.received.find((e) => e.body === 'authResult');
    if (result === undefined) throw new Error('connection closed without an AuthResult');
    return result.authResult!;
  }

  /** Sends one batch of packets under `sequence`. */
  sendBatch(sequence: number, packets: Packet[], compression: Compression = Compression.COMPRESSION_DEFLATE): void {
    this.send({ batch: encodeBatch(sequence, packets, compression) });
  }

  /**
   * Version 2: sends `packets` under `sequence` as a flow block encoded against this connection's
   * context (it advances: send every block built, in order). `mutate` may corrupt the block first.
   */
  sendFlowBatch(sequence: number, packets: Packet[], compression: Compression = Compression.COMPRESSION_ZSTD, mutate?: (block: Uint8Array) => Uint8Array): void {
    const raw = createRawBatch(packets.length, 0);
    for (const p of packets) appendRawPacket(raw, p.linkType ?? 0, p.tsSec ?? 0, p.tsNsec ?? 0, p.origLen ?? 0, p.data ?? new Uint8Array(0));
    let block: Uint8Array = this.flow.encode(raw).slice();
    if (mutate !== undefined) block = mutate(block);
    this.send({ batch: { sequence, compression, block: compression === Compression.COMPRESSION_NONE ? block : compressBatch(compression, block) } });
  }

  async close(): Promise<void> {
    this.socket.end();
    await this.closedPromise;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A PacketBatch message with the packets serialized and compressed as a sender would. */
export function encodeBatch(sequence: number, packets: Packet[], compression: Compression): PacketBatch {
  if (compression === Compression.COMPRESSION_NONE) return { sequence, compression, packets };
  const list = PacketList.encode({ packets }).finish();
  const compressedPackets = compressBatch(compression, list);
  return { sequence, compression, compressedPackets };
}

