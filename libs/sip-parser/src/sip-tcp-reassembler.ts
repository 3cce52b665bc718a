import { CR, LF } from './bytes.js';
import { SIP_MAX_HEADER_BYTES, SipFrame, SipFraming, frameSipMessage, isSipStartLine } from './sip-framing.js';

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

/**
 * Receives each complete SIP message; `buf` may be reused after the call returns, so copy to keep.
 * It must not push into the same reassembler (flows it evicts are reused at once).
 */
export type SipTcpMessageSink<K> = (key: K, buf: Uint8Array, offset: number, length: number) => void;

/**
 * Receives the head of a SIP message dropped because it is too large to reassemble (see
 * {@link SipTcpReassemblerStats.oversizeMessages}): its start line and as many header bytes as
 * were in hand, at most {@link SipTcpReassemblerOptions.maxFlowBytes}, so that the caller can find
 * its Call-ID and mark the call. The head may end in the middle of a header line. `buf` may be
 * reused after the call returns, so copy to keep.
 */
export type SipTcpOversizeSink<K> = (key: K, headBuf: Uint8Array, headOffset: number, headLength: number) => void;

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
  /**
   * Times a flow's buffer limit was hit by data that is not a SIP message in progress (a line
   * longer than the buffer while looking for a start line): buffer dropped, flow resynchronised.
   */
  overflows = 0;
  /**
   * SIP messages dropped because they are too large to reassemble, each counted once: the whole
   * message is larger than {@link SipTcpReassemblerOptions.maxFlowBytes} (per its Content-Length,
   * its bytes are skipped exactly), or its header section outgrows the buffer or the framer's cap
   * (SIP_MAX_HEADER_BYTES, 64 KiB; the flow resynchronises on the next start line). Their bytes
   * are in {@link discardedBytes}; their heads go to the oversize callback. A message larger than
   * the buffer that arrives whole in one segment is delivered, not counted here.
   */
  oversizeMessages = 0;
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
  /** Buffered bytes (incomplete message, held out-of-order segments) lost when a flow was closed, evicted or expired. */
  truncatedBytes = 0;
}

interface PendingSegment {
  seq: number;
  data: Uint8Array;
}

class FlowState<K> {
  nextSeq = 0;
  resync = false;
  /** Allocated on the first partial tail: a flow whose messages all frame in place never needs one. */
  buf: Uint8Array = NO_BUFFER;
  used = 0;
  /** Out-of-order segments, sorted by sequence number (serial order), each ahead of nextSeq when held. */
  pending: PendingSegment[] = [];
  pendingBytes = 0;
  holeSinceMs = -1;
  lastSeenMs = 0;
  finSeq = -1;
  /** Bytes still to skip of a message too large for the buffer (its length was known from its headers). */
  skip = 0;
  /** Length of the buffered message once its header section is in (it starts at buf[0]); 0 while unknown. */
  need = 0;
  /** Buffered bytes already framed without result: framing can only change with bytes beyond. */
  scanned = 0;
  /** The buffered message's start line is complete (an LF is in the buffer). */
  lineSeen = false;
  /** False once the flow has left the table (closed, evicted, expired). */
  live = true;
  // Intrusive doubly linked lists, so that touching, evicting and expiring are O(1) per flow:
  // every flow in least-recently-seen order, and the flows holding a hole, oldest hole first.
  older: FlowState<K> | null = null;
  newer: FlowState<K> | null = null;
  inHoles = false;
  olderHole: FlowState<K> | null = null;
  newerHole: FlowState<K> | null = null;

  constructor(public key: K) {}

  /** Makes a flow taken out of the table new again for `key`, keeping its buffers (an eviction reuses the evicted flow). */
  reuse(key: K): this {
    this.key = key;
    this.nextSeq = 0;
    this.resync = false;
    this.used = 0;
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.holeSinceMs = -1;
    this.lastSeenMs = 0;
    this.finSeq = -1;
    this.skip = 0;
    this.need = 0;
    this.scanned = 0;
    this.lineSeen = false;
    this.live = true;
    return this;
  }
}

const INITIAL_FLOW_BUFFER = 2048;
const NO_BUFFER = new Uint8Array(0);

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
 * (a message too large for them is counted once and its head handed to the oversize callback)
 * and a bounded flow table with idle timeout and LRU eviction (counted).
 *
 * Costs: a flow lookup is one Map get; touching, evicting and expiring a flow are O(1) (linked
 * lists in last-seen order, no scan of the table). In-order segments with no buffered data are
 * framed in place (no copy); only partial tails and out-of-order segments are copied, and a
 * buffered message is re-framed only when the new bytes can change the answer (its known length
 * reached, or the end of its header section arrived), so a message costs time linear in its size
 * whatever its segmentation.
 */
export class SipTcpReassembler<K> {
  /** Counters; read them for stats, never reset by the reassembler. */
  readonly stats = new SipTcpReassemblerStats();
  private readonly flows = new Map<K, FlowState<K>>();
  private readonly frame = new SipFrame();
  private readonly maxFlows: number;
  private readonly maxFlowBytes: number;
  private readonly maxPendingSegments: number;
  private readonly idleTimeoutMs: number;
  private readonly reorderTimeoutMs: number;
  /** Least recently seen flow (evicted first) and most recently seen one. */
  private lruOldest: FlowState<K> | null = null;
  private lruNewest: FlowState<K> | null = null;
  /** Flows holding out-of-order segments, oldest hole first (for the reorder timeout in {@link expire}). */
  private holesOldest: FlowState<K> | null = null;
  private holesNewest: FlowState<K> | null = null;

  /**
   * @param sink called once per complete message, in stream order per flow.
   * @param options limits; see {@link SipTcpReassemblerOptions}.
   * @param onOversize called once per message too large to reassemble, with its head (see
   *   {@link SipTcpOversizeSink}); optional, the message is counted either way.
   * @throws RangeError when a limit is not a positive integer.
   */
  constructor(
    private readonly sink: SipTcpMessageSink<K>,
    options: SipTcpReassemblerOptions = {},
    private readonly onOversize?: SipTcpOversizeSink<K>,
  ) {
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
      if (flow !== undefined) {
        this.remove(flow);
        this.stats.flowsClosed++;
      }
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
    } else {
      this.touch(flow);
      if (syn) {
        this.dropBuffered(flow);
        flow.nextSeq = dataSeq;
        flow.resync = false;
        flow.finSeq = -1;
      }
    }
    flow.lastSeenMs = nowMs;
    if (length > 0) this.accept(flow, nowMs, dataSeq, buf, offset, length);
    if ((flags & TcpFlag.Fin) !== 0) flow.finSeq = (dataSeq + length) >>> 0;
    if (flow.pending.length > 0 && flow.holeSinceMs >= 0 && nowMs - flow.holeSinceMs > this.reorderTimeoutMs) {
      this.skipHole(flow);
    }
    if (flow.finSeq >= 0 && flow.nextSeq === flow.finSeq && flow.live) {
      this.remove(flow);
      this.stats.flowsClosed++;
    }
  }

  /**
   * Drops flows idle for longer than the idle timeout and skips holes older than the reorder
   * timeout (packet time); call periodically. Returns how many flows were dropped. Walks only the
   * flows it acts on, from the least recently seen end: with packet times that go backwards
   * (merged captures) a flow may be dropped a call later than its timestamp says.
   */
  expire(nowMs: number): number {
    let n = 0;
    for (let f = this.lruOldest; f !== null && nowMs - f.lastSeenMs > this.idleTimeoutMs; f = this.lruOldest) {
      this.remove(f);
      this.stats.flowsExpired++;
      n++;
    }
    // skipHole drains at least one held segment of the flow, so this ends.
    for (let f = this.holesOldest; f !== null && nowMs - f.holeSinceMs > this.reorderTimeoutMs; f = this.holesOldest) {
      this.skipHole(f);
    }
    return n;
  }

  private create(key: K, nowMs: number): FlowState<K> {
    let flow: FlowState<K> | undefined;
    if (this.flows.size >= this.maxFlows) {
      this.expire(nowMs);
      const oldest = this.lruOldest;
      if (this.flows.size >= this.maxFlows && oldest !== null) {
        this.remove(oldest);
        this.stats.flowsEvicted++;
        // Under churn (scans, many short connections) every new flow evicts one: reusing it
        // keeps the table free of allocation and of garbage that outlives the young generation.
        flow = oldest.reuse(key);
      }
    }
    flow ??= new FlowState(key);
    this.flows.set(key, flow);
    this.linkNewest(flow);
    this.stats.flowsCreated++;
    return flow;
  }

  /** Takes a flow out of the table; what it still buffered is counted as truncated. */
  private remove(flow: FlowState<K>): void {
    this.stats.truncatedBytes += flow.used + flow.pendingBytes;
    this.unlinkLru(flow);
    this.clearHole(flow);
    this.flows.delete(flow.key);
    flow.live = false;
  }

  /** Marks the flow as the most recently seen. */
  private touch(flow: FlowState<K>): void {
    if (this.lruNewest === flow) return;
    this.unlinkLru(flow);
    this.linkNewest(flow);
  }

  private linkNewest(flow: FlowState<K>): void {
    flow.older = this.lruNewest;
    flow.newer = null;
    if (this.lruNewest !== null) this.lruNewest.newer = flow;
    else this.lruOldest = flow;
    this.lruNewest = flow;
  }

  private unlinkLru(flow: FlowState<K>): void {
    if (flow.older !== null) flow.older.newer = flow.newer;
    else this.lruOldest = flow.newer;
    if (flow.newer !== null) flow.newer.older = flow.older;
    else this.lruNewest = flow.older;
    flow.older = null;
    flow.newer = null;
  }

  /** Starts (or restarts) the age of the flow's hole at `ms`: it goes to the young end of the hole list. */
  private setHole(flow: FlowState<K>, ms: number): void {
    this.clearHole(flow);
    flow.holeSinceMs = ms;
    flow.inHoles = true;
    flow.olderHole = this.holesNewest;
    if (this.holesNewest !== null) this.holesNewest.newerHole = flow;
    else this.holesOldest = flow;
    this.holesNewest = flow;
  }

  private clearHole(flow: FlowState<K>): void {
    flow.holeSinceMs = -1;
    if (!flow.inHoles) return;
    if (flow.olderHole !== null) flow.olderHole.newerHole = flow.newerHole;
    else this.holesOldest = flow.newerHole;
    if (flow.newerHole !== null) flow.newerHole.olderHole = flow.olderHole;
    else this.holesNewest = flow.olderHole;
    flow.olderHole = null;
    flow.newerHole = null;
    flow.inHoles = false;
  }

  private dropBuffered(flow: FlowState<K>): void {
    this.stats.truncatedBytes += flow.used + flow.pendingBytes;
    flow.used = 0;
    flow.skip = 0;
    flow.need = 0;
    flow.scanned = 0;
    flow.pending.length = 0;
    flow.pendingBytes = 0;
    this.clearHole(flow);
  }

  private accept(flow: FlowState<K>, nowMs: number, seq: number, buf: Uint8Array, offset: number, length: number): void {
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
      this.holdPending(flow, nowMs, seq, buf, offset, length);
      return;
    }
    this.append(flow, buf, offset, length);
    if (flow.pending.length > 0) this.drainPending(flow);
  }

  private holdPending(flow: FlowState<K>, nowMs: number, seq: number, buf: Uint8Array, offset: number, length: number): void {
    // Keep the held segments sorted (binary search; usually the new one goes last), so that
    // draining takes them from the front instead of searching the list once per segment.
    const pending = flow.pending;
    let lo = 0;
    let hi = pending.length;
    if (hi > 0 && ((seq - pending[hi - 1]!.seq) | 0) > 0) lo = hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (((pending[mid]!.seq - seq) | 0) < 0) lo = mid + 1;
      else hi = mid;
    }
    const same = lo < pending.length && pending[lo]!.seq === seq ? pending[lo]! : undefined;
    if (same !== undefined) {
      if (same.data.length >= length) {
        this.stats.retransmittedBytes += length;
        return;
      }
      // A longer resend of a held segment replaces it.
      this.stats.retransmittedBytes += same.data.length;
      flow.pendingBytes -= same.data.length;
      same.data = buf.slice(offset, offset + length);
    } else {
      pending.splice(lo, 0, { seq, data: buf.slice(offset, offset + length) });
    }
    flow.pendingBytes += length;
    if (flow.holeSinceMs < 0) this.setHole(flow, nowMs);
    if (pending.length > this.maxPendingSegments || flow.pendingBytes + flow.used > this.maxFlowBytes) {
      this.skipHole(flow);
    }
  }

  /** The missing bytes are given up: drop the partial message, jump to the first held segment, resync. */
  private skipHole(flow: FlowState<K>): void {
    this.stats.gaps++;
    this.stats.discardedBytes += flow.used;
    flow.used = 0;
    flow.skip = 0;
    flow.need = 0;
    flow.scanned = 0;
    flow.resync = true;
    flow.nextSeq = flow.pending[0]!.seq;
    this.clearHole(flow);
    this.drainPending(flow);
  }

  /** Appends the held segments that the stream has reached, in order. */
  private drainPending(flow: FlowState<K>): void {
    const pending = flow.pending;
    let i = 0;
    while (i < pending.length) {
      const p = pending[i]!;
      const diff = (p.seq - flow.nextSeq) | 0;
      if (diff > 0) break; // sorted: the rest lies beyond the hole too
      i++;
      flow.pendingBytes -= p.data.length;
      const old = -diff;
      if (old >= p.data.length) {
        this.stats.retransmittedBytes += p.data.length;
      } else {
        this.stats.retransmittedBytes += old;
        this.append(flow, p.data, old, p.data.length - old);
      }
    }
    if (i > 0) pending.splice(0, i);
    // A hole remains while segments are still held; its age restarts when data advanced.
    if (pending.length === 0) this.clearHole(flow);
    else if (i > 0) this.setHole(flow, flow.lastSeenMs);
  }

  private append(flow: FlowState<K>, buf: Uint8Array, offset: number, length: number): void {
    flow.nextSeq = (flow.nextSeq + length) >>> 0;
    while (length > 0) {
      if (flow.skip > 0) {
        const n = Math.min(flow.skip, length);
        flow.skip -= n;
        this.stats.discardedBytes += n;
        offset += n;
        length -= n;
        continue;
      }
      if (flow.used === 0) {
        // Fast path: frame in the caller's buffer, copy only the unfinished tail.
        const consumed = this.extract(flow, buf, offset, offset + length);
        offset += consumed;
        length -= consumed;
        if (length === 0 || flow.skip > 0) continue;
        // An unfinished message (or line, while resynchronising) remains; a tail longer than the
        // buffer is handled by the full-buffer case below.
        const take = Math.min(length, this.maxFlowBytes);
        this.copyIn(flow, buf, offset, take);
        offset += take;
        length -= take;
        flow.scanned = flow.used;
        continue;
      }
      // Bytes are buffered. Take only what completes the current message when its length is
      // known (what follows goes through the fast path), and never more than the buffer holds.
      let take = flow.need > 0 ? Math.min(length, flow.need - flow.used) : length;
      take = Math.min(take, this.maxFlowBytes - flow.used);
      if (take <= 0) {
        this.bufferFull(flow);
        continue;
      }
      this.copyIn(flow, buf, offset, take);
      offset += take;
      length -= take;
      if (!this.mayFrame(flow)) {
        flow.scanned = flow.used;
        continue;
      }
      const consumed = this.extract(flow, flow.buf, 0, flow.used);
      if (consumed > 0) {
        flow.buf.copyWithin(0, consumed, flow.used);
        flow.used -= consumed;
      }
      flow.scanned = flow.used;
    }
  }

  /**
   * Whether framing the buffer again can give another answer than last time, given the bytes
   * added since (beyond `flow.scanned`). Framing only looks forward, so: a message of known length
   * waits for that length; a header section waits for its empty line (or the framer's size cap);
   * a start line, or a line while resynchronising, waits for its LF.
   */
  private mayFrame(flow: FlowState<K>): boolean {
    const used = flow.used;
    if (flow.need > 0) return used >= flow.need;
    const from = flow.scanned;
    if (flow.resync) return indexOfByte(flow.buf, LF, from, used) >= 0;
    if (used > SIP_MAX_HEADER_BYTES) return true;
    if (!flow.lineSeen) return indexOfByte(flow.buf, LF, from, used) >= 0;
    return hasHeaderEnd(flow.buf, from >= 2 ? from - 2 : 0, used);
  }

  /** The buffer is full and what it holds is still incomplete: drop it and resync. */
  private bufferFull(flow: FlowState<K>): void {
    if (flow.resync) {
      this.stats.overflows++;
    } else {
      // A message whose header section does not fit in the buffer.
      this.oversize(flow, flow.buf, 0, flow.used);
      flow.resync = true;
    }
    this.stats.discardedBytes += flow.used;
    flow.used = 0;
    flow.need = 0;
    flow.scanned = 0;
  }

  private oversize(flow: FlowState<K>, buf: Uint8Array, offset: number, length: number): void {
    this.stats.oversizeMessages++;
    this.onOversize?.(flow.key, buf, offset, Math.min(length, this.maxFlowBytes));
  }

  /** Copies bytes to the end of the flow buffer, growing it (the caller keeps within maxFlowBytes). */
  private copyIn(flow: FlowState<K>, buf: Uint8Array, offset: number, length: number): void {
    if (flow.used + length > flow.buf.length) {
      let size = Math.max(flow.buf.length * 2, INITIAL_FLOW_BUFFER);
      while (size < flow.used + length) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.maxFlowBytes));
      grown.set(flow.buf.subarray(0, flow.used));
      flow.buf = grown;
    }
    flow.buf.set(buf.subarray(offset, offset + length), flow.used);
    flow.used += length;
  }

  /**
   * Emits every complete message in [start, end); returns the bytes consumed (messages,
   * keepalives, discarded). Leaves in `flow` what is known of the unfinished rest (need, lineSeen).
   */
  private extract(flow: FlowState<K>, buf: Uint8Array, start: number, end: number): number {
    let pos = start;
    const frame = this.frame;
    flow.need = 0;
    flow.lineSeen = false;
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
        flow.resync = true;
        const lineEnd = end - frame.offset > SIP_MAX_HEADER_BYTES ? sipStartLineEnd(buf, frame.offset, end) : -1;
        if (lineEnd >= 0) {
          // A SIP message whose header section outgrows the framer's cap: one oversize message.
          // Skip its whole start line (the tail of a request line can pass for one, "NVITE ...
          // SIP/2.0"); the search for the next start line skips the rest of the message.
          this.stats.keepaliveBytes += frame.keepaliveBytes;
          this.oversize(flow, buf, frame.offset, end - frame.offset);
          this.stats.discardedBytes += lineEnd - frame.offset;
          pos = lineEnd;
          continue;
        }
        this.stats.notSip++;
        // Skip the offending line start so the search moves on.
        this.stats.discardedBytes += frame.keepaliveBytes + 1;
        pos = frame.offset + 1;
        continue;
      }
      this.stats.keepaliveBytes += frame.keepaliveBytes;
      if (r === SipFraming.Partial) {
        if (frame.headerLength > 0 && frame.length > this.maxFlowBytes) {
          // Its headers say it can never fit: skip exactly its bytes, no resync needed.
          this.oversize(flow, buf, frame.offset, end - frame.offset);
          this.stats.discardedBytes += end - frame.offset;
          flow.skip = frame.length - (end - frame.offset);
          return end - start;
        }
        flow.need = frame.headerLength > 0 ? frame.length : 0;
        flow.lineSeen = flow.need > 0 || indexOfByte(buf, LF, frame.offset, end) >= 0;
        return frame.offset - start;
      }
      this.stats.messages++;
      this.sink(flow.key, buf, frame.offset, frame.length);
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

/** First index of `byte` in buf[from, end), or -1. */
function indexOfByte(buf: Uint8Array, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

/** True when buf[from, end) holds an LF followed by LF or CRLF (the empty line ending a header section). */
function hasHeaderEnd(buf: Uint8Array, from: number, end: number): boolean {
  for (let k = indexOfByte(buf, LF, from, end); k >= 0 && k + 1 < end; k = indexOfByte(buf, LF, k + 1, end)) {
    const c = buf[k + 1];
    if (c === LF || (c === CR && k + 2 < end && buf[k + 2] === LF)) return true;
  }
  return false;
}

/** When [start, end) begins with a complete SIP start line, the offset after its LF; otherwise -1. */
function sipStartLineEnd(buf: Uint8Array, start: number, end: number): number {
  const lf = indexOfByte(buf, LF, start, end);
  if (lf < 0) return -1;
  return isSipStartLine(buf, start, lf > start && buf[lf - 1] === CR ? lf - 1 : lf) ? lf + 1 : -1;
}
