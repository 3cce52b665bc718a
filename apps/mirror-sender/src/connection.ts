import { createHmac, randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  AuthFailure,
  ChallengeStatus,
  FrameDecoder,
  FrameStatus,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  authTranscript,
  checkChallenge,
  createDecodedFrame,
  encodeFrame,
  type Challenge,
  type Envelope,
  type Hello,
} from '@callscope/mirror-protocol';
import type { Logger } from '@callscope/runtime';
import { BatchFrameEncoder } from './batch-encoder.js';
import type { BatchLink, LinkState, MirrorSender } from './mirror-sender.js';

/** Options of a {@link MirrorConnection}. */
export interface MirrorConnectionOptions {
  host: string;
  port: number;
  /** TLS (node:tls) with an optional CA bundle and the name to verify; null = plain TCP. */
  tls: { ca: Buffer | null; serverName: string | null } | null;
  /** The shared secret (HMAC key); never logged, never sent. */
  secret: Uint8Array;
  sensorId: string;
  sensorName: string;
  /** A heartbeat goes out after this long without a frame to the sniffer. */
  heartbeatIntervalMs: number;
  /** Reconnect when batches wait for an ack and the sniffer sent nothing for this long. */
  idleTimeoutMs: number;
  /** The handshake (connect to AuthResult) must finish within this; default 10 s. */
  handshakeTimeoutMs?: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  logger: Logger;
  /** Told about each refused handshake (the CLI stops a replay there). */
  onRefused?: (reason: string) => void;
  /** Told about each state change. */
  onState?: (state: LinkState) => void;
  /** Random in [0, 1) for the backoff jitter (tests). */
  random?: () => number;
  /**
   * Highest protocol version offered in the Hello (default PROTOCOL_VERSION, 3: flow blocks, zstd as two frames);
   * 1 makes this sender talk like a version 1 sender (tests, the bench's baseline).
   */
  maxProtocolVersion?: number;
}

type Phase = 'challenge' | 'result' | 'streaming';

/** Name of an AuthFailure value for logs. */
function failureName(reason: number): string {
  const names: Record<number, string> = {
    [AuthFailure.AUTH_FAILURE_NONE]: 'none',
    [AuthFailure.AUTH_FAILURE_BAD_MAC]: 'bad_mac (wrong secret)',
    [AuthFailure.AUTH_FAILURE_UNKNOWN_SENSOR]: 'unknown_sensor',
    [AuthFailure.AUTH_FAILURE_UNSUPPORTED_VERSION]: 'unsupported_version',
    [AuthFailure.AUTH_FAILURE_PROTOCOL_ERROR]: 'protocol_error',
  };
  return names[reason] ?? `unknown (${reason})`;
}

/** Reconnect delay of attempt `attempt` (0-based): exponential, capped, "equal jitter" (half fixed, half random). */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/**
 * The sender's TCP (optionally TLS) connection to a sniffer's mirror receiver: handshake (Hello ->
 * Challenge -> Auth with HMAC-SHA256 over the protocol's transcript -> AuthResult), then batches
 * pulled from the sender's window at the socket's pace, Acks applied, heartbeats both ways, and on
 * any failure a reconnect after an exponential backoff with jitter. After each handshake it writes
 * every batch the sniffer has not acknowledged, oldest first. Every state change is logged.
 */
export class MirrorConnection implements BatchLink {
  private stateValue: LinkState = 'idle';
  private socket: Socket | null = null;
  private decoder = new FrameDecoder();
  private readonly frame = createDecodedFrame();
  private phase: Phase = 'challenge';
  private hello: Hello | null = null;
  /** Encodes each batch when this connection writes it (flow context per connection). */
  private readonly frames: BatchFrameEncoder;
  /** The version the sniffer's Challenge chose for the connection being set up. */
  private version = 1;
  /** Next sequence to write on this connection. */
  private cursor = 0;
  private attempt = 0;
  private connectedOnce = false;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private lastWriteMs = 0;
  private lastReadMs = 0;
  /** Why the current socket is being torn down (logged once at close). */
  private closeReason: string | null = null;
  private readonly log: Logger;

  constructor(
    private readonly options: MirrorConnectionOptions,
    private readonly sender: MirrorSender,
  ) {
    this.log = options.logger;
    const offered = options.maxProtocolVersion ?? PROTOCOL_VERSION;
    if (!(Number.isInteger(offered) && offered >= MIN_PROTOCOL_VERSION && offered <= PROTOCOL_VERSION)) {
      throw new RangeError(`maxProtocolVersion must be ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}, got ${offered}`);
    }
    this.frames = new BatchFrameEncoder(sender.compressor);
    sender.attach(this);
  }

  /** The protocol version of the current (or last) connection. */
  get protocolVersion(): number {
    return this.frames.protocolVersion;
  }

  /** The link's state (health endpoint). */
  get state(): LinkState {
    return this.stateValue;
  }

  get flowing(): boolean {
    return this.stateValue === 'streaming' && this.socket !== null && !this.socket.writableNeedDrain;
  }

  /** Starts connecting (and reconnecting until {@link close}). */
  start(): void {
    this.stopped = false;
    if (this.socket === null && this.reconnectTimer === null) this.connect();
  }

  /** Stops: no more reconnects; the socket ends after what was written is flushed (or is destroyed after `graceMs`). */
  async close(graceMs = 2000): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    if (socket !== null && !socket.destroyed) {
      this.closeReason = 'stopping';
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          socket.destroy();
        }, graceMs);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.end();
      });
    }
    this.setState('closed', {});
  }

  pump(): void {
    const socket = this.socket;
    if (this.stateValue !== 'streaming' || socket === null || socket.destroyed) return;
    const window = this.sender.window;
    if (this.cursor < window.resumeSequence) {
      // The overflow evicted batches this connection had not written yet. Skipping them would leave
      // a hole the sniffer cannot see mid-connection (its Ack would stay below it while everything
      // after waits): reconnect, and the next Hello's next_sequence makes it count them lost.
      this.fail(socket, `the buffer overflowed: batches ${this.cursor}..${window.resumeSequence - 1} were evicted before this connection wrote them; reconnecting so that the sniffer counts them lost`);
      return;
    }
    let wrote = false;
    // Corked: a frame's header and compressed block (two chunks, see BatchFrameEncoder.write), and
    // every frame of this pump, leave in one writev when uncorked below.
    socket.cork();
    try {
      while (!socket.writableNeedDrain && this.cursor < window.nextSequence && this.sender.mayWrite) {
        const raw = this.sender.batchAt(this.cursor);
        if (raw === null) break;
        // Encoded now, against this connection's flow context (version 2): written in order, once.
        // The raw batch is not referenced after this call (the sender may recycle it once released).
        const bytes = this.frames.write(this.cursor, raw, socket);
        this.sender.wrote(this.cursor, bytes);
        this.cursor++;
        wrote = true;
      }
    } finally {
      socket.uncork();
    }
    if (wrote) {
      this.lastWriteMs = Date.now();
      const flow = this.frames.flowStats;
      if (flow !== null) {
        const c = this.sender.counters;
        c.flowPacketsLiteral = flow.literal;
        c.flowPacketsNew = flow.newFlow;
        c.flowPacketsDelta = flow.delta;
      }
    }
  }

  private setState(state: LinkState, fields: Record<string, unknown>, level: 'info' | 'warn' | 'error' = 'info', message?: string): void {
    const from = this.stateValue;
    this.stateValue = state;
    this.log[level]({ from, state, target: `${this.options.host}:${this.options.port}`, ...fields }, message ?? `mirror link ${state}`);
    this.options.onState?.(state);
    this.sender.notify();
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (this.stopped) return;
    this.decoder = new FrameDecoder();
    this.phase = 'challenge';
    this.closeReason = null;
    this.setState('connecting', { attempt: this.attempt + 1, tls: this.options.tls !== null });
    const { host, port, tls } = this.options;
    const socket =
      tls === null
        ? netConnect({ host, port })
        : tlsConnect({ host, port, servername: tls.serverName ?? host, ...(tls.ca !== null ? { ca: tls.ca } : {}) });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    this.handshakeTimer = setTimeout(() => {
      this.fail(socket, `no handshake within ${this.options.handshakeTimeoutMs ?? 10_000} ms`);
    }, this.options.handshakeTimeoutMs ?? 10_000);
    socket.once(tls === null ? 'connect' : 'secureConnect', () => {
      this.onConnected(socket);
    });
    socket.on('data', (chunk: Buffer) => {
      this.onData(socket, chunk);
    });
    socket.on('drain', () => {
      this.pump();
      this.sender.notify();
    });
    socket.on('error', (err: Error) => {
      this.closeReason ??= err.message;
    });
    socket.on('close', () => {
      this.onClose(socket);
    });
  }

  private onConnected(socket: Socket): void {
    if (socket !== this.socket) return;
    const now = Date.now();
    this.hello = {
      protocolVersion: this.options.maxProtocolVersion ?? PROTOCOL_VERSION,
      sensorId: this.options.sensorId,
      sensorName: this.options.sensorName,
      clockSec: Math.floor(now / 1000),
      clockNsec: (now % 1000) * 1_000_000,
      clientNonce: randomBytes(32),
      // Below the oldest retained batch while evicted batches are in doubt: the AuthResult then says
      // whether the sniffer got them.
      nextSequence: this.sender.helloSequence,
      streamId: this.sender.streamId,
    };
    this.setState('handshake', { nextSequence: this.hello.nextSequence });
    this.write(socket, encodeFrame({ hello: this.hello }));
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    this.lastReadMs = Date.now();
    this.decoder.push(chunk);
    for (;;) {
      const status = this.decoder.next(this.frame);
      if (status === FrameStatus.NeedMore) return;
      if (status === FrameStatus.TooLarge) {
        this.fail(socket, `the sniffer sent a frame of ${this.frame.length} bytes, above the bound: framing lost`);
        return;
      }
      if (status === FrameStatus.Malformed) {
        this.fail(socket, `the sniffer sent a malformed frame (reason ${this.frame.reason})`);
        return;
      }
      if (!this.onEnvelope(socket, this.frame.envelope!)) return;
    }
  }

  /** Handles one frame; false when the connection was failed. */
  private onEnvelope(socket: Socket, envelope: Envelope): boolean {
    const body = envelope.body;
    switch (this.phase) {
      case 'challenge':
        if (body !== 'challenge' || envelope.challenge == null) return this.fail(socket, `expected Challenge, got ${body ?? 'an unknown message'}`);
        return this.onChallenge(socket, envelope.challenge);
      case 'result':
        if (body !== 'authResult' || envelope.authResult == null) return this.fail(socket, `expected AuthResult, got ${body ?? 'an unknown message'}`);
        return this.onAuthResult(socket, envelope.authResult.ok === true, envelope.authResult.reason ?? 0, envelope.authResult.detail ?? '', envelope.authResult.ackedSequence ?? 0);
      case 'streaming':
        if (body === 'ack') {
          this.sender.acknowledge(envelope.ack?.sequence ?? 0);
          this.pump();
        } else if (body !== 'heartbeat') {
          // Heartbeats only prove liveness (lastReadMs); a kind this version does not know is skipped.
          this.log.debug({ body: body ?? 'unknown' }, 'mirror: ignored message from the sniffer');
        }
        return true;
    }
  }

  private onChallenge(socket: Socket, challenge: Challenge): boolean {
    const status = checkChallenge(challenge);
    if (status !== ChallengeStatus.Ok) {
      const why = Object.entries(ChallengeStatus).find(([, v]) => v === status)?.[0] ?? String(status);
      return this.fail(socket, `the sniffer's Challenge is invalid (${why})`);
    }
    const version = challenge.protocolVersion ?? 0;
    if (version > (this.hello!.protocolVersion ?? 0)) {
      return this.fail(socket, `the sniffer chose protocol version ${version}, above the ${this.hello!.protocolVersion ?? 0} we offered`);
    }
    this.version = version;
    const mac = createHmac('sha256', this.options.secret).update(authTranscript(this.hello!, challenge)).digest();
    const offsetMs = (challenge.clockSec ?? 0) * 1000 + Math.floor((challenge.clockNsec ?? 0) / 1e6) - Date.now();
    this.log.info({ protocolVersion: challenge.protocolVersion, clockOffsetMs: offsetMs }, 'mirror: challenge received, authenticating');
    if (Math.abs(offsetMs) > 2000) this.log.warn({ clockOffsetMs: offsetMs }, 'mirror: the sniffer clock differs from ours by more than 2 s (packet times are ours)');
    this.phase = 'result';
    this.write(socket, encodeFrame({ auth: { mac } }));
    return true;
  }

  private onAuthResult(socket: Socket, ok: boolean, reason: number, detail: string, ackedSequence: number): boolean {
    if (!ok) {
      this.sender.counters.authFailures++;
      const why = failureName(reason);
      this.closeReason = 'refused';
      this.clearHandshakeTimer();
      this.setState('refused', { reason: why, detail, authFailures: this.sender.counters.authFailures }, 'error', `mirror: the sniffer refused the handshake: ${why}${detail === '' ? '' : ` (${detail})`}`);
      this.options.onRefused?.(why);
      socket.destroy();
      return false;
    }
    this.clearHandshakeTimer();
    const window = this.sender.window;
    const hole = this.sender.resumed(ackedSequence);
    if (ackedSequence >= window.nextSequence) {
      // The receiver remembers more than this sender ever sent (a restarted sender starts at 1):
      // it would drop our new batches as duplicates. Say so loudly; the resend goes on.
      this.log.error(
        { ackedSequence, nextSequence: window.nextSequence },
        'mirror: the sniffer acknowledges sequences this sender never sent (sender restarted?); it may drop new batches as duplicates',
      );
      this.sender.counters.invalidAcks++;
    }
    if (this.connectedOnce) this.sender.counters.reconnects++;
    this.connectedOnce = true;
    this.attempt = 0;
    this.phase = 'streaming';
    // Both ends start this connection's flow context empty (version 2); a resend is re-encoded.
    this.frames.begin(this.version);
    this.cursor = window.resumeSequence;
    this.lastReadMs = Date.now();
    this.setState('streaming', { protocolVersion: this.version, ackedSequence, resend: window.nextSequence - window.resumeSequence, reconnects: this.sender.counters.reconnects });
    if (hole > 0) {
      // Batches above the sniffer's mark were evicted (some written on a connection that died before
      // they arrived): announce the hole with a new Hello before writing anything here.
      return this.fail(socket, `the sniffer holds batches up to ${ackedSequence}; the ${hole} after it were dropped by the buffer overflow; reconnecting so that it counts them lost`);
    }
    this.startHeartbeat(socket);
    this.pump();
    return true;
  }

  private startHeartbeat(socket: Socket): void {
    const interval = this.options.heartbeatIntervalMs;
    this.heartbeatTimer = setInterval(() => {
      if (socket !== this.socket || this.stateValue !== 'streaming') return;
      const now = Date.now();
      if (this.sender.unackedBatches > 0 && now - this.lastReadMs > this.options.idleTimeoutMs) {
        this.fail(socket, `the sniffer sent nothing for ${now - this.lastReadMs} ms while ${this.sender.unackedBatches} batches wait for an ack`);
        return;
      }
      if (now - this.lastWriteMs >= interval && !socket.writableNeedDrain) {
        this.write(socket, encodeFrame({ heartbeat: { clockSec: Math.floor(now / 1000), clockNsec: (now % 1000) * 1_000_000 } }));
      }
    }, Math.max(50, Math.min(interval, this.options.idleTimeoutMs) / 2));
  }

  private write(socket: Socket, frame: Uint8Array): void {
    socket.write(frame);
    this.lastWriteMs = Date.now();
    this.sender.counters.bytesWritten += frame.length;
  }

  /** Ends the connection for `reason`; a reconnect follows. Returns false for use in handlers. */
  private fail(socket: Socket, reason: string): false {
    if (socket !== this.socket) return false;
    this.closeReason = reason;
    socket.destroy();
    return false;
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.clearTimers();
    const reason = this.closeReason ?? 'closed by the sniffer';
    if (this.stopped) return;
    const wasStreaming = this.stateValue === 'streaming';
    const refused = this.stateValue === 'refused';
    if (!wasStreaming && !refused) this.sender.counters.connectFailures++;
    // A refusal will not fix itself quickly: it waits as long as the cap allows.
    const attempt = refused ? 30 : this.attempt;
    this.attempt++;
    const delay = backoffDelay(attempt, this.options.reconnectMinMs, this.options.reconnectMaxMs, (this.options.random ?? Math.random)());
    this.setState(
      'backoff',
      { reason, retryInMs: delay, unacked: this.sender.unackedBatches },
      wasStreaming || refused ? 'warn' : 'info',
      wasStreaming ? `mirror link lost: ${reason}; reconnecting` : `mirror link down: ${reason}; retrying`,
    );
    this.reconnectTimer = setTimeout(() => {
      this.connect();
    }, delay);
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  private clearTimers(): void {
    this.clearHandshakeTimer();
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }
}
