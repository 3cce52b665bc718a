import {
  DECODE_STATUS_COUNT,
  DECODE_STATUS_NAMES,
  DecodeStatus,
  PacketDecoder,
  Transport,
  createDecodedPacket,
  formatIp,
  type DecodedPacket,
  type PacketDecoderOptions,
} from '@callscope/packet';
import { SIP_STATUS_NAMES, SessionDescription, SipMessage, SipStatus, parseSipMessage, isSipMessageUsable } from '@callscope/sip-parser';
import { CallTable, DEFAULT_CALL_TABLE_OPTIONS, type CallTableOptions, type ShedLevel } from './call-table.js';
import { DEFAULT_ACTIVE_CALLS_LIMIT, detailCall, summarizeCall, type ActiveCallDetail, type ActiveCallSummary, type ActiveCallsOptions } from './active-calls.js';
import { DEFAULT_REGISTER_TABLE_OPTIONS, RegisterTable, type RegisterTableOptions } from './register-table.js';
import { SipAdapterStats, callIdOf, toSipEvent } from './sip-adapter.js';
import { CorrelationHeaders } from './leg-ids.js';
import type { Call } from './call.js';
import { toMicros, type SipTransport } from '@callscope/cdr-model';
import type { CallKey, CallPacketKind, CallPacketObserver, RecordObserver } from './call-observers.js';
import { SipTcpStreams } from './sip-tcp-streams.js';
import { PacketClock } from './packet-clock.js';
import type { PacketRecord } from '@callscope/pcap-format';

/** How the pipeline recognises and follows SIP; everything else has its own options object. */
export interface PipelineOptions {
  /** UDP/TCP ports whose traffic is parsed as SIP (any port is tried when the payload starts like SIP). */
  sipPorts: readonly number[];
  calls: CallTableOptions;
  registers: RegisterTableOptions;
  decoder: PacketDecoderOptions;
}

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = {
  sipPorts: [5060, 5061, 5080],
  calls: DEFAULT_CALL_TABLE_OPTIONS,
  registers: DEFAULT_REGISTER_TABLE_OPTIONS,
  decoder: {},
};

/**
 * What became of one captured packet: every packet the pipeline is given gets exactly one fate,
 * so the fates add up to the packets (the accounting the summary and the fuzz harness check).
 * Packets that did not decode have their fate in `decodeStatus` instead (one per status).
 */
export const PacketFate = {
  /** A SIP message over UDP (or one framed HEP message) of an INVITE dialog the table follows. */
  SipCall: 0,
  /** A SIP message of a REGISTER dialog. */
  SipRegister: 1,
  /** A SIP message of no dialog the table follows (OPTIONS, mid-dialog without INVITE...). */
  SipOutOfDialog: 2,
  /** CRLF keepalives on a SIP port (RFC 5626 §3.5.1). */
  SipKeepalive: 3,
  /** Parsed as SIP but without a usable Call-ID or CSeq. */
  SipNoDialogId: 4,
  /** UDP accepted by a call's media address: split further by the call table's counters. */
  Media: 5,
  /** RTP-looking UDP (version 2) on no call's media address. */
  RtpWithoutCall: 6,
  /** Any other UDP. */
  UdpOther: 7,
  /** TCP on a SIP port: its bytes go to the SIP reassembler (messages are counted by `sip`). */
  TcpSip: 8,
  /** TCP on no SIP port. */
  TcpOther: 9,
  /** IP protocols other than UDP and TCP (ICMP, SCTP, ESP...). */
  OtherL4: 10,
  /** Processing threw: a bug, counted and skipped (see `internalErrors`). */
  InternalError: 11,
  /**
   * A capture time before 1970 or past 2106-02-07 (a damaged record, a mislabelled pcapng
   * if_tsresol): the spool's pcap records hold unsigned 32-bit seconds, so such a packet could be
   * neither kept nor dated in a CDR; it is refused before anything reads its time.
   */
  TimeOutOfRange: 12,
  /**
   * An INVITE that would have opened a call while memory shedding refused new calls (level 2,
   * see {@link PacketPipeline.shedLoad}).
   */
  SipCallRefusedMemory: 13,
} as const;

/** Last capture second a pcap record can hold (u32 seconds: 2106-02-07T06:28:15Z). */
const MAX_CAPTURE_SECOND = 0xffff_ffff;

/** One of the {@link PacketFate} values. */
export type PacketFate = (typeof PacketFate)[keyof typeof PacketFate];

/** Names of the fates in stats, indexed by {@link PacketFate} value. */
export const PACKET_FATE_NAMES: readonly string[] = [
  'sip_call', 'sip_register', 'sip_out_of_dialog', 'sip_keepalive', 'sip_no_dialog_id', 'media',
  'rtp_without_call', 'udp_other', 'tcp_sip', 'tcp_other', 'other_l4', 'internal_error',
  'time_out_of_range', 'sip_call_refused_memory',
];

/**
 * Every counter of a pipeline as one JSON object (snake_case keys), for `analyze --stats`, the
 * daemon's stats and the closing summary. Built on demand: allocates, never call it per packet.
 */
export interface PipelineStats {
  /** Frames given to {@link PacketPipeline.onPacket}. */
  packets: number;
  /**
   * What became of them: each packet counted once, so the values add up to `packets`. Keys:
   * `not_decoded.<DecodeStatus name>`, `ip_fragment_held` (a fragment waiting for the rest of its
   * datagram; the datagram's last fragment takes the datagram's fate), the sip_* / udp / tcp fates,
   * and media split into `rtp_in_call`, `rtp_over_stream_cap`, `rtp_shed_memory`, `rtp_malformed`,
   * `rtcp_in_call`, `rtcp_malformed`, `media_not_rtp`.
   */
  fates: Record<string, number>;
  /** SIP messages (a TCP segment may carry several, a message may span segments). */
  sip: { messages: number; rejected: Record<string, number>; methods: Record<string, number>; [counter: string]: number | Record<string, number> };
  /** The call table's counters (snake_case) plus `open` and `open_streams`. */
  calls: Record<string, number>;
  /** The registration table's counters plus `open`. */
  registrations: Record<string, number>;
  /** SIP-over-TCP reassembly counters. */
  tcp: Record<string, number>;
  /** IP fragment reassembly counters. */
  ip_reassembly: Record<string, number>;
  /** Packets whose processing threw (a bug): skipped and counted. */
  internal_errors: number;
  /** The first internal error's message, or null. */
  first_internal_error: string | null;
}

/** SIP methods counted without a dialog of their own (STYLE: count, never silently drop). */
const COUNTED_METHODS = ['OPTIONS', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'REFER', 'INFO', 'UPDATE', 'PRACK'] as const;

/**
 * Counters of what the pipeline saw or refused beyond the packet fates (`fates`, one per packet:
 * UDP/TCP/other-L4 and unmatched UDP are read from there), for stats and the closing summary.
 */
export interface PipelineCounters {
  packets: number;
  /** Per {@link DecodeStatus} value: packets that did not decode to UDP/TCP. */
  decodeStatus: Uint32Array;
  sipMessages: number;
  /** Per {@link SipStatus} value: SIP-looking payloads that did not parse. */
  sipRejected: Record<string, number>;
  /** Requests by method name outside INVITE/REGISTER handling. */
  sipMethods: Record<string, number>;
  /**
   * Packets whose processing threw: a bug, never expected. The packet is skipped and counted so
   * one bad packet cannot stop a sensor; the first error is kept for the report.
   */
  internalErrors: number;
  /** SIP messages over TCP too large to reassemble whose call is not open (or whose Call-ID was not in the head). */
  sipOversizeWithoutCall: number;
}

/**
 * The sniffer's per-packet path, shared by `analyze` (files) and the live daemon:
 * decode -> SIP (UDP, TCP reassembly; TCP received as HEP framed per message) -> call/register
 * tables; UDP on a call's SDP address -> its streams. One instance per capture thread; not reentrant.
 */
export class PacketPipeline {
  readonly decoder: PacketDecoder;
  readonly calls: CallTable;
  readonly registers: RegisterTable;
  readonly counters: PipelineCounters = {
    packets: 0,
    decodeStatus: new Uint32Array(DECODE_STATUS_COUNT),
    sipMessages: 0,
    sipRejected: {},
    sipMethods: Object.fromEntries(COUNTED_METHODS.map((m) => [m, 0])),
    internalErrors: 0,
    sipOversizeWithoutCall: 0,
  };
  /** The sensor name of the records (the detail view builds one). */
  private readonly sensor: string;
  /** The first internal error (with its stack), for the summary; null while there is none. */
  firstInternalError: Error | null = null;
  /** Packets per {@link PacketFate} (decode failures are in `counters.decodeStatus`). */
  readonly fates = new Float64Array(PACKET_FATE_NAMES.length);
  /** The fate of the packet being dispatched (written on each path, counted once in onPacket). */
  private fate: PacketFate = PacketFate.UdpOther;
  /**
   * The decode status of the last packet given to {@link onPacket} (`DecodeStatus.Ok` when it
   * decoded): a caller with several inputs counts decode failures per input from it (the sensor
   * daemon's per-source counters) without a second decode.
   */
  lastDecodeStatus: DecodeStatus = DecodeStatus.Ok;
  /** The fate of the last SIP message onSipBytes handled (for a UDP datagram, the packet's fate). */
  private sipFate: PacketFate = PacketFate.SipOutOfDialog;
  private readonly decoded: DecodedPacket = createDecodedPacket();
  private readonly msg = new SipMessage();
  private readonly sdp = new SessionDescription();
  private readonly sipPort = new Uint8Array(65536);
  private readonly tcpStreams: SipTcpStreams;
  /** What the SIP adapter skipped inside usable messages (headers past the cap, SDP sections...). */
  readonly adapterStats = new SipAdapterStats();
  /** The configured correlation headers, undefined when none (no header table walk per message). */
  private readonly correlation: CorrelationHeaders | undefined;
  /** The call the SIP message just parsed belongs to (set by onSipBytes), for the packet observer. */
  private sipCall: Call | null = null;

  /**
   * @param records where finished call and registration records go.
   * @param packets where each call's packets are kept (the sniffer's `--spool`), or null to keep none.
   */
  constructor(
    options: PipelineOptions,
    records: RecordObserver,
    private readonly packets: CallPacketObserver | null = null,
  ) {
    this.decoder = new PacketDecoder(options.decoder);
    this.sensor = options.calls.sensor;
    this.correlation = options.calls.correlationHeaders.length === 0 ? undefined : new CorrelationHeaders(options.calls.correlationHeaders);
    // One packet clock for both tables: a lone SIP timestamp far off the capture's time is an
    // outlier for registrations as it is for calls, never trusted time.
    const clock = new PacketClock();
    this.calls = new CallTable(
      options.calls,
      (r) => {
        records.onCall(r);
      },
      packets === null
        ? {}
        : {
            onEndpoint: (call, key) => {
              packets.claimEarlyMedia(call.key, key, Math.floor(call.lastSipUs / 1e6));
            },
            onClose: (call) => {
              packets.onCallEnd(call.key, call.number);
            },
          },
      clock,
    );
    this.registers = new RegisterTable(
      options.registers,
      (r) => {
        records.onRegister(r);
      },
      clock,
    );
    for (const p of options.sipPorts) this.sipPort[p] = 1;
    this.tcpStreams = new SipTcpStreams(
      (buf, off, len, pkt) => this.onSipBytes(buf, off, len, pkt, 'tcp'),
      (buf, off, len) => {
        // The head is cut mid-headers (HeadersTruncated), but the header lines before the cut
        // are parsed: its Call-ID, when among them, names the call the message belonged to.
        parseSipMessage(buf, off, len, this.msg);
        const callId = callIdOf(this.msg);
        if (callId === null || !this.calls.markSipOversize(callId)) this.counters.sipOversizeWithoutCall++;
      },
    );
  }

  /** One captured frame. The record's bytes are only borrowed for the call. */
  onPacket(rec: PacketRecord): void {
    this.counters.packets++;
    this.lastDecodeStatus = DecodeStatus.Ok;
    if (!(rec.tsSec >= 0 && rec.tsSec <= MAX_CAPTURE_SECOND)) {
      this.fates[PacketFate.TimeOutOfRange]!++;
      return;
    }
    try {
      // false: the packet did not decode; its fate is its decode status.
      if (this.dispatch(rec)) this.fates[this.fate]!++;
    } catch (err) {
      this.fates[PacketFate.InternalError]!++;
      this.counters.internalErrors++;
      this.firstInternalError ??= err instanceof Error ? err : new Error(String(err));
    }
  }

  /** False when the packet did not decode (counted by status), true when `fate` says what became of it. */
  private dispatch(rec: PacketRecord): boolean {
    const p = this.decoded;
    const status = this.decoder.decode(rec.data, 0, rec.capLen, rec.linkType, rec.tsSec, rec.tsNsec, p);
    this.lastDecodeStatus = status;
    if (status !== DecodeStatus.Ok) {
      this.counters.decodeStatus[status]!++;
      if (status === DecodeStatus.Fragment) this.packets?.holdFragment(rec, p);
      return false;
    }
    if (p.transport === Transport.Udp) this.onUdp(rec, p);
    else if (p.transport === Transport.Tcp) {
      this.fate = PacketFate.TcpOther;
      if (this.sipPort[p.srcPort] === 1 || this.sipPort[p.dstPort] === 1) {
        this.fate = PacketFate.TcpSip;
        this.sipCall = null;
        // HEP carries whole messages and no TCP numbers: frame them, do not follow a stream.
        if (p.fromHep) this.tcpStreams.onWholeMessages(p);
        else this.tcpStreams.onSegment(p);
        // The segment that completed a message is kept with its call (see README: TCP in the spool).
        const call = this.takeSipCall();
        if (call !== null) this.packets?.onPacket(call.key, 'sip', rec, p, call.number);
      }
    } else this.fate = PacketFate.OtherL4;
    return true;
  }

  private onUdp(rec: PacketRecord, p: DecodedPacket): void {
    const buf = p.payload;
    const off = p.payloadOffset;
    const len = p.payloadLength;
    if (this.sipPort[p.srcPort] === 1 || this.sipPort[p.dstPort] === 1 || looksLikeSip(buf, off, len)) {
      this.sipCall = null;
      if (this.onSipBytes(buf, off, len, p, 'udp')) {
        this.fate = this.sipFate;
        const call = this.takeSipCall();
        if (call !== null && this.packets !== null) this.keep(call, 'sip', rec, p);
        return;
      }
    }
    if (!this.calls.acceptUdp(p)) {
      // RTP-looking (the call table's rtpWithoutCall test): may be early media of a call whose SDP is still to come.
      if (len >= 12 && (buf[off]! & 0xc0) === 0x80) {
        this.fate = PacketFate.RtpWithoutCall;
        this.packets?.holdUnmatched(rec, p);
      } else this.fate = PacketFate.UdpOther;
      return;
    }
    this.fate = PacketFate.Media;
    if (this.packets !== null) {
      const n = this.calls.lastUdpCallNumber();
      this.keepKey(this.calls.keyOfNumber(n), n, this.calls.lastWasRtcp ? 'rtcp' : 'rtp', rec, p);
    }
  }

  /** The call of the SIP message(s) parsed since `sipCall` was cleared (read through a call, so
   * the compiler does not assume the callbacks left it untouched). */
  private takeSipCall(): Call | null {
    return this.sipCall;
  }

  /** A packet of `call` to the packet observer, preceded by its fragments when it was reassembled. */
  private keep(call: Call, kind: CallPacketKind, rec: PacketRecord, p: DecodedPacket): void {
    this.keepKey(call.key, call.number, kind, rec, p);
  }

  private keepKey(key: CallKey, number: number, kind: CallPacketKind, rec: PacketRecord, p: DecodedPacket): void {
    const packets = this.packets!;
    if (p.reassembled) packets.releaseFragments(key, kind, p);
    packets.onPacket(key, kind, rec, p, number);
  }

  /** Parse one SIP message and route it; false when the bytes were not SIP. */
  private onSipBytes(buf: Uint8Array, off: number, len: number, p: DecodedPacket, transport: SipTransport): boolean {
    const msg = this.msg;
    const status = parseSipMessage(buf, off, len, msg);
    if (!isSipMessageUsable(status)) {
      if (status !== SipStatus.Empty) {
        const name = SIP_STATUS_NAMES[status] ?? String(status);
        this.counters.sipRejected[name] = (this.counters.sipRejected[name] ?? 0) + 1;
      }
      this.sipFate = PacketFate.SipKeepalive;
      return status === SipStatus.Empty; // keepalive CRLFs are SIP's, nothing more to do
    }
    this.counters.sipMessages++;
    const tsUs = toMicros(p.tsSec, p.tsNsec);
    const ev = toSipEvent(
      msg,
      {
        tsUs,
        srcIp: formatIp(p.ipVersion, p.src4, p.src6),
        srcPort: p.srcPort,
        dstIp: formatIp(p.ipVersion, p.dst4, p.dst6),
        dstPort: p.dstPort,
        transport,
        vlan: p.vlanCount > 0 ? p.vlanIds[0]! : null,
      },
      this.sdp,
      this.adapterStats,
      this.correlation,
    );
    if (ev === null) {
      this.counters.sipRejected['NoCallIdOrCSeq'] = (this.counters.sipRejected['NoCallIdOrCSeq'] ?? 0) + 1;
      this.sipFate = PacketFate.SipNoDialogId;
      return true;
    }
    this.registers.sweepIfDue();
    if (ev.method === 'REGISTER') {
      this.registers.onSip(ev);
      this.sipFate = PacketFate.SipRegister;
    } else {
      if (ev.isRequest && ev.method in this.counters.sipMethods) this.counters.sipMethods[ev.method]!++;
      const refused = this.calls.counters.callsRefusedMemory;
      this.sipCall = this.calls.onSip(ev);
      this.sipFate =
        this.sipCall !== null ? PacketFate.SipCall : this.calls.counters.callsRefusedMemory !== refused ? PacketFate.SipCallRefusedMemory : PacketFate.SipOutOfDialog;
    }
    return true;
  }

  /**
   * Every counter as one JSON object; `fates` adds up to `packets`. The media fates come from the
   * call table's own counters, so the sum closing is a real cross-check of two counting points.
   */
  stats(): PipelineStats {
    const c = this.counters;
    const fates: Record<string, number> = {};
    c.decodeStatus.forEach((n, status) => {
      if (n > 0) fates[status === DecodeStatus.Fragment ? 'ip_fragment_held' : `not_decoded.${DECODE_STATUS_NAMES[status] ?? status}`] = n;
    });
    this.fates.forEach((n, fate) => {
      if (fate !== PacketFate.Media) fates[PACKET_FATE_NAMES[fate]!] = n;
    });
    const t = this.calls.counters;
    fates['rtp_in_call'] = t.rtpPackets - t.streamsOverCap - t.rtpShedMemory;
    fates['rtp_over_stream_cap'] = t.streamsOverCap;
    fates['rtp_shed_memory'] = t.rtpShedMemory;
    fates['rtp_malformed'] = t.rtpMalformed;
    fates['rtcp_in_call'] = t.rtcpPackets;
    fates['rtcp_malformed'] = t.rtcpMalformed;
    fates['media_not_rtp'] = t.mediaNotRtp;
    return {
      packets: c.packets,
      fates,
      sip: {
        messages: c.sipMessages,
        rejected: { ...c.sipRejected },
        methods: { ...c.sipMethods },
        oversize_without_call: c.sipOversizeWithoutCall,
        identity_escaped: this.adapterStats.identityEscaped,
        headers_over_cap: this.adapterStats.headersOverCap,
        sdp_rejected: this.adapterStats.sdpRejected,
        sdp_media_rejected: this.adapterStats.sdpMediaRejected,
        sdp_lines_rejected: this.adapterStats.sdpLinesRejected.reduce((a, b) => a + b, 0),
      },
      calls: { ...snakeCase(t), open: this.calls.openCalls, open_streams: this.calls.openStreams() },
      // The clock is shared: its counters (clock_outliers, clock_steps) are listed once, under calls.
      registrations: { ...withoutClock(snakeCase(this.registers.counters)), open: this.registers.openDialogs },
      tcp: { ...snakeCase(this.tcpStreams.stats), dropped_without_packet: this.tcpStreams.droppedWithoutPacket },
      ip_reassembly: snakeCase(this.decoder.reassemblyCounters),
      internal_errors: c.internalErrors,
      first_internal_error: this.firstInternalError === null ? null : (this.firstInternalError.stack ?? this.firstInternalError.message),
    };
  }

  /**
   * Packet time stands still when no packet comes: live capture calls this every second with the
   * wall clock so calls and registrations still time out on an idle link.
   */
  tick(nowUs: number): void {
    this.calls.advance(nowUs);
    this.registers.advance(nowUs);
  }

  /**
   * Memory pressure, from the daemon's watchdog (0 normal, 1 near the limit, 2 at it): level 1
   * creates no new RTP streams (their packets are counted as the fate `rtp_shed_memory` and the
   * call's record is marked in `dropped`, as over the stream cap); level 2 also opens no new call
   * (its INVITE is the fate `sip_call_refused_memory`, counted in `calls.calls_refused_memory`).
   * What is tracked already stays tracked. Costs nothing per packet: only new calls and new
   * streams read the level.
   */
  shedLoad(level: ShedLevel): void {
    this.calls.shedLoad(level);
  }

  /**
   * The open calls, oldest first, as plain JSON for the daemon's control socket: a page of
   * `limit` (default 1000) after `offset`. Allocates one small object per listed call and stream
   * and reads each stream's state block; nothing is computed per packet for it.
   */
  activeCalls(options: ActiveCallsOptions = {}): ActiveCallSummary[] {
    const limit = options.limit ?? DEFAULT_ACTIVE_CALLS_LIMIT;
    let skip = options.offset ?? 0;
    const now = this.calls.clock.nowUs;
    const out: ActiveCallSummary[] = [];
    if (!(limit > 0)) return out;
    for (const call of this.calls.openCallList()) {
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push(summarizeCall(call, now));
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * One open call with the CDR it would get if the sensor stopped now (full stream figures), or
   * null when no open call has this Call-ID. Built on copies of its streams' statistics: the
   * call's final CDR is the same whether or not this was asked.
   */
  activeCall(callId: string): ActiveCallDetail | null {
    const call = this.calls.openCall(callId);
    return call === undefined ? null : detailCall(call, this.calls.clock.nowUs, this.sensor);
  }

  /**
   * Write out every open call and registration: the input ended (`capture_end`, the default), or
   * the sensor daemon stops (`sensor_shutdown`). Calls whose own outcome is known (BYE, final
   * response) keep it. Registration records have no end reason: they are written as at the end
   * of a capture.
   */
  finish(reason: 'capture_end' | 'sensor_shutdown' = 'capture_end'): void {
    while (!this.finishSome(Number.POSITIVE_INFINITY, reason));
  }

  /**
   * {@link finish} in slices, for a caller that yields between them (so the CDR writer can send
   * what is built while the rest is built): writes out up to `maxCalls` open calls and returns
   * false while calls remain; the call that returns true has also written out the registrations.
   */
  finishSome(maxCalls: number, reason: 'capture_end' | 'sensor_shutdown' = 'capture_end'): boolean {
    // Guarded like onPacket: a bug in writing out one call must not lose the others' records. The
    // table forgets a call before building its record, so the next slice goes on after it.
    const before = this.calls.openCalls;
    let left: number;
    try {
      left = this.calls.flushSome(maxCalls, reason);
    } catch (err) {
      this.noteInternalError(err);
      left = this.calls.openCalls;
      if (left >= before) left = 0; // no progress: give up on the rest rather than loop
    }
    if (left > 0) return false;
    this.finishRegistrations();
    return true;
  }

  private finishRegistrations(): void {
    try {
      this.registers.flush();
    } catch (err) {
      this.noteInternalError(err);
    }
  }

  private noteInternalError(err: unknown): void {
    this.counters.internalErrors++;
    this.firstInternalError ??= err instanceof Error ? err : new Error(String(err));
  }
}

/** Counters without the shared clock's, which another table already lists. */
function withoutClock(counters: Record<string, number>): Record<string, number> {
  const { clock_outliers: _outliers, clock_steps: _steps, ...rest } = counters;
  return rest;
}

/** The numeric fields of a counters object, keys in snake_case (`streamsOverCap` -> `streams_over_cap`). */
function snakeCase(counters: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) if (typeof v === 'number') out[k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)] = v;
  return out;
}

/** Cheap first-bytes test for SIP on a non-SIP port: `SIP/2.0 ` or an upper-case method and a space. */
function looksLikeSip(buf: Uint8Array, off: number, len: number): boolean {
  if (len < 16) return false;
  const c0 = buf[off]!;
  if (c0 < 0x41 || c0 > 0x5a) return false;
  if (c0 === 0x53 && buf[off + 1] === 0x49 && buf[off + 2] === 0x50 && buf[off + 3] === 0x2f) return true; // "SIP/"
  for (let i = 1; i < 10; i++) {
    const c = buf[off + i]!;
    if (c === 0x20) return i >= 3 && buf[off + i + 1] === 0x73 && buf[off + i + 2] === 0x69 && buf[off + i + 3] === 0x70; // " sip"
    if (c < 0x41 || c > 0x5a) return false;
  }
  return false;
}
