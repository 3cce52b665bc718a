import type { CallKey } from './call-observers.js';
import { formatIp, ipv4PortKey, ipv6PortKey, type DecodedPacket } from '@callscope/packet';
import { PayloadTypeMap, RtcpCompound, RtcpSessionStats, RtcpStatus, RtpHeader, RtpStatus, parseRtcpCompound, parseRtpHeader } from '@callscope/rtp';
import { buildCallRecord } from './call-record.js';
import { Call, CallDropCounts, CallPhase, type CallStream, type MediaEndpoint } from './call.js';
import { appended } from './compact-values.js';
import { NumericKeyIndex } from './endpoint-index.js';
import { LegIndex } from './leg-index.js';
import { endpointKeyFromText } from './endpoint-key.js';
import { MediaStream } from './media-stream.js';
import { PacketClock } from './packet-clock.js';
import type { SdpInfo, SdpPayload, SipEvent } from './sip-event.js';
import { toMicros, type CallRecord, type CallSide, type EndReason } from '@callscope/cdr-model';

/** Limits and timeouts of the call table; all times are packet time, so offline and live agree. */
export interface CallTableOptions {
  /** Sensor name written into every record. */
  sensor: string;
  /** Most calls followed at once; past it the oldest is closed as `evicted` (counted). */
  maxOpenCalls: number;
  /** Most streams per call; further streams are counted, not tracked. */
  maxStreamsPerCall: number;
  /** An unanswered call with no final response closes after this long without SIP. */
  noAnswerTimeoutS: number;
  /** An answered call without BYE closes after this long without SIP or RTP. */
  rtpTimeoutS: number;
  /** Any call closes this long after its INVITE. */
  absoluteTimeoutS: number;
  /**
   * A BYE without a final response closes the call this long after the first BYE: RFC 3261 Timer F
   * (64 x T1 = 32 s with T1 = 500 ms, the default), the time its sender keeps retransmitting it, so
   * every retransmission belongs to the call (issue 19, finding 2: 20 s cut off the last two).
   */
  byeTimeoutS: number;
  /** A finished call stays this long for late RTP and retransmissions before its CDR is written. */
  lingerS: number;
  /** Also match RTP sent from the SIP source address to the SDP port (signalling behind NAT). */
  acceptRtpFromSipSource: boolean;
  /**
   * A carrier's own headers that link call legs (e.g. `X-Correlation-ID`), read from every SIP
   * message (at most 8): their values are in each record's `correlation` and link open legs
   * that share one (`linked_legs`).
   */
  correlationHeaders: readonly string[];
}

/** Defaults a VoIP engineer expects (VoIPmonitor-like timeouts). */
export const DEFAULT_CALL_TABLE_OPTIONS: CallTableOptions = {
  sensor: 'sensor1',
  maxOpenCalls: 200_000,
  maxStreamsPerCall: 64,
  noAnswerTimeoutS: 300,
  rtpTimeoutS: 300,
  absoluteTimeoutS: 4 * 3600,
  byeTimeoutS: 32,
  lingerS: 5,
  acceptRtpFromSipSource: false,
  correlationHeaders: [],
};

/** Optional observers of the table (the pcap spool uses them). */
export interface CallTableHooks {
  /** A call learned a media address from SDP (offer, answer, re-INVITE). */
  onEndpoint?: (call: Call, key: number | string) => void;
  /** A call was closed; its record has just been handed to `onCall`. */
  onClose?: (call: Call) => void;
}

/** What the table counts: nothing it discards goes unseen. */
export interface CallTableCounters {
  callsOpened: number;
  callsClosed: number;
  callsEvicted: number;
  sipMessages: number;
  /** Requests/responses of a Call-ID without an initial INVITE seen (mid-dialog, OPTIONS...). */
  sipOutOfDialog: number;
  rtpPackets: number;
  rtcpPackets: number;
  /** UDP that looked like RTP (version 2) but matched no call's SDP. */
  rtpWithoutCall: number;
  /** RTP packets of streams past the per-call stream cap (not tracked; marked on the call's record). */
  streamsOverCap: number;
  /** RTP on a call's media address whose header did not parse. */
  rtpMalformed: number;
  /** RTCP on a call's media address (or muxed) that did not parse as a compound. */
  rtcpMalformed: number;
  /** UDP on a call's media address that is neither RTP nor RTCP (STUN, keepalives, shorter than 8 bytes). */
  mediaNotRtp: number;
  /**
   * Packets (SIP or UDP) dated more than the clock's `maxStepS` away from packet time that the
   * traffic did not confirm: lone bad timestamps, which do not drive timeouts (see PacketClock).
   * Read from the table's clock: shared with the register table when the pipeline shares one.
   */
  readonly clockOutliers: number;
  /** Steps of packet time (forward or backward) the traffic confirmed: the capture clock itself jumped. */
  readonly clockSteps: number;
  /**
   * RTP packets of a call (counted in `rtpPackets`, kept with the call) left out of their
   * stream's statistics: off the clock and more than `maxStepS` from the stream's previous
   * packet, a jitter or duration they would make absurd.
   */
  rtpClockOutliers: number;
  /**
   * Media endpoints a call dropped past MAX_ENDPOINTS_PER_CALL new addresses (its oldest first):
   * re-INVITEs with a new port each time would otherwise grow a call and the index without bound.
   */
  endpointsEvicted: number;
  /**
   * INVITEs that would have opened a call while memory shedding refused new calls (level 2, see
   * {@link CallTable.shedLoad}): no record is written for them, and their later messages count as
   * out of dialog.
   */
  callsRefusedMemory: number;
  /**
   * RTP packets of streams not created while memory shedding held every call at the streams it
   * had (level 1 or more); marked on the call's record as over the stream cap.
   */
  rtpShedMemory: number;
  /** Final responses a call did not keep past MAX_SIP_RESPONSES_PER_CALL (re-INVITE floods). */
  sipResponsesOverCap: number;
  /** SIP INFO digits a call did not keep past MAX_INFO_DTMF_PER_CALL. */
  infoDtmfOverCap: number;
  /** Fork branches (To-tags, INVITE addresses) a call did not keep past MAX_BRANCHES_PER_CALL. */
  branchesOverCap: number;
  /** Leg links not recorded (see LegIndex.overCap): a call already naming 16 legs, or an identifier shared by 64 open calls. */
  readonly linkedLegsOverCap: number;
}

/**
 * How much the table sheds under memory pressure (the daemon's memory watchdog sets it): 0 tracks
 * everything; 1 creates no new RTP streams (packets of new streams are counted, the call marked);
 * 2 also opens no new calls (counted). Calls and streams already tracked go on being tracked: the
 * point is to stop growth, not to lose what is measured.
 */
export type ShedLevel = 0 | 1 | 2;

const SWEEP_INTERVAL_US = 1_000_000;

/**
 * Most media addresses one call keeps (RTP and RTCP of each m= line of offer and answer, and those
 * re-INVITEs add: a few to a few dozen in real calls). Past it the call's oldest address goes.
 */
const MAX_ENDPOINTS_PER_CALL = 64;

/**
 * Calls by Call-ID, media endpoints from their SDP, and the timeouts that close them. Consumers
 * get one {@link CallRecord} per call through `onCall`.
 */
export class CallTable {
  private readonly calls = new Map<string, Call>();
  /** IPv4 media endpoints by `ipv4PortKey`: the per-packet lookup. */
  private readonly endpoints4 = new NumericKeyIndex<MediaEndpoint, CallStream>();
  /** IPv6 media endpoints by `ipv6PortKey` text. */
  private readonly endpoints6 = new Map<string, MediaEndpoint>();
  /** Packet time of the last sweep: the next one runs a second later (or after a backward step). */
  private lastSweepUs = 0;
  /** Packet time (see PacketClock): may be shared with the register table. */
  readonly clock: PacketClock;
  readonly counters: CallTableCounters;
  /** Payload-type maps shared by identical rtpmap sets (read-only once built). */
  private readonly payloadMaps = new Map<string, PayloadTypeMap>();
  private readonly rtp = new RtpHeader();
  private readonly rtcp = new RtcpCompound();

  /** Whether the last packet `onUdp` attributed to a call was RTCP (else RTP or other media). */
  lastWasRtcp = false;
  /**
   * The last accepted UDP packet's call; null when it is the call of the stream hinted at
   * endpoint slot `udpSlot` (a number: no pointer stored per packet, see lastUdpCall).
   */
  private udpCall: Call | null = null;
  private udpSlot = -1;
  /** See {@link ShedLevel}; read on the rare paths only (a new call, a new stream). */
  private shed: ShedLevel = 0;
  /**
   * Open calls' keys by call number (see Call.number); null at the numbers in `freeNumbers`. A
   * packet observer's key is read here, a short dense array, not through the stream or call.
   */
  private readonly keysByNumber: (CallKey | null)[] = [];
  /** Numbers of closed calls, reused before a new one is taken (the numbers stay dense). */
  private readonly freeNumbers: number[] = [];
  /** Open calls by the identifiers that link legs (X-CID, Session-ID, icid, correlation headers). */
  private readonly legs = new LegIndex();
  private readonly openByCallId = (callId: string): Call | undefined => this.calls.get(callId);

  /**
   * @param clock packet time; pass the register table's to give both tables one time (then each
   *   packet is observed once, by the table it goes to). Default: a clock of the table's own.
   */
  constructor(
    private readonly options: CallTableOptions,
    private readonly onCall: (record: CallRecord) => void,
    private readonly hooks: CallTableHooks = {},
    clock: PacketClock = new PacketClock(),
  ) {
    this.clock = clock;
    const legs = this.legs;
    this.counters = {
      callsOpened: 0,
      callsClosed: 0,
      callsEvicted: 0,
      sipMessages: 0,
      sipOutOfDialog: 0,
      rtpPackets: 0,
      rtcpPackets: 0,
      rtpWithoutCall: 0,
      streamsOverCap: 0,
      rtpMalformed: 0,
      rtcpMalformed: 0,
      mediaNotRtp: 0,
      // Enumerable getters: stats that copy the counters (Object.entries) read the clock's values.
      get clockOutliers() {
        return clock.outliers;
      },
      get clockSteps() {
        return clock.steps;
      },
      rtpClockOutliers: 0,
      endpointsEvicted: 0,
      callsRefusedMemory: 0,
      rtpShedMemory: 0,
      sipResponsesOverCap: 0,
      infoDtmfOverCap: 0,
      branchesOverCap: 0,
      get linkedLegsOverCap() {
        return legs.overCap;
      },
    };
  }

  /**
   * A SIP message of call `callId` was too large to reassemble (TCP): marked on that call's record.
   * False when no open call has that Call-ID.
   */
  markSipOversize(callId: string): boolean {
    const call = this.calls.get(callId);
    if (call === undefined) return false;
    dropsOf(call).sipOversize++;
    return true;
  }

  /**
   * Memory pressure (the daemon's watchdog): see {@link ShedLevel}. Takes effect from the next
   * packet; level 0 tracks new calls and streams again.
   */
  shedLoad(level: ShedLevel): void {
    this.shed = level;
  }

  /** The current {@link ShedLevel}. */
  get shedLevel(): ShedLevel {
    return this.shed;
  }

  /** The open calls, oldest first (the live view reads them; never per packet). */
  openCallList(): IterableIterator<Call> {
    return this.calls.values();
  }

  /** The open call with this Call-ID, or undefined. */
  openCall(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  /** Calls open now (including finished ones lingering for late packets). */
  get openCalls(): number {
    return this.calls.size;
  }

  /** RTP streams of the open calls (walks the table: for stats and benchmarks, not per packet). */
  openStreams(): number {
    let n = 0;
    for (const call of this.calls.values()) n += call.streams.length;
    return n;
  }

  /**
   * Feed one SIP message of an INVITE dialog (REGISTER and others go to their own tables).
   * Returns the call it belongs to, or null when it belongs to none.
   */
  onSip(ev: SipEvent): Call | null {
    this.counters.sipMessages++;
    this.observe(ev.tsUs);
    let call = this.calls.get(ev.callId);
    if (call === undefined) {
      if (!(ev.isRequest && ev.method === 'INVITE' && ev.toTag === null)) {
        this.counters.sipOutOfDialog++;
        return null;
      }
      if (this.shed >= 2) {
        this.counters.callsRefusedMemory++;
        return null;
      }
      if (this.calls.size >= this.options.maxOpenCalls) this.evictOldest();
      call = new Call(ev);
      call.number = this.freeNumbers.pop() ?? this.keysByNumber.length;
      this.keysByNumber[call.number] = call.key;
      // The call's own copy of the Call-ID: the event's is cut out of the whole SIP header.
      this.calls.set(call.callId, call);
      this.counters.callsOpened++;
      this.legs.opened(call);
    }
    const responses = call.sipResponsesOverCap;
    const digits = call.infoDtmfOverCap;
    const branches = call.branchesOverCap;
    const ended = call.applySip(ev);
    this.counters.sipResponsesOverCap += call.sipResponsesOverCap - responses;
    this.counters.infoDtmfOverCap += call.infoDtmfOverCap - digits;
    this.counters.branchesOverCap += call.branchesOverCap - branches;
    if (ev.xCid !== null || ev.sessionId !== null || ev.icid !== null || ev.correlation !== null) {
      const learned = call.learnLegIds(ev, this.options.correlationHeaders);
      if (learned !== 0) this.legs.learned(call, learned, this.openByCallId);
    }
    if (ev.sdp !== null) this.learnSdp(call, ev, ev.sdp);
    if (ended) call.closeAtUs = ev.tsUs + this.options.lingerS * 1e6;
    return call;
  }

  /**
   * Offer one UDP packet: when its address matches a call's SDP it is that call's RTP/RTCP and
   * the call is returned (`lastWasRtcp` tells which), else null. Allocates nothing for IPv4
   * packets of known streams.
   */
  onUdp(pkt: DecodedPacket): Call | null {
    return this.acceptUdp(pkt) ? this.lastUdpCall() : null;
  }

  /**
   * {@link CallTable.onUdp} without producing the call: true when the packet was a call's (then
   * {@link CallTable.lastUdpCall} is that call). The packet path of a known IPv4 stream never
   * reads the stream or call object: the endpoint slot gives the stream's state block.
   */
  acceptUdp(pkt: DecodedPacket): boolean {
    const tsUs = toMicros(pkt.tsSec, pkt.tsNsec);
    // Off the clock (a lone bad timestamp, or a step the traffic has not confirmed yet): still the
    // call's packet, and its time still stamps the endpoint (the sweep takes the latest activity,
    // so a call whose RTP goes on across a real step is not timed out by it); only its stream's
    // statistics may refuse it (onRtpOffFastPath).
    const onClock = this.observe(tsUs);
    const buf = pkt.payload;
    const off = pkt.payloadOffset;
    const len = pkt.payloadLength;
    // The endpoint is read only when needed: for IPv4 the slot's stamp, hint (its last stream)
    // and tag (that stream's state block) carry what a packet of a known stream needs, so the
    // common case touches neither the endpoint, nor the stream or call object (dependent cache
    // misses less per packet at 40,000 endpoints).
    let ep: MediaEndpoint | undefined;
    let slot = -1;
    let sentByOwner = false;
    let last: CallStream | null;
    // The last stream's state block, from the slot's line (-1: none, or not IPv4).
    let block = -1;
    let rtcp: boolean;
    this.udpCall = null;
    if (pkt.ipVersion === 4) {
      const index = this.endpoints4;
      slot = index.find(ipv4PortKey(pkt.dst4, pkt.dstPort));
      if (slot < 0) {
        slot = index.find(ipv4PortKey(pkt.src4, pkt.srcPort));
        sentByOwner = true;
      }
      if (slot < 0) return this.noCall(buf, off, len);
      // Media activity is read by the sweep; writing it here would touch the call object. A
      // packet of the slot's last stream (the fast path below) leaves its time in the stream's
      // statistics instead, so the stamp is written only off that path.
      block = index.tagAt(slot);
      if (block < 0) index.setStampAt(slot, tsUs);
      last = index.hintAt(slot);
      if (last !== null) {
        // A hint is only set on the RTP path, which an RTCP endpoint never reaches. The call is
        // the hint's: resolved only when asked for (lastUdpCall).
        this.udpSlot = slot;
        rtcp = false;
      } else {
        ep = index.valueAt(slot);
        this.udpCall = ep.call;
        rtcp = ep.rtcp;
      }
    } else {
      if (pkt.ipVersion === 6) {
        ep = this.endpoints6.get(ipv6PortKey(pkt.dst6, pkt.dstPort));
        if (ep === undefined) {
          ep = this.endpoints6.get(ipv6PortKey(pkt.src6, pkt.srcPort));
          sentByOwner = true;
        }
      }
      if (ep === undefined) return this.noCall(buf, off, len);
      ep.lastUs = tsUs;
      last = ep.last;
      this.udpCall = ep.call;
      rtcp = ep.rtcp;
    }
    this.lastWasRtcp = rtcp;
    if (len < 8 || (buf[off]! & 0xc0) !== 0x80) {
      // On a media port but not RTP/RTCP (ICE/STUN, NAT keepalives): still the call's, counted.
      this.counters.mediaNotRtp++;
      return this.stampedLate(block, slot, tsUs);
    }
    const secondByte = buf[off + 1]!;
    // RFC 5761 §4: with rtcp-mux, payload types 64-95 (byte 192-223 with marker) are RTCP.
    if (rtcp || (secondByte >= 192 && secondByte <= 223)) {
      this.stampedLate(block, slot, tsUs);
      return this.onRtcp(pkt);
    }
    const h = this.rtp;
    if (parseRtpHeader(buf, off, len, h) !== RtpStatus.Ok) {
      this.counters.rtpMalformed++;
      dropsOf(this.lastUdpCall()).rtpMalformed++;
      return this.stampedLate(block, slot, tsUs);
    }
    this.counters.rtpPackets++;
    // The common case: the slot's last stream, matched and updated through its state block
    // without reading the stream object first (its state block number came with the slot).
    if (block >= 0 && onClock && MediaStream.matchesAt(block, h.ssrc, pkt.src4, pkt.dst4, pkt.srcPort, pkt.dstPort)) {
      MediaStream.onPacketAt(last!, block, h, pkt.tsSec, pkt.tsNsec, buf, h.payloadOffset, h.payloadLength);
      return true;
    }
    this.stampedLate(block, slot, tsUs);
    return this.onRtpOffFastPath(pkt, ep ?? this.endpoints4.valueAt(slot), slot, sentByOwner, last, onClock);
  }

  // The rarer paths of acceptUdp, kept out of it so that the per-packet code stays small.

  /** RTP of a stream other than the endpoint's last one, or of an endpoint without one yet. */
  private onRtpOffFastPath(pkt: DecodedPacket, ep: MediaEndpoint, slot: number, sentByOwner: boolean, last: CallStream | null, onClock: boolean): true {
    const h = this.rtp;
    let stream = last;
    if (stream === null || !stream.matches(h.ssrc, pkt.ipVersion, pkt.src4, pkt.dst4, pkt.src6, pkt.dst6, pkt.srcPort, pkt.dstPort)) {
      const side: CallSide = sentByOwner ? ep.owner : ep.owner === 'caller' ? 'callee' : 'caller';
      // Resolved now: the hint that names the call may be replaced below (by null past the stream cap).
      const call = this.lastUdpCall();
      this.udpCall = call;
      stream = this.streamOf(call, pkt, h.ssrc, side, ep.payloadTypes);
      ep.last = stream;
      if (slot >= 0) this.endpoints4.setHintAt(slot, stream, stream === null ? -1 : stream.stateBlock, stream === null ? -1 : call.number);
    }
    if (stream === null) return true;
    if (!onClock && stream.packets > 0 && this.farFromStream(stream, pkt)) {
      // Off the clock and off its own stream's time: a lone bad timestamp. A stream on a clock of
      // its own (a HEP agent set minutes off) is near its previous packet and still measured.
      this.counters.rtpClockOutliers++;
      return true;
    }
    stream.onPacket(h, pkt.tsSec, pkt.tsNsec, pkt.payload, h.payloadOffset, h.payloadLength);
    return true;
  }

  /** Whether `pkt` is more than the clock's step limit from `stream`'s previous packet. */
  private farFromStream(stream: CallStream, pkt: DecodedPacket): boolean {
    const d = toMicros(pkt.tsSec, pkt.tsNsec) - toMicros(stream.lastSec, stream.lastNsec);
    return d > this.clock.maxStepUs || d < -this.clock.maxStepUs;
  }

  /** An RTCP compound on a call's media address (its own port, or muxed with RTP). */
  private onRtcp(pkt: DecodedPacket): true {
    this.lastWasRtcp = true;
    if (parseRtcpCompound(pkt.payload, pkt.payloadOffset, pkt.payloadLength, this.rtcp) !== RtcpStatus.Ok) {
      this.counters.rtcpMalformed++;
      dropsOf(this.lastUdpCall()).rtcpMalformed++;
      return true;
    }
    this.counters.rtcpPackets++;
    const call = this.lastUdpCall();
    call.rtcp ??= new RtcpSessionStats();
    call.rtcp.update(this.rtcp, pkt.tsSec, pkt.tsNsec);
    return true;
  }

  /** The slot stamp a packet with a hinted slot (`block` >= 0) skipped, written when it left the fast path. */
  private stampedLate(block: number, slot: number, tsUs: number): true {
    if (block >= 0) this.endpoints4.setStampAt(slot, tsUs);
    return true;
  }

  /** The call of the last packet {@link CallTable.acceptUdp} accepted (only valid right after it returned true). */
  lastUdpCall(): Call {
    return this.udpCall ?? this.endpoints4.hintAt(this.udpSlot)!.call!;
  }

  /**
   * The number ({@link Call.number}) of {@link lastUdpCall}'s call, for packet observers: on the
   * fast path it is read from the endpoint slot the lookup just read (stored with the hint), not
   * through the stream and call objects, dependent cache misses per packet at 10,000 calls that
   * only an observer (the spool) pays.
   */
  lastUdpCallNumber(): number {
    const call = this.udpCall;
    return call !== null ? call.number : this.endpoints4.ownerAt(this.udpSlot);
  }

  /** The key of the open call numbered `number` (see {@link Call.number}). */
  keyOfNumber(number: number): CallKey {
    return this.keysByNumber[number]!;
  }

  /** UDP on no call's media address. */
  private noCall(buf: Uint8Array, off: number, len: number): false {
    if (len >= 12 && (buf[off]! & 0xc0) === 0x80) this.counters.rtpWithoutCall++;
    return false;
  }

  /** Last packet time through `ep` (µs): its slot's stamp while it is in the IPv4 index. */
  private lastUsOf(ep: MediaEndpoint): number {
    if (typeof ep.key !== 'number') return ep.lastUs;
    const slot = this.endpoints4.find(ep.key);
    return slot >= 0 && this.endpoints4.valueAt(slot) === ep ? this.endpoints4.stampAt(slot) : ep.lastUs;
  }

  private streamOf(call: Call, pkt: DecodedPacket, ssrc: number, side: CallSide, payloadTypes: PayloadTypeMap): CallStream | null {
    const streams = call.streams;
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i]!;
      if (s.matches(ssrc, pkt.ipVersion, pkt.src4, pkt.dst4, pkt.src6, pkt.dst6, pkt.srcPort, pkt.dstPort)) return s;
    }
    if (streams.length >= this.options.maxStreamsPerCall) {
      this.counters.streamsOverCap++;
      dropsOf(call).addOverCap(streamHash(pkt, ssrc));
      return null;
    }
    if (this.shed >= 1) {
      // Memory shedding caps the call at the streams it has: on its record like the stream cap.
      this.counters.rtpShedMemory++;
      dropsOf(call).addOverCap(streamHash(pkt, ssrc));
      return null;
    }
    const s: CallStream = new MediaStream(
      ssrc, side, pkt.ipVersion, pkt.src4, pkt.dst4, pkt.src6, pkt.dst6, pkt.srcPort, pkt.dstPort,
      formatIp(pkt.ipVersion, pkt.src4, pkt.src6), formatIp(pkt.ipVersion, pkt.dst4, pkt.dst6), payloadTypes,
    );
    s.call = call;
    call.streams = appended(streams, s);
    return s;
  }

  /** Map every audio/video m= line of an SDP body to this call (offer, answer, re-INVITE). */
  private learnSdp(call: Call, ev: SipEvent, sdp: SdpInfo): void {
    const owner = call.sideOf(ev);
    for (const m of sdp.media) {
      if (m.port === 0) continue; // a disabled stream (RFC 3264 §6)
      const types = payloadTypeMapOf(m.payloads, this.payloadMaps);
      this.addEndpoint(call, m.rtpKey, owner, false, types);
      if (!m.rtcpMux && m.rtcpPort !== m.port) this.addEndpoint(call, m.rtcpKey, owner, true, types);
      if (this.options.acceptRtpFromSipSource) {
        // The SIP source as well, unless it is the SDP's address (compared as keys: the same
        // address written differently in the SDP is the same endpoint).
        const srcKey = endpointKeyFromText(ev.srcIp, m.port);
        if (srcKey !== m.rtpKey) this.addEndpoint(call, srcKey, owner, false, types);
      }
    }
  }

  /** Map `key` (an endpoint key of endpoint-key.ts; null: not an IP address, nothing to map) to the call. */
  private addEndpoint(call: Call, key: number | string | null, owner: CallSide, rtcp: boolean, payloadTypes: PayloadTypeMap): void {
    if (key === null) return;
    const existing = typeof key === 'number' ? this.endpoints4.get(key) : this.endpoints6.get(key);
    if (existing?.call === call) {
      // The same address again (re-INVITE, answer repeating the offer's port): update in place,
      // so a long call with many re-INVITEs keeps a bounded set of endpoints.
      existing.owner = owner;
      existing.rtcp = rtcp;
      existing.payloadTypes = payloadTypes;
      existing.last = null;
      if (typeof key === 'number') this.endpoints4.setHintAt(this.endpoints4.find(key), null);
    } else {
      // The newest SDP wins: a port reused by a new call belongs to it from now on.
      const ep: MediaEndpoint = { call, key, owner, rtcp, payloadTypes, last: null, lastUs: 0 };
      if (call.endpoints.length >= MAX_ENDPOINTS_PER_CALL) this.dropOldestEndpoint(call);
      call.endpoints = appended(call.endpoints, ep);
      if (typeof key === 'number') {
        // The endpoint it replaces keeps its last packet time for its own call's RTP timeout.
        if (existing !== undefined) existing.lastUs = this.lastUsOf(existing);
        this.endpoints4.set(key, ep);
      } else this.endpoints6.set(key, ep);
    }
    this.hooks.onEndpoint?.(call, key);
  }

  /** Forget a call's oldest media address (counted); its last packet time stays the call's activity. */
  private dropOldestEndpoint(call: Call): void {
    const old = call.endpoints[0]!;
    call.lastActivityUs = Math.max(call.lastActivityUs, this.lastUsOf(old));
    if (typeof old.key === 'number') {
      if (this.endpoints4.get(old.key) === old) this.endpoints4.delete(old.key);
    } else if (this.endpoints6.get(old.key) === old) this.endpoints6.delete(old.key);
    call.endpoints = call.endpoints.slice(1);
    this.counters.endpointsEvicted++;
  }

  /**
   * Trusted time (the live daemon's wall-clock tick on an idle link, a test): moves packet time
   * forward without confirmation and closes the calls whose time has come. Packet timestamps go
   * through the clock instead (see PacketClock): never pass one here.
   */
  advance(nowUs: number): void {
    this.clock.trust(nowUs);
    this.sweepIfDue();
  }

  /** A packet's timestamp to the clock, then the sweep if due; false when the time is off the clock. */
  private observe(tsUs: number): boolean {
    const onClock = this.clock.observe(tsUs);
    this.sweepIfDue();
    return onClock;
  }

  /**
   * Every second of packet time, close calls whose time has come. Also right after a backward
   * step of the clock (the time since the last sweep is then negative).
   */
  sweepIfDue(): void {
    const now = this.clock.nowUs;
    // Math.abs: one compare for both a second passed and a backward step of the clock.
    if (Math.abs(now - this.lastSweepUs) < SWEEP_INTERVAL_US) return;
    this.lastSweepUs = now;
    this.sweep(now);
  }

  private sweep(now: number): void {
    const o = this.options;
    for (const call of this.calls.values()) {
      let reason: EndReason | null = null;
      if (call.closeAtUs !== null) {
        if (now >= call.closeAtUs) reason = 'capture_end'; // the call's own outcome (BYE, final) decides
      } else if (call.phase === CallPhase.ByeSent) {
        if (now - (call.byeUs ?? now) >= o.byeTimeoutS * 1e6) reason = 'bye_unconfirmed';
      } else if (now - call.startUs >= o.absoluteTimeoutS * 1e6) reason = 'absolute_timeout';
      else if (call.phase === CallPhase.Setup) {
        if (now - call.lastSipUs >= o.noAnswerTimeoutS * 1e6) reason = 'no_answer_timeout';
      } else if (call.phase === CallPhase.Answered && now - call.mediaActivityUs >= o.rtpTimeoutS * 1e6) {
        // mediaActivityUs is a lower bound of the last activity: recomputed only when it is old.
        call.mediaActivityUs = this.lastActivityOf(call);
        if (now - call.mediaActivityUs >= o.rtpTimeoutS * 1e6) reason = 'rtp_timeout';
      }
      if (reason !== null) this.close(call, reason);
    }
  }

  /** Last SIP or media packet of a call (µs). */
  private lastActivityOf(call: Call): number {
    let last = call.lastActivityUs;
    for (const ep of call.endpoints) {
      const t = this.lastUsOf(ep);
      if (t > last) last = t;
    }
    // Packets of a stream on the fast path stamp no endpoint: their time is the stream's.
    for (const s of call.streams) {
      if (s.packets === 0) continue;
      const t = toMicros(s.lastSec, s.lastNsec);
      if (t > last) last = t;
    }
    return last;
  }

  /**
   * Every open call gets its CDR now: `capture_end` when the input ended, `sensor_shutdown` when
   * the daemon stops. Calls that already ended (BYE, final response) keep their own outcome.
   */
  flush(reason: 'capture_end' | 'sensor_shutdown' = 'capture_end'): void {
    this.flushSome(Number.POSITIVE_INFINITY, reason);
  }

  /**
   * {@link flush} a slice at a time: closes up to `max` open calls, oldest first, and returns how
   * many stay open. Between slices the caller yields, so the records already built reach the
   * database while the rest are built: 10,000 calls open at the end of a capture are 0.8 s of
   * record building that otherwise all happen before the first insert is sent.
   */
  flushSome(max: number, reason: 'capture_end' | 'sensor_shutdown' = 'capture_end'): number {
    let n = 0;
    for (const call of this.calls.values()) {
      if (n++ >= max) break;
      // Deleting the entry being visited is safe in a Map iteration: it continues with the next.
      this.close(call, reason);
    }
    return this.calls.size;
  }

  private evictOldest(): void {
    const oldest = this.calls.values().next();
    if (oldest.done === true) return;
    this.counters.callsEvicted++;
    this.close(oldest.value, 'evicted');
  }

  private close(call: Call, reason: EndReason): void {
    this.calls.delete(call.callId);
    this.legs.closed(call);
    // Only the addresses still pointing at this call: a later call may have taken one over.
    for (const ep of call.endpoints) {
      if (typeof ep.key === 'number') {
        if (this.endpoints4.get(ep.key) === ep) this.endpoints4.delete(ep.key);
      } else if (this.endpoints6.get(ep.key) === ep) this.endpoints6.delete(ep.key);
    }
    this.counters.callsClosed++;
    this.onCall(buildCallRecord(call, reason, this.options.sensor));
    this.hooks.onClose?.(call);
    // Observers were told (onClose): the number may name the next call.
    this.keysByNumber[call.number] = null;
    this.freeNumbers.push(call.number);
  }
}


/**
 * A 32-bit hash of a stream's identity (SSRC, addresses, ports): tells over-cap streams apart for
 * counting without building a text key per packet (a collision only undercounts by one).
 */
function streamHash(pkt: DecodedPacket, ssrc: number): number {
  let h = Math.imul(ssrc ^ 0x9e3779b9, 0x85ebca6b) ^ ((pkt.srcPort << 16) | pkt.dstPort);
  if (pkt.ipVersion === 4) h = Math.imul(h ^ pkt.src4, 0xc2b2ae35) ^ Math.imul(pkt.dst4, 0x27d4eb2f);
  else for (let i = 0; i < 4; i++) h = Math.imul(h ^ pkt.src6[i]!, 0xc2b2ae35) ^ Math.imul(pkt.dst6[i]!, 0x27d4eb2f);
  return h >>> 0;
}

/** The call's drop counts, created on its first drop (most calls never have one). */
function dropsOf(call: Call): CallDropCounts {
  return (call.dropped ??= new CallDropCounts());
}

/** Distinct rtpmap sets kept shared; past this many, maps are built per m= line (still correct). */
const MAX_SHARED_PAYLOAD_MAPS = 1024;

/**
 * The payload-type map of one m= line: RFC 3551 static assignments plus its rtpmaps. Calls of one
 * network nearly all offer the same few sets, so maps are shared by content: thousands of streams
 * then read a handful of hot tables per packet instead of one cold table each.
 */
function payloadTypeMapOf(payloads: readonly SdpPayload[], sharedPayloadMaps: Map<string, PayloadTypeMap>): PayloadTypeMap {
  let signature = '';
  for (const p of payloads) if (p.codec !== null) signature += `${p.pt}:${p.codec}/${p.clockRate},`;
  const shared = sharedPayloadMaps.get(signature);
  if (shared !== undefined) return shared;
  const map = new PayloadTypeMap();
  for (const p of payloads) if (p.codec !== null && p.pt >= 0 && p.pt <= 127) map.setRtpmap(p.pt, p.codec, p.clockRate);
  if (sharedPayloadMaps.size < MAX_SHARED_PAYLOAD_MAPS) sharedPayloadMaps.set(signature, map);
  return map;
}
