import type { PayloadTypeMap, RtcpSessionStats } from '@callscope/rtp';
import { appended, ownText, ownTextOrNull, sharedText } from './compact-values.js';
import type { MediaStream } from './media-stream.js';
import type { CallKey } from './call-observers.js';
import type { SipEvent } from './sip-event.js';
import { isoFromMicros, type BranchProvisionalRecord, type CallSide, type DtmfRecord, type EndReason, type LinkedLegRecord, type SipResponseRecord, type SipTransport } from '@callscope/cdr-model';

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

/** Most fork branches (To-tags, INVITE destinations) a call keeps, and provisional responses per branch. */
export const MAX_BRANCHES_PER_CALL = 16;
export const MAX_PROVISIONAL_PER_BRANCH = 8;
/** Most linked legs a call names. */
export const MAX_LINKED_LEGS_PER_CALL = 16;

/** Shared by every call without linked legs (nearly all): never written. */
const NO_LINKS: readonly LinkedLegRecord[] = Object.freeze([]);

/** Shared by every call until its first To-tagged response: never written. */
const NO_BRANCHES: readonly CallBranch[] = Object.freeze([]);

/** What links a call to its other legs: made on the first identifier or link (most calls have none). */
export class CallLegs {
  /** X-CID (first seen). */
  xCid: string | null = null;
  /** RFC 7989 UUID of the caller side, and of the callee side. */
  sessionUuid: string | null = null;
  sessionRemoteUuid: string | null = null;
  /** P-Charging-Vector icid-value (first seen). */
  icid: string | null = null;
  /** Configured correlation headers seen: name as configured -> first value. */
  correlation: Record<string, string> | null = null;
  /** Other open legs linked to this one (see LegIndex). */
  linked: readonly LinkedLegRecord[] = NO_LINKS;
  /** The keys the call is indexed under in the table's leg index, to remove them at close. */
  keys: string[] | null = null;
}

/** Which leg identifiers a message taught a call (see {@link Call.learnLegIds}). */
export const LegId = { XCid: 1, Session: 2, Icid: 4, Correlation: 8 } as const;

/** An address the initial INVITE was sent to: more than one is a fork seen from the proxy's far side. */
export interface InviteDestination {
  readonly ip: string;
  readonly port: number;
  /** First INVITE of the transaction to this address (µs). */
  readonly inviteUs: number;
  /** First CANCEL to this address (µs), null if none. */
  cancelUs: number | null;
}

/** The responses of one To-tag to the initial INVITE: one branch of a fork (RFC 3261 §16.7). */
export interface CallBranch {
  readonly toTag: string;
  /** Where its first response came from. */
  readonly ip: string;
  readonly port: number;
  provisional: BranchProvisionalRecord[];
  finalCode: number | null;
  finalReason: string | null;
  finalUs: number | null;
  /** Server / User-Agent of its responses: the callee's when this branch decides the call. */
  userAgent: string | null;
}

/**
 * The response a forking proxy forwards when every branch failed (RFC 3261 §16.7 step 6): a 6xx
 * if any, else one of the lowest class, preferring the ones that tell the caller how to retry
 * (401, 407, 415, 420, 484) within 4xx; the earliest among equals.
 */
export function bestFailure(branches: readonly CallBranch[]): CallBranch | null {
  let best: CallBranch | null = null;
  for (const b of branches) {
    if (b.finalCode === null || b.finalCode < 300) continue;
    if (best === null || betterFailure(b.finalCode, best.finalCode!)) best = b;
  }
  return best;
}

/** Whether failure code `a` is forwarded rather than `b` (strictly better: the earlier wins a tie). */
function betterFailure(a: number, b: number): boolean {
  const ca = Math.floor(a / 100);
  const cb = Math.floor(b / 100);
  if (ca === 6 || cb === 6) return ca === 6 && cb !== 6;
  if (ca !== cb) return ca < cb;
  return ca === 4 && RETRY_INFO.has(a) && !RETRY_INFO.has(b);
}
const RETRY_INFO = new Set([401, 407, 415, 420, 484]);

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
  /**
   * The call's number in its table while it is open: dense from 0 (below the most calls open at
   * once), given back when the call closes and then reused (see CallTable). -1 until the table
   * numbers it. Packet observers get it with each packet to keep per-call state in arrays.
   */
  number = -1;
  /** The media endpoints this call announced (their packet times tell its media activity); exact-size, see {@link appended}. */
  endpoints: MediaEndpoint[] = [];
  /** Leg identifiers and links; null for the many calls that carry none (memory per open call). */
  legs: CallLegs | null = null;
  /**
   * Addresses the initial INVITE was sent to, in order; null while it is only the callee address
   * (nearly every call): made when a second address or a CANCEL appears.
   */
  private destinationList: InviteDestination[] | null = null;
  /** To-tagged responses to the initial INVITE, one entry per To-tag (a shared empty list until the first). */
  branches: readonly CallBranch[] = NO_BRANCHES;
  /** Branches past {@link MAX_BRANCHES_PER_CALL} not kept (for the table's counter). */
  branchesOverCap = 0;
  /** The branch that answered or whose failure decided the call. */
  chosen: CallBranch | null = null;

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

  /** Addresses the initial INVITE was sent to (the callee address alone unless it forked). */
  get destinations(): readonly InviteDestination[] {
    return this.destinationList ?? [this.calleeDestination()];
  }

  /** The destination list as an owned array, for a change. */
  private ownDestinations(): InviteDestination[] {
    return (this.destinationList ??= [this.calleeDestination()]);
  }

  /** The call's callee address as its first destination (until a list is made). */
  private calleeDestination(): InviteDestination {
    return { ip: this.calleeIp, port: this.calleePort, inviteUs: this.startUs, cancelUs: null };
  }

  /** The INVITE forked: two or more To-tags answered it, or it went to two or more addresses. */
  get forked(): boolean {
    return this.branches.length > 1 || (this.destinationList !== null && this.destinationList.length > 1);
  }

  /**
   * Takes the leg identifiers a message carries (the first value of each wins); returns the
   * {@link LegId} bits of those it learned, so the table can index and link them. Session-ID is
   * read by side: the caller's own UUID is `sessionUuid`, the callee's `sessionRemoteUuid`.
   */
  learnLegIds(ev: SipEvent, correlationNames: readonly string[]): number {
    const legs = (this.legs ??= new CallLegs());
    let learned = 0;
    if (ev.xCid !== null && legs.xCid === null) {
      legs.xCid = ownText(ev.xCid);
      learned |= LegId.XCid;
    }
    if (ev.icid !== null && legs.icid === null) {
      legs.icid = ownText(ev.icid);
      learned |= LegId.Icid;
    }
    const sid = ev.sessionId;
    if (sid !== null) {
      const [mine, theirs] = this.sideOf(ev) === 'caller' ? [sid.local, sid.remote] : [sid.remote, sid.local];
      if (mine !== null && legs.sessionUuid === null) {
        legs.sessionUuid = ownText(mine);
        learned |= LegId.Session;
      }
      if (theirs !== null && legs.sessionRemoteUuid === null) legs.sessionRemoteUuid = ownText(theirs);
    }
    const values = ev.correlation;
    if (values !== null) {
      for (let k = 0; k < values.length; k++) {
        const v = values[k];
        const name = correlationNames[k]!;
        if (v === null || v === undefined || legs.correlation?.[name] !== undefined) continue;
        legs.correlation ??= {};
        legs.correlation[name] = ownText(v);
        learned |= LegId.Correlation;
      }
    }
    return learned;
  }

  /** Names `other` as a linked leg (once); false when the list is full. */
  addLinkedLeg(leg: LinkedLegRecord): boolean {
    const legs = (this.legs ??= new CallLegs());
    for (const l of legs.linked) if (l.call_id === leg.call_id && l.start === leg.start) return true;
    if (legs.linked.length >= MAX_LINKED_LEGS_PER_CALL) return false;
    legs.linked = appended(legs.linked, leg);
    return true;
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
          if (ev.cseq === this.inviteCseq) {
            this.inviteRequests++;
            this.addDestination(ev);
          } else if (ev.cseq > this.inviteCseq) {
            // A new initial INVITE after a 401/407: the authenticated attempt is the call, and its branches.
            this.inviteCseq = ev.cseq;
            this.inviteRequests++;
            this.destinationList = ev.dstIp === this.calleeIp && ev.dstPort === this.calleePort ? null : [{ ip: sharedText(ev.dstIp), port: ev.dstPort, inviteUs: ev.tsUs, cancelUs: null }];
            this.branches = NO_BRANCHES;
            this.chosen = null;
          }
        } else if (ev.toTag !== null) this.reinvites++;
        return false;
      case 'CANCEL':
        if (this.cancelUs === null && this.phase === CallPhase.Setup) this.cancelUs = ev.tsUs;
        // A proxy cancels the other branches once one answered: each CANCEL goes to its branch's address.
        for (const d of this.ownDestinations()) if (d.cancelUs === null && d.ip === ev.dstIp && d.port === ev.dstPort) d.cancelUs = ev.tsUs;
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

  /** A further address of the initial INVITE's transaction (a fork seen behind the proxy). */
  private addDestination(ev: SipEvent): void {
    if (this.destinationList === null && ev.dstIp === this.calleeIp && ev.dstPort === this.calleePort) return; // a retransmission
    const list = this.ownDestinations();
    for (const d of list) if (d.ip === ev.dstIp && d.port === ev.dstPort) return;
    if (list.length >= MAX_BRANCHES_PER_CALL) {
      this.branchesOverCap++;
      return;
    }
    this.destinationList = appended(list, { ip: sharedText(ev.dstIp), port: ev.dstPort, inviteUs: ev.tsUs, cancelUs: null });
  }

  /** The branch of a To-tagged response to the initial INVITE (made on its first response); null past the cap. */
  private branchOf(ev: SipEvent, toTag: string): CallBranch | null {
    for (const b of this.branches) if (b.toTag === toTag) return b;
    if (this.branches.length >= MAX_BRANCHES_PER_CALL) {
      this.branchesOverCap++;
      return null;
    }
    const b: CallBranch = { toTag: ownText(toTag), ip: sharedText(ev.srcIp), port: ev.srcPort, provisional: [], finalCode: null, finalReason: null, finalUs: null, userAgent: null };
    this.branches = appended(this.branches, b);
    return b;
  }

  /** Records a response of the initial INVITE in its branch. */
  private noteBranch(ev: SipEvent): void {
    if (ev.toTag === null) return; // 100 Trying is hop-by-hop and has no tag
    const b = this.branchOf(ev, ev.toTag);
    if (b === null) return;
    if (b.userAgent === null && ev.userAgent !== null) b.userAgent = sharedText(ev.userAgent);
    const code = ev.statusCode;
    if (code < 200) {
      const last = b.provisional[b.provisional.length - 1];
      // A retransmitted provisional is one response; past the cap they are not kept.
      if (last?.code !== code && b.provisional.length < MAX_PROVISIONAL_PER_BRANCH) b.provisional = appended(b.provisional, { code, time: isoFromMicros(ev.tsUs) });
    } else if (b.finalCode === null) {
      b.finalCode = code;
      b.finalReason = sharedText(ev.reason);
      b.finalUs = ev.tsUs;
    }
  }

  /** The branch of a To-tag, null when it has none. */
  private tagged(toTag: string | null): CallBranch | null {
    if (toTag === null) return null;
    for (const b of this.branches) if (b.toTag === toTag) return b;
    return null;
  }

  /** Destinations of a forked INVITE that have not given a final response yet. */
  private pendingBranches(): number {
    let done = 0;
    for (const b of this.branches) if (b.finalCode !== null) done++;
    return (this.destinationList?.length ?? 1) - done;
  }

  private applyInviteResponse(ev: SipEvent): boolean {
    const code = ev.statusCode;
    this.noteBranch(ev);
    if (code >= 180 && code < 300 && this.firstProgressUs === null) this.firstProgressUs = ev.tsUs;
    if (code < 200) return false;
    if (code < 300) {
      if (this.answerUs === null) {
        this.answerUs = ev.tsUs;
        this.chosen = this.tagged(ev.toTag);
      }
      if (this.finalCode === null) this.setFinal(ev.statusCode, ev.reason, ev.tsUs);
      if (this.phase === CallPhase.Setup) this.phase = CallPhase.Answered;
      return false;
    }
    if (this.finalCode !== null || this.phase !== CallPhase.Setup) return false;
    let decisive: { code: number; reason: string; branch: CallBranch | null } = { code, reason: ev.reason, branch: this.tagged(ev.toTag) };
    if (this.destinationList !== null && this.destinationList.length > 1) {
      // A fork seen behind the proxy: one branch failing is not the call failing while another still rings.
      if (this.pendingBranches() > 0) return false;
      const best = bestFailure(this.branches);
      if (best !== null) decisive = { code: best.finalCode!, reason: best.finalReason!, branch: best };
    }
    this.chosen = decisive.branch;
    if (isChallenge(decisive.code) && this.cancelUs === null) {
      // Remember it: if no authenticated retry follows, it stays the outcome (see CallTable timeouts).
      this.challengeCode = decisive.code;
      this.challengeReason = sharedText(decisive.reason);
      this.challengeUs = ev.tsUs;
      return false;
    }
    // The outcome is decided by the last branch's final response: that is the call's end.
    this.setFinal(decisive.code, decisive.reason, ev.tsUs);
    this.phase = CallPhase.Failed;
    return true;
  }

  challengeCode: number | null = null;
  challengeReason: string | null = null;
  challengeUs: number | null = null;

  private setFinal(code: number, reason: string, us: number): void {
    this.finalCode = code;
    this.finalReason = sharedText(reason);
    this.finalUs = us;
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
