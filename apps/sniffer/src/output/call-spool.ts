import { ipv4PortKey, ipv6PortKey, type DecodedPacket } from '@callscope/packet';
import { SpoolRetention, SpoolWriter, type SpoolCallRef, type SpoolLogger, type SpoolMode, type SpoolPacketKind, type SpoolWriterStats } from '@callscope/pcap-store';
import type { PacketRecord } from '@callscope/pcap-format';
import type { CallPacketObserver } from '@callscope/call-engine';

/** The spool as the sniffer's config describes it. */
export interface CallSpoolOptions {
  dir: string;
  mode: SpoolMode;
  compress: boolean;
  maxSizeBytes: number;
  maxAgeDays: number;
  /** Most open spool files (descriptor pool of the writer). */
  maxOpenFiles: number;
  logger?: SpoolLogger;
}

/** A frame copied aside until we know which call it belongs to. */
interface HeldFrame {
  tsSec: number;
  tsNsec: number;
  linkType: number;
  origLen: number;
  data: Uint8Array;
  /** Endpoint keys of source and destination (RTP ring) or the IP pair (fragments). */
  a: number | string;
  b: number | string;
}

/** Bounds of the two holding areas: recent enough, small enough, never unbounded. */
const MAX_HELD = 2048;
const MAX_HELD_BYTES = 4 * 1024 * 1024;
const HOLD_SECONDS = 5;
/** Retention runs at most this often (wall clock). */
const RETENTION_EVERY_MS = 60_000;

/** A bounded FIFO of copied frames, dropping the oldest (counted) when full or stale. */
class HeldFrames {
  private frames: HeldFrame[] = [];
  private bytes = 0;
  dropped = 0;

  add(f: HeldFrame): void {
    this.frames.push(f);
    this.bytes += f.data.length;
    while (this.frames.length > MAX_HELD || this.bytes > MAX_HELD_BYTES) this.dropOldest();
  }

  /** Removes and returns the frames matching `match`, oldest first; forgets stale ones. */
  take(nowSec: number, match: (f: HeldFrame) => boolean): HeldFrame[] {
    while (this.frames.length > 0 && nowSec - this.frames[0]!.tsSec > HOLD_SECONDS) this.dropOldest();
    if (this.frames.length === 0) return [];
    const hit: HeldFrame[] = [];
    const keep: HeldFrame[] = [];
    for (const f of this.frames) (match(f) ? hit : keep).push(f);
    if (hit.length > 0) {
      this.frames = keep;
      for (const f of hit) this.bytes -= f.data.length;
    }
    return hit;
  }

  private dropOldest(): void {
    const f = this.frames.shift();
    if (f !== undefined) {
      this.bytes -= f.data.length;
      this.dropped++;
    }
  }
}

const addressKey = (p: DecodedPacket, src: boolean): number | string =>
  p.ipVersion === 4 ? (src ? p.src4 : p.dst4) : ipv6PortKey(src ? p.src6 : p.dst6, 0);

/**
 * Every packet of every call into the per-call pcap spool (@callscope/pcap-store), including the
 * two kinds of packet the pipeline only recognises later: IP fragments (known once reassembled) and
 * RTP that arrives before the SDP naming its address (known once the call learns that address).
 * Both wait, copied, in small bounded holding areas.
 */
export class CallSpool implements CallPacketObserver {
  readonly writer: SpoolWriter;
  private readonly retention: SpoolRetention;
  private readonly fragments = new HeldFrames();
  private readonly early = new HeldFrames();
  private lastRetention = 0;
  private retentionRun: Promise<void> | null = null;

  constructor(options: CallSpoolOptions) {
    this.retention = new SpoolRetention({
      spoolDir: options.dir,
      maxBytes: options.maxSizeBytes,
      maxAgeDays: options.maxAgeDays,
      openMinutes: () => this.writer.openMinuteDirectories(),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    });
    this.writer = new SpoolWriter({
      spoolDir: options.dir,
      mode: options.mode,
      gzip: options.compress,
      maxOpenFiles: options.maxOpenFiles,
      onBytesWritten: (minute, bytes) => {
        this.retention.recordWrite(minute, bytes);
      },
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    });
  }

  /** One packet of a known call. */
  onPacket(call: SpoolCallRef, kind: SpoolPacketKind, rec: PacketRecord): void {
    this.writer.write(call, kind, rec.tsSec, rec.tsNsec, rec.data.subarray(0, rec.capLen), rec.origLen, rec.linkType);
  }

  /** A fragment whose datagram is still incomplete: keep a copy until it is reassembled. */
  holdFragment(rec: PacketRecord, p: DecodedPacket): void {
    this.fragments.add(copyOf(rec, addressKey(p, true), addressKey(p, false)));
  }

  /** The datagram `p` was reassembled and belongs to `call`: its earlier fragments go first. */
  releaseFragments(call: SpoolCallRef, kind: SpoolPacketKind, p: DecodedPacket): void {
    const src = addressKey(p, true);
    const dst = addressKey(p, false);
    for (const f of this.fragments.take(p.tsSec, (h) => h.a === src && h.b === dst)) {
      this.writer.write(call, kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    }
  }

  /** RTP-looking UDP that matched no call yet: it may be early media of a call being set up. */
  holdUnmatched(rec: PacketRecord, p: DecodedPacket): void {
    const a = p.ipVersion === 4 ? ipv4PortKey(p.src4, p.srcPort) : ipv6PortKey(p.src6, p.srcPort);
    const b = p.ipVersion === 4 ? ipv4PortKey(p.dst4, p.dstPort) : ipv6PortKey(p.dst6, p.dstPort);
    this.early.add(copyOf(rec, a, b));
  }

  /** A call learned a media address (SDP): held packets to or from it are that call's. */
  claimEarlyMedia(call: SpoolCallRef, endpointKey: number | string, nowSec: number): void {
    for (const f of this.early.take(nowSec, (h) => h.a === endpointKey || h.b === endpointKey)) {
      this.writer.write(call, 'rtp', f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    }
  }

  /** True when the writer holds half its memory bound: a reader that can wait should `drain()`. */
  get needsPause(): boolean {
    return this.writer.bufferedBytes > this.writer.maxBufferedBytes / 2;
  }

  /** Writes out what is buffered (offline back-pressure; live capture never waits). */
  drain(): Promise<void> {
    return this.writer.flush();
  }

  /** The call's CDR was written: flush and close its files. Failures are counted by the writer. */
  onCallEnd(call: SpoolCallRef): void {
    void this.writer.endCall(call);
    void this.maybeRunRetention();
  }

  /** Retention in the background, at most once a minute, never two at once. */
  maybeRunRetention(force = false): Promise<void> {
    const now = Date.now();
    if (this.retentionRun === null && (force || now - this.lastRetention >= RETENTION_EVERY_MS)) {
      this.lastRetention = now;
      this.retentionRun = this.retention.run().finally(() => {
        this.retentionRun = null;
      });
    }
    return this.retentionRun ?? Promise.resolve();
  }

  stats(): SpoolWriterStats & { fragmentsDropped: number; earlyDropped: number } {
    return { ...this.writer.stats(), fragmentsDropped: this.fragments.dropped, earlyDropped: this.early.dropped };
  }

  async close(): Promise<void> {
    await this.writer.close();
    await this.maybeRunRetention(true);
  }
}

function copyOf(rec: PacketRecord, a: number | string, b: number | string): HeldFrame {
  return { tsSec: rec.tsSec, tsNsec: rec.tsNsec, linkType: rec.linkType, origLen: rec.origLen, data: rec.data.slice(0, rec.capLen), a, b };
}
