import type { PayloadTypeMap, RtcpSessionStats } from '@callscope/rtp';
import { appended, ownText, ownTextOrNull, sharedText } from './compact-values.js';
import type { MediaStream } from './media-stream.js';
import type { CallKey } from './call-observers.js';
import type { SipEvent } from './sip-event.js';
import { isoFromMicros, type CallSide, type DtmfRecord, type EndReason, type SipResponseRecord, type SipTransport } from '@callscope/cdr-model';

/**
 * Where a call is in its life. Only `applySip` moves it forward; the call table reads it to decide
 * when a call is over (RFC 3261 §13 INVITE, §15 BYE, §9 CANCEL).
 */
export const CallPhase = {
  /** INVITE sent, no final response yet (100/18x may have come). */
  Setup: 0,
  /** A 2xx answered the initial INVITE. */
  Answered: 1,
  /** A BYE was sent, its response not seen yet. */
  ByeSent: 2,
  /** The first BYE got a final response: the call is over. */
  ByeAnswered: 3,
  /** The initial INVITE got a final non-2xx response (after a CANCEL or not). */
  Failed: 4,
} as const;
export type CallPhase = (typeof CallPhase)[keyof typeof CallPhase];

/** Shared by every call with nothing over its caps (nearly all): never written. */
const NO_OVER_CAP = Object.freeze({ sipResponses: 0, infoDtmf: 0 }) as { sipResponses: number; infoDtmf: number };

/** Shared by every call without SIP INFO DTMF (nearly all): never written. */
const NO_DTMF: readonly DtmfRecord[] = Object.freeze([]);

/**
 * Most final responses a call keeps for its record, and most SIP INFO digits: each re-INVITE's
 * 200 or INFO would otherwise grow one Call-ID without bound (a flood, a looping UA). Past them
 * the items are counted (the table's `sipResponsesOverCap`, `infoDtmfOverCap`), not kept.
 */
export const MAX_SIP_RESPONSES_PER_CALL = 64;
export const MAX_INFO_DTMF_PER_CALL = 256;

/** 401/407 to an INVITE is an authentication round, not the call's outcome: the UA retries. */
const isChallenge = (code: number) => code === 401 || code === 407;

/** A media stream of a call (its owner is the call). */
export type CallStream = MediaStream<Call>;

/** A media address announced in SDP: RTP or RTCP to or from it belongs to `call`. */
export interface MediaEndpoint {
  call: Call;
  /** Its key in the endpoint index (`ipv4PortKey` number or `ipv6PortKey` text). */
  key: number | string;
  /** The side that announced the address (it receives RTP there and usually sends from it). */
  owner: CallSide;
  rtcp: boolean;
  /** The payload types of the announcing SDP m= line (static table + its rtpmaps). */
  payloadTypes: PayloadTypeMap;
  /**
   * The stream the last packet through this endpoint belonged to: nearly every packet repeats
   * it, so the common case skips the call's stream list (fewer cache misses at 10k calls).
   * For IPv4 endpoints the index slot's hint mirrors it, and is what the packet path reads.
   */
  last: CallStream | null;
  /**
   * Last packet time through this endpoint (µs): media activity for the RTP timeout. While an
   * IPv4 endpoint is in the index the time is its slot's stamp; it is copied here when the
   * endpoint leaves the index (see {@link lastUsOf}). Packets of the slot's last stream on the
   * fast path leave their time in that stream's statistics instead (`lastActivityOf` reads both).
   */
  lastUs: number;
}

/** One INVITE dialog being followed, from its first INVITE to its CDR. */
export class Call {
  readonly callId: string;
  readonly startUs: number;
  readonly transport: SipTransport;
  readonly vlan: number | null;
  readonly callerIp: string;
  readonly callerPort: number;
  readonly calleeIp: string;
  readonly calleePort: number;
  readonly caller: string;
  readonly callerDomain: string;
  readonly callerName: string | null;
  readonly called: string;
  readonly calledDomain: string;
  /** From-tag of the initial INVITE: tells which side sent a later request (RFC 3261 §12.2.1.1). */
  readonly callerTag: string | null;

  phase: CallPhase = CallPhase.Setup;
  /** CSeq number of the (latest) initial INVITE; a challenged INVITE is retried with a higher one. */
  inviteCseq: number;
  /** INVITEs without To-tag seen (the first one and its retransmissions or authenticated retries). */
  inviteRequests = 0;
  reinvites = 0;
  sipPackets = 0;
  firstProgressUs: number | null = null;
  answerUs: number | null = null;
  finalCode: number | null = null;
  finalReason: string | null = null;
  finalUs: number | null = null;
  cancelUs: number | null = null;
  byeUs: number | null = null;
  byeCseq = 0;
  byeBy: CallSide | null = null;
  byeResponseUs: number | null = null;
  byeResponseCode: number | null = null;
  byeResponseReason: string | null = null;
  /** The BYE got a 401/407: the next BYE (higher CSeq) is the one whose answer counts. */
  byeChallenged = false;
  lastSipUs: number;
  /** Last SIP packet (media activity is kept by the endpoints and streams, see CallTable). */
  lastActivityUs: number;
  /**
   * Last SIP or media activity the sweep found (µs), a lower bound of the true one: the sweep
   * recomputes it from the endpoints and streams only once it is older than the RTP timeout.
   */
  mediaActivityUs = 0;
  /** Set when the call is over and only lingers for late RTP and retransmissions. */
  closeAtUs: number | null = null;
  /** Status code of the last SIP response of the dialog (provisional ones too): the live view's `last_sip_code`. */
  lastResponseCode: number | null = null;
  callerUserAgent: string | null = null;
  calleeUserAgent: string | null = null;
  /** Final responses (a new exact-size array per response, see {@link appended}). */
  sipResponses: SipResponseRecord[] = [];
  /** DTMF from SIP INFO; a shared empty list until the first. */
  dtmf: readonly DtmfRecord[] = NO_DTMF;
  /** Media streams (a new exact-size array per stream, see {@link appended}). */
  streams: CallStream[] = [];
  /** What this call lost inside the sniffer (stream cap, malformed media, oversize SIP); created on the first loss. */
  dropped: CallDropCounts | null = null;
  /** RTCP reports seen on the call's media addresses, per reported SSRC; created on the first. */
  rtcp: RtcpSessionStats | null = null;
  /** Call-ID and start, exactly what the CDR stores: how observers name the call. */
  readonly key: CallKey;
  /** The media endpoints this call announced (their packet times tell its media activity); exact-size, see {@link appended}. */
  endpoints: MediaEndpoint[] = [];

  constructor(invite: SipEvent) {
    // Every string a call keeps is owned (see ownText): none may keep the message text alive.
    this.callId = ownText(invite.callId);
    this.startUs = invite.tsUs;
    this.transport = invite.transport;
    this.vlan = invite.vlan;
    this.callerIp = sharedText(invite.srcIp);
    this.callerPort = invite.srcPort;
    this.calleeIp = sharedText(invite.dstIp);
    this.calleePort = invite.dstPort;
    this.caller = ownText(invite.fromUser);
    this.callerDomain = sharedText(invite.fromDomain);
    this.callerName = ownTextOrNull(invite.fromName);
    this.called = ownText(invite.toUser || invite.ruriUser || '');
    this.calledDomain = sharedText(invite.toDomain);
    this.callerTag = ownTextOrNull(invite.fromTag);
    this.inviteCseq = invite.cseq;
    const startSec = Math.floor(invite.tsUs / 1_000_000);
    this.key = { callId: this.callId, startSec, startUsec: invite.tsUs - startSec * 1_000_000 };
    this.lastSipUs = invite.tsUs;
    this.lastActivityUs = invite.tsUs;
  }

  /**
   * Items past {@link MAX_SIP_RESPONSES_PER_CALL} / {@link MAX_INFO_DTMF_PER_CALL} not kept, for
   * the table's counters (which add the change each SIP message makes). One object shared by
   * every call until the first item over a cap, which gives the call its own.
   */
  private overCapCounts: { sipResponses: number; infoDtmf: number } = NO_OVER_CAP;

  /** Final responses past {@link MAX_SIP_RESPONSES_PER_CALL}, not kept. */
  get sipResponsesOverCap(): number {
    return this.overCapCounts.sipResponses;
  }

  /** SIP INFO digits past {@link MAX_INFO_DTMF_PER_CALL}, not kept. */
  get infoDtmfOverCap(): number {
    return this.overCapCounts.infoDtmf;
  }

  /** The call's own over-cap counts, made on the first item over a cap. */
  private get overCap(): { sipResponses: number; infoDtmf: number } {
    if (this.overCapCounts === NO_OVER_CAP) this.overCapCounts = { sipResponses: 0, infoDtmf: 0 };
    return this.overCapCounts;
  }

  /** Which side sent a message: by From-tag for requests, the opposite side for responses. */
  sideOf(ev: SipEvent): CallSide {
    const fromCaller =
      this.callerTag !== null && ev.fromTag !== null
        ? ev.fromTag === this.callerTag
        : ev.srcIp === this.callerIp && ev.srcPort === this.callerPort;
    // A response travels opposite to its request; the From header still names the requester.
    return ev.isRequest === fromCaller ? 'caller' : 'callee';
  }

  /**
   * The one state-transition function of a dialog (sngrep style); the table also feeds it the
   * INVITE the call was created from. Returns true when this message ended the call, so the table
   * can schedule its close.
   */
  applySip(ev: SipEvent): boolean {
    this.sipPackets++;
    this.lastSipUs = Math.max(this.lastSipUs, ev.tsUs);
    this.lastActivityUs = Math.max(this.lastActivityUs, ev.tsUs);
    return ev.isRequest ? this.applyRequest(ev) : this.applyResponse(ev);
  }

  private applyRequest(ev: SipEvent): boolean {
    const side = this.sideOf(ev);
    if (side === 'caller' && ev.userAgent !== null && this.callerUserAgent === null) this.callerUserAgent = sharedText(ev.userAgent);
    if (side === 'callee' && ev.userAgent !== null && this.calleeUserAgent === null) this.calleeUserAgent = sharedText(ev.userAgent);
    switch (ev.method) {
      case 'INVITE':
        if (ev.toTag === null && this.phase === CallPhase.Setup) {
          if (ev.cseq === this.inviteCseq) this.inviteRequests++;
          else if (ev.cseq > this.inviteCseq) {
            // A new initial INVITE after a 401/407: the authenticated attempt is the call.
            this.inviteCseq = ev.cseq;
            this.inviteRequests++;
          }
        } else if (ev.toTag !== null) this.reinvites++;
        return false;
      case 'CANCEL':
        if (this.cancelUs === null && this.phase === CallPhase.Setup) this.cancelUs = ev.tsUs;
        return false;
      case 'BYE':
        if (this.byeUs === null) {
          this.byeUs = ev.tsUs;
          this.byeCseq = ev.cseq;
          this.byeBy = side;
          this.phase = CallPhase.ByeSent;
        } else if (this.byeChallenged && ev.cseq > this.byeCseq) {
          // The BYE again with credentials after a 401/407: its answer ends the call.
          this.byeCseq = ev.cseq;
          this.byeChallenged = false;
        }
        return false;
      case 'INFO':
        this.takeInfoDtmf(ev);
        return false;
      default:
        return false;
    }
  }

  /**
   * DTMF carried in SIP INFO: `application/dtmf-relay` (`Signal=5` / `Duration=160`, the de facto
   * Cisco format) or `application/dtmf` (the bare digit).
   */
  private takeInfoDtmf(ev: SipEvent): void {
    if (ev.bodyText === null) return;
    let digit: string | null = null;
    let duration: number | null = null;
    if (ev.contentType.startsWith('application/dtmf-relay')) {
      const signal = /^\s*signal\s*=\s*([0-9A-Da-d*#])\s*$/im.exec(ev.bodyText);
      const dur = /^\s*duration\s*=\s*(\d+)\s*$/im.exec(ev.bodyText);
      digit = signal?.[1]?.toUpperCase() ?? null;
      duration = dur?.[1] !== undefined ? Number(dur[1]) : null;
    } else if (ev.contentType.startsWith('application/dtmf')) {
      const m = /^\s*([0-9A-Da-d*#])\s*$/.exec(ev.bodyText);
      digit = m?.[1]?.toUpperCase() ?? null;
    }
    if (digit === null) return;
    if (this.dtmf.length >= MAX_INFO_DTMF_PER_CALL) {
      this.overCap.infoDtmf++;
      return;
    }
    this.dtmf = appended(this.dtmf, { digit, ts: isoFromMicros(ev.tsUs), method: 'info', duration_ms: duration });
  }

  private applyResponse(ev: SipEvent): boolean {
    const side = this.sideOf(ev);
    if (side === 'callee' && ev.userAgent !== null && this.calleeUserAgent === null) this.calleeUserAgent = sharedText(ev.userAgent);
    if (side === 'caller' && ev.userAgent !== null && this.callerUserAgent === null) this.callerUserAgent = sharedText(ev.userAgent);
    const code = ev.statusCode;
    this.lastResponseCode = code;
    if (code >= 200) {
      const last = this.sipResponses[this.sipResponses.length - 1];
      // Retransmitted finals (same code, method, CSeq) are one response for the CDR.
      const retransmit = last !== undefined && last.code === code && last.cseq_method === ev.method && this.lastResponseCseq === ev.cseq;
      if (!retransmit && this.sipResponses.length >= MAX_SIP_RESPONSES_PER_CALL) this.overCap.sipResponses++;
      else if (!retransmit) {
        this.sipResponses = appended(this.sipResponses, { code, reason: sharedText(ev.reason), time: isoFromMicros(ev.tsUs), cseq_method: sharedText(ev.method), from_side: side });
        this.lastResponseCseq = ev.cseq;
      }
    }
    if (ev.method === 'INVITE' && ev.cseq === this.inviteCseq) return this.applyInviteResponse(ev);
    if (ev.method === 'BYE' && this.byeUs !== null && ev.cseq === this.byeCseq && code >= 200 && this.byeResponseUs === null) {
      if (isChallenge(code)) {
        // Not the BYE's outcome yet: an authenticated BYE (higher CSeq) follows, or Timer F runs out.
        this.byeChallenged = true;
        return false;
      }
      this.byeResponseUs = ev.tsUs;
      this.byeResponseCode = code;
      this.byeResponseReason = sharedText(ev.reason);
      this.phase = CallPhase.ByeAnswered;
      return true;
    }
    return false;
  }

  private lastResponseCseq = -1;

  private applyInviteResponse(ev: SipEvent): boolean {
    const code = ev.statusCode;
    if (code >= 180 && code < 300 && this.firstProgressUs === null) this.firstProgressUs = ev.tsUs;
    if (code < 200) return false;
    if (code < 300) {
      if (this.answerUs === null) this.answerUs = ev.tsUs;
      if (this.finalCode === null) this.setFinal(ev);
      if (this.phase === CallPhase.Setup) this.phase = CallPhase.Answered;
      return false;
    }
    if (this.finalCode !== null || this.phase !== CallPhase.Setup) return false;
    if (isChallenge(code) && this.cancelUs === null) {
      // Remember it: if no authenticated retry follows, it stays the outcome (see CallTable timeouts).
      this.challengeCode = code;
      this.challengeReason = sharedText(ev.reason);
      this.challengeUs = ev.tsUs;
      return false;
    }
    this.setFinal(ev);
    this.phase = CallPhase.Failed;
    return true;
  }

  challengeCode: number | null = null;
  challengeReason: string | null = null;
  challengeUs: number | null = null;

  private setFinal(ev: SipEvent): void {
    this.finalCode = ev.statusCode;
    this.finalReason = sharedText(ev.reason);
    this.finalUs = ev.tsUs;
  }

  /** The CDR end time and reason, by the rules of DESIGN.md's contract. */
  outcome(closedBy: EndReason | null): { endUs: number; reason: EndReason } {
    if (this.byeUs !== null) {
      if (this.byeResponseUs === null || this.byeResponseCode === null) return { endUs: this.byeUs, reason: 'bye_unconfirmed' };
      return { endUs: this.byeResponseUs, reason: this.byeResponseCode < 300 ? 'bye_confirmed' : 'bye_failed' };
    }
    if (this.answerUs === null) {
      if (this.finalUs !== null) return { endUs: this.finalUs, reason: this.cancelUs !== null ? 'cancelled' : 'rejected' };
      if (this.challengeUs !== null) return { endUs: this.challengeUs, reason: 'rejected' };
      if (this.cancelUs !== null) return { endUs: this.lastSipUs, reason: 'cancelled' };
      return { endUs: this.lastSipUs, reason: closedBy ?? 'no_answer_timeout' };
    }
    return { endUs: this.lastSipUs, reason: closedBy ?? 'capture_end' };
  }
}

/**
 * Most distinct over-cap streams remembered per call to count them (a number each, so a call's
 * drop counts stay small); their packets are counted past it too.
 */
const MAX_OVER_CAP_STREAMS_REMEMBERED = 256;

/**
 * A call's own losses inside the sniffer: the per-call side of the table's counters, so that a
 * limit that cuts a call's data is marked on that call's record (`dropped`).
 */
export class CallDropCounts {
  rtpPacketsOverCap = 0;
  rtpMalformed = 0;
  rtcpMalformed = 0;
  sipOversize = 0;
  /** Over-cap streams seen, by a hash of (SSRC, addresses, ports); capped so a flood cannot grow it without bound. */
  private readonly overCapStreams = new Set<number>();
  private overCapStreamsUncounted = false;

  /**
   * One RTP packet of a stream the per-call cap refused (or memory shedding, which caps a call at
   * the streams it already has), named by its identity hash.
   */
  addOverCap(streamHash: number): void {
    this.rtpPacketsOverCap++;
    if (this.overCapStreams.size < MAX_OVER_CAP_STREAMS_REMEMBERED) this.overCapStreams.add(streamHash);
    else if (!this.overCapStreams.has(streamHash)) this.overCapStreamsUncounted = true;
  }

  /** Distinct streams refused (a lower bound once more than MAX_OVER_CAP_STREAMS_REMEMBERED were). */
  get rtpStreamsOverCap(): number {
    return this.overCapStreams.size + (this.overCapStreamsUncounted ? 1 : 0);
  }
}
