import { CR, LF } from './bytes.js';
import { SipFrame, SipFraming, frameSipMessage, isSipStartLine } from './sip-framing.js';

/** TCP header flags the reassembler cares about (RFC 9293 §3.1), as bits of the `flags` argument. */
export const TcpFlag = {
  /** SYN: the stream starts at seq + 1. */
  Syn: 1,
  /** FIN: the stream ends after this segment's data; the flow closes once all data is in. */
  Fin: 2,
  /** RST: the flow is dropped at once. */
  Rst: 4,
} as const;

/** Limits of a {@link SipTcpReassembler}; every per-flow table and buffer is bounded. */
export interface SipTcpReassemblerOptions {
  /** Most flows followed at once; the least recently seen flow is evicted beyond it. Default 4096. */
  maxFlows?: number;
  /** Most bytes buffered per flow (in-order data + out-of-order segments). Default 131072. */
  maxFlowBytes?: number;
  /** Most out-of-order segments held per flow before the hole is declared lost. Default 64. */
  maxPendingSegments?: number;
  /** A flow unseen for this long (packet time, ms) is dropped by {@link SipTcpReassembler.expire}. Default 300000. */
  idleTimeoutMs?: number;
  /** A hole in the sequence space older than this (packet time, ms) is declared lost. Default 3000. */
  reorderTimeoutMs?: number;
}

/** Receives each complete SIP message; `buf` may be reused after the call returns, so copy to keep. */
export type SipTcpMessageSink<K> = (key: K, buf: Uint8Array, offset: number, length: number) => void;

/** Counters of a {@link SipTcpReassembler}: every byte not delivered is counted under a reason. */
export class SipTcpReassemblerStats {
  /** Complete messages delivered. */
  messages = 0;
  /** CRLF keepalive bytes skipped between messages (RFC 5626 §3.5.1). */
  keepaliveBytes = 0;
  /** Payload bytes already delivered that arrived again (retransmissions, overlaps). */
  retransmittedBytes = 0;
  /** Holes declared lost (missing segment after the reorder timeout or pending overflow). */
  gaps = 0;
  /** Bytes thrown away while looking for the next start line after a gap, overflow or non-SIP data. */
  discardedBytes = 0;
  /** Times a flow's buffer limit was hit (buffer dropped, flow resynchronised). */
  overflows = 0;
  /** Times the data did not look like SIP (flow resynchronised). */
  notSip = 0;
  /** Flows created. */
  flowsCreated = 0;
  /** Flows evicted because {@link SipTcpReassemblerOptions.maxFlows} was reached. */
  flowsEvicted = 0;
  /** Flows dropped by the idle timeout. */
  flowsExpired = 0;
  /** Flows ended by FIN (all data in) or RST. */
  flowsClosed = 0;
  /** Buffered bytes of an incomplete message lost when a flow was closed, evicted or expired. */
  truncatedBytes = 0;
}

interface PendingSegment {
  seq: number;
  data: Uint8Array;
}

class FlowState {
  nextSeq = 0;
  resync = false;
  buf: Uint8Array;
  used = 0;
  pending: PendingSegment[] = [];
  pendingBytes = 0;
  holeSinceMs = -1;
  lastSeenMs = 0;
  finSeq = -1;
  /** Bytes still to skip of a message too large for the buffer (its length was known from its headers). */
  skip = 0;

  constructor(initialBytes: number) {
    this.buf = new Uint8Array(initialBytes);
  }
}

const INITIAL_FLOW_BUFFER = 2048;

/**
 * Reassembles SIP messages from TCP segments, one direction of a connection per flow key
 * (RFC 3261 §18.3: messages on a stream are framed by Content-Length). The caller chooses the
 * key (e.g. a string or number naming src/dst address and port) and drives time with packet
 * timestamps, so replays behave like live capture.
 *
 * Handles: out-of-order segments (held until the hole fills), retransmitted and overlapping
 * data (trimmed), several messages per segment, one message over many segments, CRLF
 * keepalives, lost segments (after {@link SipTcpReassemblerOptions.reorderTimeoutMs} or when the
 * pending buffer is full the hole is skipped, the partial message dropped and the flow resyncs
 * on the next start line — counted), mid-stream pickup without SYN (resync), bounded buffers
 * and a bounded flow table with idle timeout and LRU eviction (counted).
 *
 * In-order segments with no buffered data are framed in place (no copy); only partial tails and
 * out-of-order segments are copied.
 */
export class SipTcpReassembler<K> {
  /** Counters; read them for stats, never reset by the reassembler. */
  readonly stats = new SipTcpReassemblerStats();
  private readonly flows = new Map<K, FlowState>();
  private readonly frame = new SipFrame();
  private readonly maxFlows: number;
  private readonly maxFlowBytes: number;
  private readonly maxPendingSegments: number;
  private readonly idleTimeoutMs: number;
  private readonly reorderTimeoutMs: number;

  /**
   * @param sink called once per complete message, in stream order per flow.
   * @param options limits; see {@link SipTcpReassemblerOptions}.
   * @throws RangeError when a limit is not a positive integer.
   */
  constructor(private readonly sink: SipTcpMessageSink<K>, options: SipTcpReassemblerOptions = {}) {
    this.maxFlows = positive('maxFlows', options.maxFlows ?? 4096);
    this.maxFlowBytes = positive('maxFlowBytes', options.maxFlowBytes ?? 131072);
    this.maxPendingSegments = positive('maxPendingSegments', options.maxPendingSegments ?? 64);
    this.idleTimeoutMs = positive('idleTimeoutMs', options.idleTimeoutMs ?? 300000);
    this.reorderTimeoutMs = positive('reorderTimeoutMs', options.reorderTimeoutMs ?? 3000);
  }

  /** Number of flows currently followed. */
  get flowCount(): number {
    return this.flows.size;
  }

  /**
   * Feeds one TCP segment of the flow `key`.
   * @param nowMs packet time in ms (drives idle and reorder timeouts).
   * @param seq TCP sequence number of the segment (raw, 32-bit).
   * @param flags bits of {@link TcpFlag}.
   * @throws RangeError when offset/length lie outside `buf` (a programmer error).
   */
  push(key: K, nowMs: number, seq: number, flags: number, buf: Uint8Array, offset: number, length: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buf.length) {
      throw new RangeError(`range ${offset}+${length} outside buffer of ${buf.length}`);
    }
    let flow = this.flows.get(key);
    if ((flags & TcpFlag.Rst) !== 0) {
      if (flow !== undefined) this.close(key, flow);
      return;
    }
    const syn = (flags & TcpFlag.Syn) !== 0;
    const dataSeq = syn ? (seq + 1) >>> 0 : seq >>> 0;
    if (flow === undefined) {
      // A bare ACK/FIN of an unknown (or already closed) flow carries nothing to follow.
      if (!syn && length === 0) return;
      flow = this.create(key, nowMs);
      flow.nextSeq = dataSeq;
      // Without the SYN we joined mid-stream: the first bytes may be the middle of a message.
      flow.resync = !syn;
    } else if (syn) {
      this.dropBuffered(flow);
      flow.nextSeq = dataSeq;
      flow.resync = false;
      flow.finSeq = -1;
    }
    flow.lastSeenMs = nowMs;
    if (length > 0) this.accept(key, flow, nowMs, dataSeq, buf, offset, length);
    if ((flags & TcpFlag.Fin) !== 0) flow.finSeq = (dataSeq + length) >>> 0;
    if (flow.pending.length > 0 && flow.holeSinceMs >= 0 && nowMs - flow.holeSinceMs > this.reorderTimeoutMs) {
      this.skipHole(key, flow);
    }
    if (flow.finSeq >= 0 && flow.nextSeq === flow.finSeq && this.flows.get(key) === flow) this.close(key, flow);
  }

  /** Drops flows idle for longer than the idle timeout (packet time); call periodically. Returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    for (const [key, flow] of this.flows) {
      if (nowMs - flow.lastSeenMs > this.idleTimeoutMs) {
        this.stats.truncatedBytes += flow.used;
        this.flows.delete(key);
        this.stats.flowsExpired++;
        n++;
      } else if (flow.pending.length > 0 && flow.holeSinceMs >= 0 && nowMs - flow.holeSinceMs > this.reorderTimeoutMs) {
        this.skipHole(key, flow);
      }
    }
    return n;
  }

  private create(key: K, nowMs: number): FlowState {
    if (this.flows.size >= this.maxFlows) {
      this.expire(nowMs);
      if (this.flows.size >= this.maxFlows) this.evictOldest();
    }
    const flow = new FlowState(Math.min(INITIAL_FLOW_BUFFER, this.maxFlowBytes));
    this.flows.set(key, flow);
    this.stats.flowsCreated++;
    return flow;
  }

  private evictOldest(): void {
    let oldestKey: K | undefined;
    let oldest: FlowState | undefined;
    for (const [key, flow] of this.flows) {
      if (oldest === undefined || flow.lastSeenMs < oldest.lastSeenMs) {
        oldest = flow;
        oldestKey = key;
      }
    }
    if (oldest !== undefined) {
      this.stats.truncatedBytes += oldest.used;
      this.flows.delete(oldestKey as K);
      this.stats.flowsEvicted++;
    }
  }

  private close(key: K, flow: FlowState): void {
    this.stats.truncatedBytes += flow.used;
    this.flows.delete(key);
    this.stats.flowsClosed++;
  }

  private dropBuffered(flow: FlowState): void {
    this.stats.truncatedBytes += flow.used;
    flow.used = 0;
    flow.skip = 0;
    flow.pending.length = 0;
    flow.pendingBytes = 0;
    flow.holeSinceMs = -1;
  }

  private accept(key: K, flow: FlowState, nowMs: number, seq: number, buf: Uint8Array, offset: number, length: number): void {
    const diff = (seq - flow.nextSeq) | 0;
    if (diff < 0) {
      const old = -diff;
      if (old >= length) {
        this.stats.retransmittedBytes += length;
        return;
      }
      this.stats.retransmittedBytes += old;
      offset += old;
      length -= old;
    } else if (diff > 0) {
      this.holdPending(key, flow, nowMs, seq, buf, offset, length);
      return;
    }
    this.append(key, flow, buf, offset, length);
    this.drainPending(key, flow);
  }

  private holdPending(key: K, flow: FlowState, nowMs: number, seq: number, buf: Uint8Array, offset: number, length: number): void {
    for (const p of flow.pending) {
      if (p.seq === seq && p.data.length >= length) {
        this.stats.retransmittedBytes += length;
        return;
      }
    }
    flow.pending.push({ seq, data: buf.slice(offset, offset + length) });
    flow.pendingBytes += length;
    if (flow.holeSinceMs < 0) flow.holeSinceMs = nowMs;
    if (flow.pending.length > this.maxPendingSegments || flow.pendingBytes + flow.used > this.maxFlowBytes) {
      this.skipHole(key, flow);
    }
  }

  /** The missing bytes are given up: drop the partial message, jump to the first held segment, resync. */
  private skipHole(key: K, flow: FlowState): void {
    this.stats.gaps++;
    this.stats.discardedBytes += flow.used;
    flow.used = 0;
    flow.skip = 0;
    flow.resync = true;
    let first = flow.pending[0]!;
    for (const p of flow.pending) {
      if (((p.seq - first.seq) | 0) < 0) first = p;
    }
    flow.nextSeq = first.seq;
    flow.holeSinceMs = -1;
    this.drainPending(key, flow);
  }

  private drainPending(key: K, flow: FlowState): void {
    let progressed = true;
    let advanced = false;
    while (progressed && flow.pending.length > 0) {
      progressed = false;
      for (let i = 0; i < flow.pending.length; i++) {
        const p = flow.pending[i]!;
        const diff = (p.seq - flow.nextSeq) | 0;
        if (diff > 0) continue;
        flow.pending.splice(i, 1);
        flow.pendingBytes -= p.data.length;
        const old = -diff;
        if (old >= p.data.length) {
          this.stats.retransmittedBytes += p.data.length;
        } else {
          this.stats.retransmittedBytes += old;
          this.append(key, flow, p.data, old, p.data.length - old);
        }
        progressed = true;
        advanced = true;
        break;
      }
    }
    // A hole remains while segments are still held; its age restarts when data advanced.
    flow.holeSinceMs = flow.pending.length > 0 ? (advanced ? flow.lastSeenMs : flow.holeSinceMs) : -1;
  }

  private append(key: K, flow: FlowState, buf: Uint8Array, offset: number, length: number): void {
    flow.nextSeq = (flow.nextSeq + length) >>> 0;
    if (flow.skip > 0) {
      const n = Math.min(flow.skip, length);
      flow.skip -= n;
      this.stats.discardedBytes += n;
      offset += n;
      length -= n;
      if (length === 0) return;
    }
    if (flow.used === 0) {
      // Fast path: frame in the caller's buffer, copy only the unfinished tail.
      const consumed = this.extract(key, flow, buf, offset, offset + length);
      this.keep(flow, buf, offset + consumed, length - consumed);
      return;
    }
    this.keep(flow, buf, offset, length);
    const consumed = this.extract(key, flow, flow.buf, 0, flow.used);
    if (consumed > 0) {
      flow.buf.copyWithin(0, consumed, flow.used);
      flow.used -= consumed;
    }
  }

  /** Copies bytes into the flow buffer, growing it up to the cap; on overflow drops and resyncs. */
  private keep(flow: FlowState, buf: Uint8Array, offset: number, length: number): void {
    if (length <= 0) return;
    if (flow.used + length > this.maxFlowBytes) {
      this.stats.overflows++;
      this.stats.discardedBytes += flow.used;
      flow.used = 0;
      flow.resync = true;
      if (length > this.maxFlowBytes) {
        this.stats.discardedBytes += length;
        return;
      }
    }
    if (flow.used + length > flow.buf.length) {
      let size = flow.buf.length * 2;
      while (size < flow.used + length) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.maxFlowBytes));
      grown.set(flow.buf.subarray(0, flow.used));
      flow.buf = grown;
    }
    flow.buf.set(buf.subarray(offset, offset + length), flow.used);
    flow.used += length;
  }

  /** Emits every complete message in [start, end); returns the bytes consumed (messages, keepalives, discarded). */
  private extract(key: K, flow: FlowState, buf: Uint8Array, start: number, end: number): number {
    let pos = start;
    const frame = this.frame;
    while (pos < end) {
      if (flow.resync) {
        const found = findStartLine(buf, pos, end);
        if (found < 0) {
          // No complete start line yet: keep from the last line start, drop what precedes it.
          const keepFrom = lastLineStart(buf, pos, end);
          this.stats.discardedBytes += keepFrom - pos;
          return keepFrom - start;
        }
        this.stats.discardedBytes += found - pos;
        pos = found;
        flow.resync = false;
      }
      const r = frameSipMessage(buf, pos, end - pos, frame);
      if (r === SipFraming.NotSip) {
        this.stats.notSip++;
        flow.resync = true;
        // Skip the offending line start so the search moves on.
        this.stats.discardedBytes += frame.keepaliveBytes + 1;
        pos = frame.offset + 1;
        continue;
      }
      this.stats.keepaliveBytes += frame.keepaliveBytes;
      if (r === SipFraming.Partial) {
        if (frame.headerLength > 0 && frame.length > this.maxFlowBytes) {
          // Its headers say it can never fit: skip exactly its bytes, no resync needed.
          this.stats.overflows++;
          this.stats.discardedBytes += end - frame.offset;
          flow.skip = frame.length - (end - frame.offset);
          return end - start;
        }
        return frame.offset - start;
      }
      this.stats.messages++;
      this.sink(key, buf, frame.offset, frame.length);
      pos = frame.offset + frame.length;
    }
    return pos - start;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** First offset in [start, end) that begins a complete SIP start line, or -1. */
function findStartLine(buf: Uint8Array, start: number, end: number): number {
  let p = start;
  while (p < end) {
    let lf = p;
    while (lf < end && buf[lf] !== LF) lf++;
    if (lf >= end) return -1;
    const lineEnd = lf > p && buf[lf - 1] === CR ? lf - 1 : lf;
    if (isSipStartLine(buf, p, lineEnd)) return p;
    p = lf + 1;
  }
  return -1;
}

/** Start of the last (unterminated) line in [start, end). */
function lastLineStart(buf: Uint8Array, start: number, end: number): number {
  let p = end;
  while (p > start && buf[p - 1] !== LF) p--;
  return p;
}
