import { buildIpFrame, ipFrameHeaderLength, ipv4PortKey, ipv6PortKey, Transport, TunnelType, type DecodedPacket, type IpFrameFields } from '@callscope/packet';
import { ChunkCompression, SpoolMode, SpoolRetention, SpoolWriter, ThreadedSpoolWriter, type SpoolCallRef, type SpoolPacketKind, type SpoolSink, type SpoolWriterStats } from '@callscope/pcap-store';
import { LinkType, type PacketRecord } from '@callscope/pcap-format';
import { parseRtpHeader, RtpHeader, RtpStatus } from '@callscope/rtp';
import type { CallPacketObserver } from '@callscope/call-engine';
import type { LogCallback } from '@callscope/runtime';

/** The spool as the sniffer's config describes it. */
export interface CallSpoolOptions {
  dir: string;
  /**
   * The sniffer's own sensor name: the spool key of the calls it sees itself. Calls of mirrored
   * sensors go through {@link CallSpool.forSensor} with the sender's name (as their CDRs do).
   */
  sensor?: string;
  mode: SpoolMode;
  compress: ChunkCompression;
  maxSizeBytes: number;
  maxAgeDays: number;
  /** Most open spool files (descriptor pool of the writer). */
  maxOpenFiles: number;
  /**
   * Delete by age and size (`maxAgeDays`, `maxSizeBytes`); default true. Offline analysis passes
   * false unless asked: it must not delete what it has just written.
   */
  retention?: boolean;
  /**
   * Script of the spool writer thread (see `spoolWorkerScript`): packets then go through a ring
   * to a worker that does the per-call copies and the disk writes on another core. Null or absent:
   * the writer runs on this thread.
   */
  workerScript?: URL | null;
  /**
   * The producer can wait (offline analysis): the writer thread runs at a lower priority than the
   * packet thread (see ThreadedSpoolWriterOptions.writerNice); nothing can be lost by it, as a
   * full ring makes the reader wait.
   */
  offline?: boolean;
  logger?: LogCallback;
}

/** A frame copied aside until we know which call it belongs to. */
interface HeldFrame {
  tsSec: number;
  tsNsec: number;
  linkType: number;
  origLen: number;
  data: Uint8Array;
  /** End of the RTP header in `data` for the `rtp_headers` cut; 0 = keep whole. */
  rtpHeaderEnd: number;
  /** Endpoint keys of source and destination (RTP ring) or the IP pair (fragments). */
  a: number | string;
  b: number | string;
}

/**
 * Nice value of an offline run's writer thread: at 10 the kernel gives a runnable packet thread
 * about nine tenths of a shared core (weights 1024 and 110), and the writer catches up through the
 * ring. Measured on the 10,000-call bench capture with a database on the same two cores: 9 of 12
 * alternating pairs faster, by a median 0.3-0.4 s of ~10.5 s; without the database, within the
 * noise (pcap-store's README, "The writer thread yields, offline").
 */
const OFFLINE_WRITER_NICE = 10;

/** Bounds of the two holding areas: recent enough, small enough, never unbounded. */
const MAX_HELD = 2048;
const MAX_HELD_BYTES = 4 * 1024 * 1024;
const HOLD_SECONDS = 5;
/**
 * Retention runs at most this often, on the wall clock: the throttle bounds the cost of a pass
 * (sorting the minute account, file-system calls), which is paid in real time. Packet time would be
 * wrong for that: `analyze` replays hours of capture per wall-clock second and would start a pass
 * per packet-minute, back to back. What a pass deletes is measured on the capture's clock instead
 * (see `capturedNowMs`).
 */
const RETENTION_EVERY_MS = 60_000;
/** Largest rebuilt HEP inner packet: IPv6 header + a 16-bit payload length (UDP or TCP inside). */
const MAX_REBUILT_FRAME = 40 + 0xffff;
/** TCP flags of a rebuilt HEP-over-TCP segment: ACK + PSH (data of an established connection). */
const REBUILT_TCP_FLAGS = 0x18;
const REBUILT_TCP_WINDOW = 0xffff;
/** Most TCP directions per call whose synthetic sequence numbers are kept (SIP over TCP uses 1-2). */
const MAX_TCP_FLOWS_PER_CALL = 16;

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

/** True when the packet arrived as HEP (v2/v3): its record holds the HEP datagram, not the packet. */
function isHep(p: DecodedPacket): boolean {
  if (p.tunnelDepth === 0) return false;
  const t = p.tunnelTypes[p.tunnelDepth - 1];
  return t === TunnelType.Hep2 || t === TunnelType.Hep3;
}

/** The writer's state per call number (see CallSpool.states). */
type CallStates = SpoolCallRef['spoolState'][];

/** What is written for one packet: the record as captured, or the rebuilt inner packet of HEP. */
interface SpoolFrame {
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  origLen: number;
  linkType: number;
  rtpHeaderEnd: number;
}

/** TCP numbers of a rebuilt HEP-over-TCP segment (HEP carries none; see `CallSpool.tcpFieldsFor`). */
interface RebuiltTcp extends IpFrameFields {
  tcpSeq: number;
  tcpAck: number;
  tcpFlags: number;
  tcpWindow: number;
}

/**
 * Every packet of every call into the per-call pcap spool (@callscope/pcap-store), including the
 * two kinds of packet the pipeline only recognises later: IP fragments (known once reassembled) and
 * RTP that arrives before the SDP naming its address (known once the call learns that address).
 * Both wait, copied, in small bounded holding areas.
 *
 * A packet received as HEP is stored as the packet HEP describes, not as the HEP datagram: a raw
 * IP frame (LINKTYPE_RAW) rebuilt from the inner addresses, ports and payload, stamped with the HEP
 * timestamp, so that Wireshark opening the call's pcap sees its SIP (and RTP) messages.
 *
 * In `rtp_headers` mode the cut point comes from the pipeline's decode (the payload offset it
 * found), so the writer never decodes a frame again.
 */
export class CallSpool implements CallPacketObserver {
  readonly writer: SpoolSink;
  private readonly retention: SpoolRetention | null;
  private readonly cutRtp: boolean;
  private readonly fragments = new HeldFrames();
  private readonly early = new HeldFrames();
  private lastRetention = 0;
  private retentionRun: Promise<void> | null = null;
  /** Newest packet time seen, epoch seconds: the capture's clock, for retention by age. */
  private newestPacketSec = 0;
  private readonly rtp = new RtpHeader();
  /** Reused output of the HEP frame builder (the writer copies what it keeps). */
  private rebuilt: Uint8Array | null = null;
  /**
   * The writer's state of each open call by the engine's call number, as `call.spoolState` was
   * after the call's first packet, passed back with every later one (see SpoolWriter.write's
   * `state`): at 10,000 open calls, reading it from the call's key object instead was a cache miss
   * per packet, 0.75 s of the packet thread per 4 million packets. Cleared at the call's end.
   */
  private readonly states: CallStates = [];
  private readonly frame: SpoolFrame = { tsSec: 0, tsNsec: 0, data: new Uint8Array(0), origLen: 0, linkType: 0, rtpHeaderEnd: 0 };
  /**
   * Next synthetic TCP sequence number per direction of each call's HEP-over-TCP segments. HEP
   * carries no TCP numbers; Wireshark takes segments with a repeated sequence number for
   * retransmissions and does not dissect them. Forgotten with the call (WeakMap on its key).
   */
  private readonly tcpSeq = new WeakMap<SpoolCallRef, Map<string, number>>();

  constructor(options: CallSpoolOptions) {
    this.cutRtp = options.mode === SpoolMode.RTP_HEADERS;
    const retention =
      options.retention === false
        ? null
        : new SpoolRetention({
            spoolDir: options.dir,
            maxBytes: options.maxSizeBytes,
            maxAgeDays: options.maxAgeDays,
            openMinutes: () => this.writer.openMinuteDirectories(),
            now: () => this.capturedNowMs(),
            ...(options.logger !== undefined ? { logger: options.logger } : {}),
          });
    this.retention = retention;
    const writerOptions = {
      spoolDir: options.dir,
      mode: options.mode,
      compression: options.compress,
      maxOpenFiles: options.maxOpenFiles,
      ...(options.sensor !== undefined ? { sensor: options.sensor } : {}),
      ...(retention !== null
        ? {
            onBytesWritten: (minute: string, bytes: number) => {
              retention.recordWrite(minute, bytes);
            },
          }
        : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    };
    const script = options.workerScript ?? null;
    this.writer =
      script === null ? new SpoolWriter(writerOptions) : new ThreadedSpoolWriter({ ...writerOptions, writerNice: options.offline === true ? OFFLINE_WRITER_NICE : 0 }, script);
  }

  /**
   * "Now" for retention by age, epoch ms: the newest packet time seen, so that analysing last
   * month's capture does not measure its calls against today. Never later than the wall clock: a
   * packet stamped in the future (a HEP sender's wrong clock) must not age out everything else.
   * Before any packet, 0: nothing is old yet.
   */
  private capturedNowMs(): number {
    return Math.min(this.newestPacketSec * 1000, Date.now());
  }

  /**
   * This spool as the packet observer of one mirrored sensor's pipeline: its calls are filed
   * under `sensor` (the name the pipeline gives their CDRs), so the same Call-ID at the same start
   * seen by two sensors stays two calls. The view shares the writer, holding areas and retention.
   */
  forSensor(sensor: string): CallPacketObserver {
    const bind = (call: SpoolCallRef): SpoolCallRef => {
      // Read by the writer at the call's first packet; the key object is the engine's, one per call.
      if (call.spoolState === undefined) call.sensor = sensor;
      return call;
    };
    // This sensor's pipeline numbers its calls on its own: its own array.
    const states: CallStates = [];
    return {
      onPacket: (call, kind, rec, p, callNumber) => {
        // Once its state is known here, the call's first packet has bound it: no need to read it.
        this.keep(states, states[callNumber] === undefined ? bind(call) : call, kind, rec, p, callNumber);
      },
      holdFragment: (rec, p) => {
        this.holdFragment(rec, p);
      },
      releaseFragments: (call, kind, p) => {
        this.releaseFragments(bind(call), kind, p);
      },
      holdUnmatched: (rec, p) => {
        this.holdUnmatched(rec, p);
      },
      claimEarlyMedia: (call, key, nowSec) => {
        this.claimEarlyMedia(bind(call), key, nowSec);
      },
      onCallEnd: (call, callNumber) => {
        this.end(states, call, callNumber);
      },
    };
  }

  /**
   * One packet of a known call. `callNumber` is the engine's (see CallPacketObserver.onPacket);
   * -1 when the caller has none (every packet then reads the writer's state from `call`).
   */
  onPacket(call: SpoolCallRef, kind: SpoolPacketKind, rec: PacketRecord, p: DecodedPacket, callNumber = -1): void {
    this.keep(this.states, call, kind, rec, p, callNumber);
  }

  private keep(states: CallStates, call: SpoolCallRef, kind: SpoolPacketKind, rec: PacketRecord, p: DecodedPacket, callNumber: number): void {
    if (p.tsSec > this.newestPacketSec) this.newestPacketSec = p.tsSec;
    const f = this.frameOf(call, rec, p, kind === 'rtp');
    const known = callNumber >= 0 ? states[callNumber] : undefined;
    this.writer.write(call, kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType, f.rtpHeaderEnd, known);
    // The writer's state after the call's first packet: later packets pass it (see `states`).
    if (known === undefined && callNumber >= 0) states[callNumber] = call.spoolState;
  }

  /** A fragment whose datagram is still incomplete: keep a copy until it is reassembled. */
  holdFragment(rec: PacketRecord, p: DecodedPacket): void {
    this.fragments.add(copyOf(rec, 0, addressKey(p, true), addressKey(p, false)));
  }

  /** The datagram `p` was reassembled and belongs to `call`: its earlier fragments go first. */
  releaseFragments(call: SpoolCallRef, kind: SpoolPacketKind, p: DecodedPacket): void {
    const src = addressKey(p, true);
    const dst = addressKey(p, false);
    const held = this.fragments.take(p.tsSec, (h) => h.a === src && h.b === dst);
    // HEP in a fragmented datagram: the fragments carry the HEP datagram, whose whole content the
    // rebuilt inner packet written next by onPacket holds. Writing them too would bring HEP back.
    if (isHep(p)) return;
    for (const f of held) this.writer.write(call, kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
  }

  /** RTP-looking UDP that matched no call yet: it may be early media of a call being set up. */
  holdUnmatched(rec: PacketRecord, p: DecodedPacket): void {
    if (p.tsSec > this.newestPacketSec) this.newestPacketSec = p.tsSec;
    const a = p.ipVersion === 4 ? ipv4PortKey(p.src4, p.srcPort) : ipv6PortKey(p.src6, p.srcPort);
    const b = p.ipVersion === 4 ? ipv4PortKey(p.dst4, p.dstPort) : ipv6PortKey(p.dst6, p.dstPort);
    if (!isHep(p)) {
      this.early.add(copyOf(rec, this.cutRtp ? this.rtpHeaderEnd(p, rec.data) : 0, a, b));
      return;
    }
    // Only UDP is held as early media, so no call's TCP numbers are involved.
    const f = this.rebuild(null, rec, p, this.cutRtp);
    this.early.add({ tsSec: f.tsSec, tsNsec: f.tsNsec, linkType: f.linkType, origLen: f.origLen, data: f.data.slice(), rtpHeaderEnd: f.rtpHeaderEnd, a, b });
  }

  /** A call learned a media address (SDP): held packets to or from it are that call's. */
  claimEarlyMedia(call: SpoolCallRef, endpointKey: number | string, nowSec: number): void {
    for (const f of this.early.take(nowSec, (h) => h.a === endpointKey || h.b === endpointKey)) {
      this.writer.write(call, 'rtp', f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType, f.rtpHeaderEnd);
    }
  }

  /** The frame to store for `p`: the record itself, or for HEP the rebuilt inner packet. */
  private frameOf(call: SpoolCallRef, rec: PacketRecord, p: DecodedPacket, rtp: boolean): SpoolFrame {
    if (isHep(p)) return this.rebuild(call, rec, p, rtp && this.cutRtp);
    const f = this.frame;
    f.tsSec = rec.tsSec;
    f.tsNsec = rec.tsNsec;
    // The reader's record is already its captured bytes: no view per packet (one allocation each, GC'd).
    f.data = rec.data.length === rec.capLen ? rec.data : rec.data.subarray(0, rec.capLen);
    f.origLen = rec.origLen;
    f.linkType = rec.linkType;
    f.rtpHeaderEnd = rtp && this.cutRtp ? this.rtpHeaderEnd(p, rec.data) : 0;
    return f;
  }

  /**
   * End of the RTP header in the stored frame, for the `rtp_headers` cut: where the payload starts
   * in that frame + the RTP header length. `at` is the captured frame (the payload must lie in it,
   * `p.payload === at`, not in a reassembly buffer: then the decoder's offset is a frame offset) or
   * the payload offset in a rebuilt frame. 0 when the cut cannot be proven (reassembled, not UDP,
   * not RTP version 2, header running past the payload): the frame is kept whole.
   */
  private rtpHeaderEnd(p: DecodedPacket, at: Uint8Array | number): number {
    if (p.transport !== Transport.Udp || (typeof at !== 'number' && p.payload !== at)) return 0;
    const rtp = this.rtp;
    if (parseRtpHeader(p.payload, p.payloadOffset, p.payloadLength, rtp) !== RtpStatus.Ok) return 0;
    return (typeof at === 'number' ? at : p.payloadOffset) + rtp.headerLength;
  }

  /**
   * The packet a HEP message describes, as a raw IP frame (LINKTYPE_RAW) from the decoded inner
   * addresses, ports and payload, with the HEP timestamp (the DecodedPacket's time, which HEP
   * overrides when it carries one). Falls back to the record as captured when no frame can be
   * built (inner protocol neither UDP nor TCP): storing the datagram beats storing nothing.
   *
   * @param call - the call whose TCP numbers to continue, or null for UDP held as early media
   */
  private rebuild(call: SpoolCallRef | null, rec: PacketRecord, p: DecodedPacket, cut: boolean): SpoolFrame {
    const f = this.frame;
    const header = ipFrameHeaderLength(p, p.payloadLength);
    if (header === 0) {
      f.tsSec = p.tsSec;
      f.tsNsec = p.tsNsec;
      f.data = rec.data.subarray(0, rec.capLen);
      f.origLen = rec.origLen;
      f.linkType = rec.linkType;
      f.rtpHeaderEnd = 0;
      return f;
    }
    this.rebuilt ??= new Uint8Array(MAX_REBUILT_FRAME);
    const fields = p.transport === Transport.Tcp ? this.tcpFieldsFor(call, p) : p;
    const n = buildIpFrame(fields, p.payload, p.payloadOffset, p.payloadLength, this.rebuilt, 0);
    f.tsSec = p.tsSec;
    f.tsNsec = p.tsNsec;
    f.data = this.rebuilt.subarray(0, n);
    f.origLen = n;
    f.linkType = LinkType.Raw;
    f.rtpHeaderEnd = cut ? this.rtpHeaderEnd(p, header) : 0;
    return f;
  }

  /**
   * TCP numbers for a rebuilt HEP-over-TCP segment: sequence numbers continuing per direction
   * within the call (from 1), ACK + PSH. The decoder's TCP fields belong to no inner segment here
   * (HEP has none), so they are not used.
   */
  private tcpFieldsFor(call: SpoolCallRef | null, p: DecodedPacket): RebuiltTcp {
    const src = p.ipVersion === 4 ? ipv4PortKey(p.src4, p.srcPort) : ipv6PortKey(p.src6, p.srcPort);
    const dst = p.ipVersion === 4 ? ipv4PortKey(p.dst4, p.dstPort) : ipv6PortKey(p.dst6, p.dstPort);
    const direction = `${src}>${dst}`;
    let flows = call === null ? undefined : this.tcpSeq.get(call);
    if (call !== null && flows === undefined) {
      flows = new Map();
      this.tcpSeq.set(call, flows);
    }
    const seq = flows?.get(direction) ?? 1;
    if (flows !== undefined && (flows.has(direction) || flows.size < MAX_TCP_FLOWS_PER_CALL)) {
      flows.set(direction, (seq + p.payloadLength) >>> 0);
    }
    return {
      ipVersion: p.ipVersion,
      src4: p.src4,
      dst4: p.dst4,
      src6: p.src6,
      dst6: p.dst6,
      transport: Transport.Tcp,
      srcPort: p.srcPort,
      dstPort: p.dstPort,
      tcpSeq: seq,
      tcpAck: 1,
      tcpFlags: REBUILT_TCP_FLAGS,
      tcpWindow: REBUILT_TCP_WINDOW,
    };
  }

  /** True when the writer holds half its memory bound: a reader that can wait should `drain()`. */
  get needsPause(): boolean {
    return this.writer.bufferedBytes > this.writer.maxBufferedBytes / 2;
  }

  /**
   * Offline back-pressure (live capture never waits): hands the oldest chunks to the disk and
   * resolves once the memory held is back under 3/8 of the cap, while the writes go on.
   */
  drain(): Promise<void> {
    return this.writer.relieve();
  }

  /** The call's CDR was written: flush and close its files. Failures are counted by the writer. */
  onCallEnd(call: SpoolCallRef, callNumber = -1): void {
    this.end(this.states, call, callNumber);
  }

  private end(states: CallStates, call: SpoolCallRef, callNumber: number): void {
    // Forgotten before endCall makes it stale; the engine gives the number to its next call.
    if (callNumber >= 0) states[callNumber] = undefined;
    void this.writer.endCall(call);
    void this.maybeRunRetention();
  }

  /**
   * Retention in the background, at most once a minute (wall clock, see RETENTION_EVERY_MS),
   * never two at once; nothing when the spool was opened with `retention: false`.
   */
  maybeRunRetention(force = false): Promise<void> {
    const retention = this.retention;
    if (retention === null) return Promise.resolve();
    const now = Date.now();
    if (this.retentionRun === null && (force || now - this.lastRetention >= RETENTION_EVERY_MS)) {
      this.lastRetention = now;
      this.retentionRun = retention.run().finally(() => {
        this.retentionRun = null;
      });
    }
    return this.retentionRun ?? Promise.resolve();
  }

  stats(): SpoolWriterStats & { fragmentsDropped: number; earlyDropped: number } {
    return { ...this.writer.stats(), fragmentsDropped: this.fragments.dropped, earlyDropped: this.early.dropped };
  }

  /** CPU seconds of the spool writer's own thread (see SpoolSink); null when it runs on the packet thread. */
  writerThreadCpuSeconds(): number | null {
    return this.writer.writerThreadCpuSeconds();
  }

  /**
   * Closes every call's files, then runs one last retention pass. A pass started earlier (by a
   * call's end) saw calls still open and skipped their minutes: it is awaited first, so the final
   * pass always sees the spool as closed.
   */
  async close(): Promise<void> {
    await this.writer.close();
    if (this.retentionRun !== null) await this.retentionRun;
    await this.maybeRunRetention(true);
  }
}

function copyOf(rec: PacketRecord, rtpHeaderEnd: number, a: number | string, b: number | string): HeldFrame {
  return { tsSec: rec.tsSec, tsNsec: rec.tsNsec, linkType: rec.linkType, origLen: rec.origLen, data: rec.data.slice(0, rec.capLen), rtpHeaderEnd, a, b };
}
